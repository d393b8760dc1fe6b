"""Parse and validate a set of BPMN/DMN files into runnable process specs."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask as SubWorkflowTaskMixin
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser

from . import dialect, policies, specs
from .errors import EngineError, ModelError
from .services import OperationRegistry, default_registry
from .specs import CountersignParallelTask, CountersignSequentialTask, OperationServiceTask
from .xmlsafe import parse_xml

BPMN_SUFFIXES = (".bpmn", ".bpmn20.xml", ".bpmn2", ".xml")
DMN_SUFFIXES = (".dmn",)


class _CountersignLoops:
    PARALLEL_MI_CLASS = CountersignParallelTask
    SEQUENTIAL_MI_CLASS = CountersignSequentialTask

    def _add_multiinstance_task(self, loop_characteristics):
        super()._add_multiinstance_task(loop_characteristics)
        value = dialect.countersign_property(self.node)
        # Checked by _check_countersign before SpiffWorkflow reads the file, so the value parses here.
        self.task.countersign_rule = specs.CountersignRule.parse(value) if value is not None else None


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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.unresolved_decisions: list[dict] = []

    def get_engine(self, decision_ref, node):
        """Return the decision engine for a business rule task, or None (recorded) if it is not deployed."""
        if decision_ref in self.dmn_parsers:
            return super().get_engine(decision_ref, node)
        # Like a service task naming no operation, this parses but cannot run: keep it, block its start.
        reason = (f"decision '{decision_ref}' is not part of this deployment" if decision_ref
                  else "business rule task names no decision (calledDecisionId or decisionRef)")
        self.unresolved_decisions.append(dict(element_id=node.get("id"), reason=reason))
        return None


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

    def start_messages(self) -> list[str]:
        """Name the messages whose arrival starts the primary process."""
        if self.primary_process_id not in self.specs:
            return []
        names = set()
        for task_spec in self.specs[self.primary_process_id].task_specs.values():
            definition = getattr(task_spec, "event_definition", None)
            if type(task_spec).__name__ == "StartEvent" and definition is not None:
                for item in getattr(definition, "event_definitions", None) or [definition]:
                    if isinstance(item, MessageEventDefinition) and item.name:
                        names.add(item.name)
        return sorted(names)

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
                "primary_process_id": self.primary_process_id, "issues": self.issues,
                "start_messages": self.start_messages()}


@dataclass
class _Deployment:
    """The state gathered while reading one bundle's files."""

    parser: FlowdeskParser = field(default_factory=FlowdeskParser)
    issues: list = field(default_factory=list)
    elements: dict = field(default_factory=dict)
    names: dict = field(default_factory=dict)
    locations: dict = field(default_factory=dict)  # element id -> (file name, line)
    process_files: dict = field(default_factory=dict)
    decision_files: dict = field(default_factory=dict)


_ELEMENT_REPR = re.compile(r"<Element \{[^}]*\}(\w+) at 0x[0-9a-f]+>")


def _node_from_traceback(exc: BaseException):
    """Find the innermost XML element with an id that SpiffWorkflow was reading when it failed."""
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    for frame in reversed(frames):
        candidates = (frame.f_locals.get("node"), getattr(frame.f_locals.get("self"), "node", None))
        for node in candidates:
            if isinstance(node, etree._Element) and node.get("id"):
                return node
    return None


def _describe(exc: BaseException) -> str:
    detail = f"missing attribute or reference {exc.args[0]!r}" if isinstance(exc, KeyError) and exc.args \
        else f"{type(exc).__name__}: {exc}"
    return f"SpiffWorkflow cannot read this model ({detail})"


def _model_error(exc: Exception, file_name: str | None, deployment: _Deployment | None = None) -> ModelError:
    if isinstance(exc, ModelError):
        return exc
    locations = deployment.locations if deployment else {}
    if isinstance(exc, EngineError):
        return ModelError(exc.reason, element_id=exc.element_id, file_name=exc.file_name or file_name,
                          line=exc.line)
    reported_file = None
    if isinstance(exc, ValidationException):
        reason = str(exc.args[0]) if exc.args else str(exc)
        element = getattr(exc, "id", None) or None
        reported_file = getattr(exc, "file_name", None) or None
        cause = exc.__context__
        if cause is not None and reason == repr(cause):  # Spiff's task parser wraps bare errors as repr()
            reason = _describe(cause)
    else:
        # SpiffWorkflow reports many model faults as bare KeyError/IndexError/AttributeError/TypeError;
        # the element it was reading is the useful part, so recover it from the traceback.
        node = _node_from_traceback(exc)
        element = node.get("id") if node is not None else None
        reason = _describe(exc)
    reason = _ELEMENT_REPR.sub(r"<\1>", reason).strip().rstrip(".")
    known_file, line = locations.get(element, (None, None)) if element else (None, None)
    file_name = reported_file or known_file or file_name
    if file_name is None and deployment and len(set(deployment.process_files.values())) == 1:
        file_name = next(iter(deployment.process_files.values()))
    return ModelError(reason, element_id=element, file_name=file_name, line=line)


def _is_dmn(name: str) -> bool:
    return name.lower().endswith(DMN_SUFFIXES)


def _is_bpmn(name: str) -> bool:
    return name.lower().endswith(BPMN_SUFFIXES)


def _primary(process_ids: list[str], subprocess_specs: dict, preferred: str | None) -> str | None:
    if preferred:
        return preferred
    # The process nothing else calls is the one a user starts.
    called = {name for subs in subprocess_specs.values() for name in subs}
    top = [pid for pid in process_ids if pid not in called]
    return (top or process_ids or [None])[0]


def _documentation_only(root) -> bool:
    """Tell whether no process in a file is executable (SpiffWorkflow treats a missing flag as true)."""
    return all(p.get("isExecutable", "true") != "true" for p in root.iter(dialect.bpmn("process")))


def _add_bpmn(deployment: _Deployment, name: str, tree) -> None:
    root = tree.getroot()
    if dialect.local_name(root) != "definitions":
        raise ModelError("root element is not bpmn:definitions", file_name=name)
    seen: set[str] = set()
    for node in root.iter(f"{{{dialect.BPMN_NS}}}*"):
        element_id = node.get("id")
        if not element_id:
            continue
        # SpiffWorkflow silently lets the last of two same-id elements win, which changes the flow.
        if element_id in seen:
            raise ModelError("id is used by more than one element in this file", element_id=element_id,
                             file_name=name, line=node.sourceline)
        seen.add(element_id)
        deployment.locations.setdefault(element_id, (name, node.sourceline))
    _check_countersign(root, name)
    deployment.issues.extend(_flow_reference_issues(root, name))
    dialect.normalize(tree, name, deployment.issues)
    for element_id, info in dialect.element_metadata(tree, name).items():
        if element_id in deployment.elements and deployment.elements[element_id]["file"] != name:
            other = deployment.elements[element_id]["file"]
            deployment.issues.append(dict(severity="warning", file=name, element_id=element_id,
                                          reason=f"id is also used in {other}"))
        deployment.elements[element_id] = info
    for process in root.iter(dialect.bpmn("process")):
        deployment.names[process.get("id")] = process.get("name") or process.get("id")
        deployment.process_files.setdefault(process.get("id"), name)
    try:
        deployment.parser.add_bpmn_xml(root, filename=name)
    except Exception as exc:
        if not _documentation_only(root):
            raise _model_error(exc, name, deployment) from None
        # Nothing here can be started, so a construct SpiffWorkflow cannot read only costs the diagram
        # its executable form; the file is still kept as documentation.
        error = _model_error(exc, name, deployment)
        deployment.issues.append(dict(severity="warning", file=name, element_id=error.element_id,
                                      reason=f"kept as documentation only: {error.reason}"))


def _flow_reference_issues(root, file_name: str) -> list[dict]:
    """Name every incoming/outgoing reference to a sequence flow that does not exist, as an error.

    SpiffWorkflow follows sequenceFlow elements only: a task whose outgoing flow is missing silently ends
    its path there, so the rest of the route never runs. Such a model is kept but cannot be started.
    """
    issues = []
    for process in root.iter(dialect.bpmn("process")):
        flows = {f.get("id") for f in process.iter(dialect.bpmn("sequenceFlow"))}
        for node in process.iter():
            for ref in (*node.findall(dialect.bpmn("incoming")), *node.findall(dialect.bpmn("outgoing"))):
                name = (ref.text or "").strip()
                if name and name not in flows:
                    kind = dialect.local_name(ref)
                    issues.append(dict(severity="error", file=file_name, element_id=node.get("id"),
                                       line=ref.sourceline, reason=f"its {kind} flow '{name}' is not a sequence "
                                                                   "flow of the process (a missing or misspelt "
                                                                   "flow would end the route here)"))
    return issues


def _check_countersign(root, file_name: str) -> None:
    """Refuse a countersign rule that is unknown, malformed, misplaced or competes with a condition."""
    for node in root.iter(f"{{{dialect.BPMN_NS}}}*"):
        reason = specs.countersign_problem(node)
        if reason:
            raise ModelError(reason, element_id=node.get("id"), file_name=file_name, line=node.sourceline)


def _add_dmn(deployment: _Deployment, name: str, tree) -> None:
    parser = deployment.parser
    try:
        before = set(parser.dmn_parsers)
        for decision in tree.getroot():
            decision_id = decision.get("id") if dialect.local_name(decision) == "decision" else None
            if decision_id in deployment.decision_files:
                other = deployment.decision_files[decision_id]
                raise ModelError(f"decision id is also defined in {other}", element_id=decision_id,
                                 file_name=name, line=decision.sourceline)
            if decision_id:
                deployment.decision_files[decision_id] = name
        parser.add_dmn_xml(tree.getroot(), filename=name)
        # Parse decision tables now, so a broken table is refused at deployment instead of at run time.
        for decision_id in set(parser.dmn_parsers) - before:
            parser.dmn_parsers[decision_id].parse()
    except Exception as exc:
        raise _model_error(exc, name, deployment) from None


def _subprocess_specs(parser, spec, missing: list) -> dict:
    """Collect the specs a process calls; record call activities whose target is not deployed."""
    used: dict = {}
    pending = [spec]
    while pending:
        current = pending.pop()
        for task_spec in current.task_specs.values():
            if not isinstance(task_spec, SubWorkflowTaskMixin) or task_spec.spec in used:
                continue
            sub = parser.get_spec(task_spec.spec, required=False)
            if sub is None:
                missing.append((task_spec.bpmn_id, task_spec.spec))
                continue
            used[task_spec.spec] = sub
            pending.append(sub)
    return used


def compile_model(files: dict[str, bytes], *, operations: OperationRegistry | None = None,
                  primary: str | None = None) -> CompiledModel:
    """Parse and validate BPMN/DMN files; raise ModelError naming the file and element when refused."""
    if not any(_is_bpmn(name) for name in files):
        raise ModelError("no BPMN file found (expected .bpmn or .bpmn20.xml)")
    deployment = _Deployment()
    # DMN first: business rule tasks look their decision up while the BPMN is parsed.
    for name in sorted(files, key=lambda n: (not _is_dmn(n), n)):
        if _is_dmn(name):
            _add_dmn(deployment, name, parse_xml(files[name], name))
        elif _is_bpmn(name):
            _add_bpmn(deployment, name, parse_xml(files[name], name))
    parser = deployment.parser
    try:
        process_ids = parser.get_process_ids()
    except Exception as exc:
        raise _model_error(exc, None, deployment) from None
    if primary and primary not in process_ids:
        raise ModelError(f"the model has no executable process '{primary}'")
    specs, subs, missing = {}, {}, []
    for pid in process_ids:
        try:
            specs[pid] = parser.get_spec(pid)
            subs[pid] = _subprocess_specs(parser, specs[pid], missing)
        except Exception as exc:
            raise _model_error(exc, deployment.process_files.get(pid), deployment) from None
    chosen = _primary(process_ids, subs, primary)
    issues = deployment.issues
    for item in parser.unresolved_decisions:
        issues.append(dict(severity="error", file=deployment.locations.get(item["element_id"], (None,))[0],
                           **item))
    for element_id, called in dict.fromkeys(missing):
        file_name = deployment.locations.get(element_id, (None, None))[0]
        issues.append(dict(severity="error", file=file_name, element_id=element_id,
                           reason=f"calls process '{called}', which is not part of this deployment"))
    for element_id, reason in policies.problems(deployment.elements):
        info = deployment.elements[element_id]
        raise ModelError(reason, element_id=element_id, file_name=info.get("file"), line=info.get("line"))
    model = CompiledModel(process_ids=process_ids, primary_process_id=chosen, specs=specs,
                          subprocess_specs=subs, elements=deployment.elements, issues=issues,
                          names=deployment.names)
    # Without a registry the built-in operations are what a runtime would call, so check against those.
    _check_runtime(model, operations if operations is not None else default_registry())
    return model


def _check_runtime(model: CompiledModel, operations: OperationRegistry | None) -> None:
    seen = set()
    for pid in model.process_ids:
        for spec in [model.specs[pid], *model.subprocess_specs[pid].values()]:
            for task_spec in spec.task_specs.values():
                bpmn_id = getattr(task_spec, "bpmn_id", None)
                if not bpmn_id or (spec.name, bpmn_id) in seen:
                    continue
                seen.add((spec.name, bpmn_id))
                info = model.elements.get(bpmn_id, {})
                where = dict(file=info.get("file"), element_id=bpmn_id)
                if isinstance(task_spec, OperationServiceTask):
                    _check_operation(model, task_spec, operations, where)
                _check_scripts(model, task_spec, info.get("script_format", ""), where)


def _check_operation(model: CompiledModel, task_spec, operations: OperationRegistry | None,
                     where: dict) -> None:
    name = task_spec.operation_name
    if not name:
        model.issues.append(dict(severity="error", reason="service task names no operation", **where))
    elif operations is not None and not operations.knows(name):
        model.issues.append(dict(severity="error", reason=f"unknown service operation '{name}'", **where))


def _check_scripts(model: CompiledModel, task_spec, script_format: str, where: dict) -> None:
    script = getattr(task_spec, "script", None)
    if script is not None and script_format not in dialect.PYTHON_SCRIPT_FORMATS:
        reason = f"script format '{script_format}' is not supported; scripts run as Python"
        model.issues.append(dict(severity="error", reason=reason, **where))
        script = None
    # Spiff pre- and post-scripts run through the same sandbox as script tasks, so check them alike.
    scripts = [("script", script), ("preScript", getattr(task_spec, "prescript", None)),
               ("postScript", getattr(task_spec, "postscript", None))]
    for label, text in scripts:
        if not text:
            continue
        from . import sandbox  # imported late: most models have no scripts

        try:
            sandbox.check_script(text)
        except EngineError as exc:
            model.issues.append(dict(severity="error", reason=f"{label}: {exc.reason}", line=exc.line,
                                     **where))
