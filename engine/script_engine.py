"""Route SpiffWorkflow's expressions, scripts and service calls through Flowdesk's safe implementations."""
from __future__ import annotations

import json
import re

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine

from . import expressions
from .errors import EngineError, ExpressionError, ScriptError, ServiceError
from .services import OperationRegistry

# Camunda and Flowable timers are written as bare ISO-8601 literals (PT5M, R3/PT1H, 2026-01-01T09:00).
_ISO_LITERAL = re.compile(
    r"^(R\d*/)?(P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?"
    r"|\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?)(/.*)?$")


class FlowdeskScriptEngine(PythonScriptEngine):
    """A script engine that never runs model code with Python's own eval or exec."""

    def __init__(self, operations: OperationRegistry, *, time_limit: float = 2.0, memory_limit_mb: int = 256):
        super().__init__(environment=None)
        self.operations = operations
        self.time_limit = time_limit
        self.memory_limit_mb = memory_limit_mb

    def validate(self, expression):
        """Check an expression compiles; raise SyntaxError as SpiffWorkflow's DMN engine expects."""
        try:
            expressions.compile_expression(expression)
        except EngineError as exc:
            raise SyntaxError(exc.reason) from None

    def evaluate(self, task, expression, external_context=None):
        """Evaluate an expression against a task's data."""
        text = expression.strip() if isinstance(expression, str) else expression
        if isinstance(text, str):
            bare = text[2:-1].strip() if text[:2] in ("${", "#{") and text.endswith("}") else text
            if _ISO_LITERAL.match(bare):
                return bare
        context = dict(task.data)
        if external_context:
            context.update(external_context)
        try:
            return expressions.evaluate(text, context)
        except EngineError as exc:
            raise ExpressionError(exc.reason, element_id=_element(task), details=exc.details) from None

    def execute(self, task, script, external_context=None):
        """Run a script task's code in the sandbox and replace the task data with its result."""
        from . import sandbox  # started lazily: most processes never run a script

        data = dict(task.data)
        if external_context:
            data.update(external_context)
        try:
            result = sandbox.run_script(script, data, time_limit=self.time_limit,
                                        memory_limit_mb=self.memory_limit_mb)
        except EngineError as exc:
            raise ScriptError(exc.reason, element_id=_element(task), line=exc.line) from None
        for key in external_context or {}:
            result.pop(key, None)
        task.data.clear()
        task.data.update(result)
        return True

    def call_service(self, task, operation_name=None, operation_params=None, **_):
        """Call a registered operation for a service task."""
        try:
            result = self.operations.call(operation_name, operation_params or {}, task.data)
        except EngineError as exc:  # details (e.g. the form field an operation refuses) reach the page
            raise ServiceError(exc.reason, element_id=_element(task), details=exc.details) from None
        # Spiff's stock service task expects a JSON text; ours takes the value itself.
        return result if not isinstance(result, bytes | bytearray) else json.loads(result)


def _element(task) -> str | None:
    return getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name
