"""Which kind of field a JSON Schema property is: the widget to draw and the rules to check."""
from __future__ import annotations

KINDS = (
    "string", "textarea", "email", "number", "integer", "money", "percent", "date", "date-time", "daterange",
    "boolean", "choice", "multichoice", "dictionary", "user", "department", "reference", "attachments",
    "richtext", "table", "json",
)
# Kinds checked by jsonschema alone; the others are checked by forms.values (their JSON type differs
# from what jsonschema keywords such as minimum would expect, e.g. money is text).
PLAIN = frozenset({"string", "textarea", "email", "number", "integer", "boolean", "choice", "multichoice",
                   "attachments", "json"})
COLUMN_KINDS = frozenset({"string", "textarea", "email", "number", "integer", "money", "percent", "date",
                          "date-time", "boolean", "choice", "dictionary", "user", "department", "reference"})
LONG_TEXT = 200  # a text field allowing more characters than this is drawn as a text area

_FORMATS = {"money": "money", "percent": "percent", "date-range": "daterange", "daterange": "daterange",
            "richtext": "richtext", "html": "richtext", "user": "user", "department": "department",
            "textarea": "textarea", "attachments": "attachments"}


def kind_of(prop: dict) -> str:
    """Return the kind of a property: an explicit x-kind, else what its type, format and x- keywords say."""
    explicit = prop.get("x-kind")
    if isinstance(explicit, str) and explicit in KINDS:
        return explicit
    kind = prop.get("type", "string")
    fmt = prop.get("format")
    if fmt == "attachments" or prop.get("x-widget") == "attachments":
        return "attachments"
    if kind == "array":
        items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
        if items.get("type") == "object":
            return "table"
        # Choices from the schema's enum, or several departments of the organisation.
        return "multichoice" if "enum" in items or items.get("format") == "department" else "json"
    if isinstance(prop.get("x-dictionary"), str):
        return "dictionary"
    if isinstance(prop.get("x-reference"), str):
        return "reference"
    if isinstance(fmt, str) and fmt in _FORMATS:
        return _FORMATS[fmt]
    if "enum" in prop:
        return "choice"
    if kind == "string" and fmt in ("date", "date-time", "email"):
        return fmt
    if kind == "string" and ((prop.get("maxLength") or 0) > LONG_TEXT or _widget(prop) == "textarea"):
        return "textarea"
    return kind if kind in ("string", "number", "integer", "boolean") else "json"


def _widget(prop: dict) -> str | None:
    ui = prop.get("x-ui")
    return ui.get("widget") if isinstance(ui, dict) else None


def columns(prop: dict) -> dict[str, dict]:
    """Return the column properties of a detail table."""
    items = prop.get("items") if isinstance(prop.get("items"), dict) else {}
    cols = items.get("properties")
    return cols if isinstance(cols, dict) else {}


def properties(schema: dict) -> dict[str, dict]:
    """Return the form's properties that are objects (anything else cannot be a field)."""
    props = (schema or {}).get("properties")
    return {k: v for k, v in props.items() if isinstance(v, dict)} if isinstance(props, dict) else {}
