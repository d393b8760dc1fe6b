"""Checks of the form dialect on top of JSON Schema: x- keywords, one detail table, column kinds."""
from __future__ import annotations

from collections.abc import Mapping

from engine.errors import ExpressionError
from engine.expressions import evaluate

from .computed import FUNCTIONS
from .conditions import problem
from .errors import SchemaProblem
from .kinds import COLUMN_KINDS, KINDS, columns, kind_of, properties

STATES = ("editable", "readonly", "hidden")
WIDGETS = ("text", "textarea", "select", "radio", "checkboxes", "switch")
WIDTHS = ("full", "half", "third", "quarter")


class _Reached(Exception):
    """Raised by _Probe: the expression compiled and started reading variables."""


class _Probe(Mapping):
    # Evaluating against this mapping stops at the first variable read, so only compile errors
    # (syntax, forbidden constructs, unknown functions) come back with no _Reached behind them.
    def __getitem__(self, key):
        raise _Reached(key)

    def __iter__(self):
        return iter(())

    def __len__(self):
        return 0


def expression_problem(expression) -> str | None:
    """Say why an x-computed or x-visible-if expression cannot work, or None when it compiles."""
    if not isinstance(expression, str) or not expression.strip():
        return "an expression must be non-empty text"
    try:
        evaluate(expression, _Probe(), functions=FUNCTIONS)
    except ExpressionError as exc:
        return None if isinstance(exc.__cause__, _Reached) else exc.reason
    return None


def check(schema: dict, name: str) -> None:
    """Raise SchemaProblem naming the field when a form breaks the dialect's rules."""
    props = properties(schema)
    tables = [field for field, prop in props.items() if kind_of(prop) == "table"]
    if len(tables) > 1:
        raise SchemaProblem(f"{name}: a form has at most one detail table; found {', '.join(tables)}")
    for field, prop in props.items():
        _check_field(prop, f"{name}: field '{field}'")
        for column, cprop in columns(prop).items() if field in tables else ():
            where = f"{name}: column '{column}' of table '{field}'"
            if not isinstance(cprop, dict) or kind_of(cprop) not in COLUMN_KINDS:
                raise SchemaProblem(f"{where} must be a simple field (text, number, money, date, choice, "
                                    f"user, department or reference), not {kind_of(cprop) if isinstance(cprop, dict) else cprop!r}")
            _check_field(cprop, where)
    _check_permissions(schema, name)
    ui = schema.get("x-ui")
    if ui is not None and (not isinstance(ui, dict) or not isinstance(ui.get("order", []), list)
                           or ui.get("columns", 2) not in (1, 2, 3, 4)):
        raise SchemaProblem(f"{name}: x-ui must be an object with an optional order list and columns 1 to 4")


def _check_field(prop: dict, where: str) -> None:
    kind = kind_of(prop)
    if "x-kind" in prop and prop["x-kind"] not in KINDS:
        raise SchemaProblem(f"{where}: x-kind must be one of {', '.join(KINDS)}")
    if kind == "money" and prop.get("type", "string") != "string":
        raise SchemaProblem(f"{where}: money is stored as decimal text; give it type string")
    if kind == "daterange" and prop.get("type", "object") != "object":
        raise SchemaProblem(f"{where}: a date range is an object {{start, end}}; give it type object")
    if kind == "reference" and prop.get("type", "integer") != "integer":
        raise SchemaProblem(f"{where}: a record reference holds the record's id; give it type integer")
    for keyword in ("x-dictionary", "x-reference", "x-currency"):
        if keyword in prop and not (isinstance(prop[keyword], str) and 0 < len(prop[keyword]) <= 100):
            raise SchemaProblem(f"{where}: {keyword} must be a name")
    if "x-computed" in prop:
        why = expression_problem(prop["x-computed"])
        if why:
            raise SchemaProblem(f"{where}: x-computed: {why}")
    condition = prop.get("x-visible-if")
    if condition is not None:
        why = expression_problem(condition) if isinstance(condition, str) else problem(condition)
        if why:
            raise SchemaProblem(f"{where}: x-visible-if: {why}")
    _check_ui(prop.get("x-ui"), where)


def _check_ui(ui, where: str) -> None:
    if ui is None:
        return
    if not isinstance(ui, dict):
        raise SchemaProblem(f"{where}: x-ui must be an object")
    if "widget" in ui and ui["widget"] not in WIDGETS:
        raise SchemaProblem(f"{where}: x-ui widget must be one of {', '.join(WIDGETS)}")
    width = ui.get("width")
    if width is not None and width not in WIDTHS and not (isinstance(width, int) and 1 <= width <= 12):
        raise SchemaProblem(f"{where}: x-ui width must be 1 to 12 or one of {', '.join(WIDTHS)}")
    for key in ("help", "placeholder"):
        if key in ui and not isinstance(ui[key], str):
            raise SchemaProblem(f"{where}: x-ui {key} must be text")


def _check_permissions(schema: dict, name: str) -> None:
    perms = schema.get("x-field-permissions")
    if perms is not None and (not isinstance(perms, dict) or any(v not in STATES for v in perms.values())):
        raise SchemaProblem(f"{name}: x-field-permissions maps field names to one of {', '.join(STATES)}")
    hidden = schema.get("x-hidden-fields")
    if hidden is not None and (not isinstance(hidden, list) or not all(isinstance(h, str) for h in hidden)):
        raise SchemaProblem(f"{name}: x-hidden-fields must be a list of field names")
