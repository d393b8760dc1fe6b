"""Parse and validate a set of BPMN/DMN files into runnable process specs."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser

from . import dialect
from .errors import EngineError, ModelError
from .services import OperationRegistry
from .specs import CountersignParallelTask, CountersignSequentialTask, OperationServiceTask
from .xmlsafe import parse_xml

BPMN_SUFFIXES = (".bpmn", ".bpmn20.xml", ".bpmn2", ".xml")
DMN_SUFFIXES = (".dmn",)


class _CountersignLoops:
    PARALLEL_MI_CLASS = CountersignParallelTask
    SEQUENTIAL_MI_CLASS = CountersignSequentialTask


class OperationTaskParser(_CountersignLoops, SpiffTaskParser):
    """Read a service task's operation from the Spiff or the Camunda/Flowable/Activiti dialect."""

    def create_task(self):
        extensions = self.parse_extensions()
        operator = extensions.get("serviceTaskOperator")
        node = self.node
        params: dict[str, str] = {}
        if operator:
            name = operator.get("name")
            params = {key: value.get("value") for key, value in (operator.get("parameters") or {}).items()}
            result = operator.get("resultVariable")
        else:
            name = _vendor_operation(node)
            params = _vendor_fields(node)
            result = dialect.extension_attr(node, "resultVariable")
        return self.spec_class(self.spec, self.bpmn_id, operation_name=name, operation_params=params,
                               result_variable=result, **self.bpmn_attributes)


def _vendor_operation(node) -> str | None:
    kind = dialect.extension_attr(node, "type")
    if kind == "external":
        return dialect.extension_attr(node, "topic")
    if kind:
        return kind
    for attr in ("class", "delegateExpression", "expression"):
        value = dialect.extension_attr(node, attr)
        if value:
            return dialect.unwrap(value)
    return None


def _vendor_fields(node) -> dict[str, str]:
    fields = {}
    ext = node.find(dialect.bpmn("extensionElements"))
    if ext is None:
        return fields
    for item in ext.iter():
        tag = dialect.local_name(item)
        if tag == "field" and item.get("name"):
            value = item.get("expression") or item.get("stringValue")
            if value is None:
                child = next((c for c in item if dialect.local_name(c) in ("string", "expression")), None)
                value = child.text if child is not None else None
                if child is not None and dialect.local_name(child) == "string":
                    value = repr(value or "")
            elif item.get("stringValue") is not None:
                value = repr(value)
            fields[item.get("name")] = value or "None"
        elif tag == "inputParameter" and item.get("name"):
            fields[item.get("name")] = item.text if item.text and item.text.strip().startswith(("$", "#")) \
                else repr(item.text or "")
    return fields


def _loop_parsers() -> dict:
    overrides = {}
    for tag, (parser_class, spec_class) in SpiffBpmnParser.OVERRIDE_PARSER_CLASSES.items():
        wrapped = type(f"Flowdesk{parser_class.__name__}", (_CountersignLoops, parser_class), {})
        overrides[tag] = (wrapped, spec_class)
    overrides[full_tag("serviceTask")] = (OperationTaskParser, OperationServiceTask)
    return overrides


class FlowdeskParser(SpiffBpmnParser):
    """SpiffWorkflow's parser with countersign tallies and named service operations."""

    OVERRIDE_PARSER_CLASSES = _loop_parsers()


@dataclass
class CompiledModel:
    """Everything parsed from one deployment: specs, element metadata and validation issues."""

    process_ids: list[str]
    primary_process_id: str | None
    specs: dict = field(default_factory=dict)
    subprocess_specs: dict = field(default_factory=dict)
    elements: dict = field(default_factory=dict)
    issues: list = field(default_factory=list)
    names: dict = field(default_factory=dict)

    @property
    def executable(self) -> bool:
        """Tell whether the model has a process that can be started."""
        return bool(self.process_ids)

    @property
    def blocking_issues(self) -> list:
        """Return the issues that prevent starting the process."""
        return [issue for issue in self.issues if issue["severity"] == "error"]

    def spec_for(self, process_id: str | None = None):
        """Return the (spec, subprocess specs) pair for a process id, the primary one by default."""
        process_id = process_id or self.primary_process_id
        if process_id not in self.specs:
            raise ModelError(f"the model has no executable process '{process_id}'")
        return self.specs[process_id], self.subprocess_specs[process_id]

    def report(self) -> dict:
        """Return the validation report as a JSON-safe mapping."""
        return {"executable": self.executable, "process_ids": self.process_ids,
                "primary_process_id": self.primary_process_id, "issues": self.issues}


def _model_error(exc: Exception, file_name: str | None) -> ModelError:
    if isinstance(exc, ModelError):
        return exc
    if isinstance(exc, ValidationException):
        reason = str(exc.args[0]) if exc.args else str(exc)
        line = exc.line_number if isinstance(getattr(exc, "line_number", None), int) else None
        return ModelError(reason.rstrip("."), element_id=getattr(exc, "id", None) or None,
                          file_name=getattr(exc, "file_name", None) or file_name, line=line)
    if isinstance(exc, EngineError):
        return ModelError(exc.reason, element_id=exc.element_id, file_name=exc.file_name or file_name)
    # SpiffWorkflow surfaces many model faults as KeyError/IndexError/AttributeError: name the file at least.
    element = None
    match = re.search(r"'([A-Za-z_][\w.-]*)'", str(exc))
    if match:
        element = match.group(1)
    return ModelError(f"cannot be parsed ({type(exc).__name__}: {exc})", file_name=file_name,
                      element_id=element)


def _is_dmn(name: str) -> bool:
    return name.lower().endswith(DMN_SUFFIXES)


def _is_bpmn(name: str) -> bool:
    return name.lower().endswith(BPMN_SUFFIXES)


def _primary(process_ids: list[str], parser, preferred: str | None) -> str | None:
    if preferred:
        if preferred not in process_ids:
            raise ModelError(f"the model has no executable process '{preferred}'")
        return preferred
    called = set()
    for pid in process_ids:
        try:
            called.update(parser.get_process_parser(pid).get_calledElements() or [])
        except Exception:  # a broken call activity is reported when its spec is built
            continue
    top = [pid for pid in process_ids if pid not in called]
    return (top or process_ids or [None])[0]


def compile_model(files: dict[str, bytes], *, operations: OperationRegistry | None = None,
                  primary: str | None = None) -> CompiledModel:
    """Parse and validate BPMN/DMN files; raise ModelError naming the file and element when refused."""
    parser = FlowdeskParser()
    issues: list[dict] = []
    elements: dict[str, dict] = {}
    names: dict[str, str] = {}
    bpmn_files = [name for name in files if _is_bpmn(name)]
    if not bpmn_files:
        raise ModelError("no BPMN file found (expected .bpmn or .bpmn20.xml)")
    for name in sorted(files):
        if not (_is_bpmn(name) or _is_dmn(name)):
            continue
        tree = parse_xml(files[name], name)
        try:
            if _is_dmn(name):
                parser.add_dmn_xml(tree.getroot(), filename=name)
                continue
            if dialect.local_name(tree.getroot()) != "definitions":
                raise ModelError("root element is not bpmn:definitions", file_name=name)
            dialect.normalize(tree, name, issues)
            for element_id, info in dialect.element_metadata(tree, name).items():
                if element_id in elements and elements[element_id]["file"] != name:
                    issues.append(dict(severity="warning", file=name, element_id=element_id,
                                       reason="id is also used in " + elements[element_id]["file"]))
                elements[element_id] = info
            for process in tree.getroot().iter(dialect.bpmn("process")):
                names[process.get("id")] = process.get("name") or process.get("id")
            parser.add_bpmn_xml(tree.getroot(), filename=name)
        except Exception as exc:
            raise _model_error(exc, name) from None
    try:
        process_ids = parser.get_process_ids()
        chosen = _primary(process_ids, parser, primary)
        specs, subs = {}, {}
        for pid in process_ids:
            specs[pid] = parser.get_spec(pid)
            subs[pid] = parser.get_subprocess_specs(pid)
    except Exception as exc:
        raise _model_error(exc, None) from None
    model = CompiledModel(process_ids=process_ids, primary_process_id=chosen, specs=specs,
                          subprocess_specs=subs, elements=elements, issues=issues, names=names)
    _check_runtime(model, operations)
    return model


def _check_runtime(model: CompiledModel, operations: OperationRegistry | None) -> None:
    seen = set()
    for pid in model.process_ids:
        all_specs = [model.specs[pid], *model.subprocess_specs[pid].values()]
        for spec in all_specs:
            for task_spec in spec.task_specs.values():
                bpmn_id = getattr(task_spec, "bpmn_id", None)
                if not bpmn_id or (spec.name, bpmn_id) in seen:
                    continue
                seen.add((spec.name, bpmn_id))
                info = model.elements.get(bpmn_id, {})
                where = dict(file=info.get("file"), element_id=bpmn_id)
                if isinstance(task_spec, OperationServiceTask):
                    if not task_spec.operation_name:
                        model.issues.append(dict(severity="error", reason="service task names no operation",
                                                 **where))
                    elif operations is not None and not operations.knows(task_spec.operation_name):
                        model.issues.append(dict(
                            severity="error", **where,
                            reason=f"unknown service operation '{task_spec.operation_name}'"))
                script = getattr(task_spec, "script", None)
                script_format = info.get("script_format", "")
                if script is not None and script_format not in dialect.PYTHON_SCRIPT_FORMATS:
                    model.issues.append(dict(
                        severity="error", **where,
                        reason=f"script format '{script_format}' is not supported; scripts run as Python"))
                elif script is not None:
                    from . import sandbox  # imported late: most models have no scripts

                    try:
                        sandbox.check_script(script)
                    except EngineError as exc:
                        model.issues.append(dict(severity="error", reason=f"script: {exc.reason}",
                                                 line=exc.line, **where))
