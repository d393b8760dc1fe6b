"""What the renderer needs: fields in layout order with their widget, width, help, choices and state.

Layout hints live in the schema as `x-ui`, a subset of react-jsonschema-form's uiSchema:
at the top level {"order": [...], "columns": 1-4}; on a field {"widget", "width", "help", "placeholder", "rows"}.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal

from markupsafe import Markup

from . import table
from .kinds import columns, kind_of, properties
from .lookups import Lookups
from .richtext import sanitize
from .values import currency_of, scale_of, to_decimal

WIDE = ("textarea", "richtext", "table", "attachments", "multichoice", "json")
_WIDTHS = {"full": 12, "half": 6, "third": 4, "quarter": 3}
# Numbers are typed as text with a numeric keyboard: a number input empties what it cannot parse, so a
# mistyped value could not be shown back with its error, and browsers round and localise decimals.
_INPUT_TYPES = {"date": "date", "date-time": "datetime-local", "email": "email"}
_INPUT_MODES = {"number": "decimal", "integer": "numeric", "reference": "numeric", "money": "decimal",
                "percent": "decimal"}


@dataclass
class Field:
    """One field of a form as the renderer draws it; `state` is editable, readonly or hidden."""

    name: str
    title: str
    kind: str
    required: bool
    schema: dict
    choices: list[tuple] | None = None
    columns: list[Field] = field(default_factory=list)
    state: str = "editable"
    grid: int = 2  # the form's number of columns (x-ui columns)

    @property
    def options(self) -> list[tuple]:
        """Return (value, label) pairs: looked-up choices, else the enum with enumNames as labels."""
        if self.choices is not None:
            return self.choices
        source = self.schema.get("items", {}) if self.kind == "multichoice" else self.schema
        values = list(source.get("enum", []))
        names = source.get("enumNames") or source.get("x-enumNames") or self.schema.get("x-enumNames") or []
        return [(v, names[i] if i < len(names) else str(v)) for i, v in enumerate(values)]

    def label_for(self, value) -> str:
        """Return the label of a stored value (the value itself when it has none)."""
        return next((label for v, label in self.options if v == value), str(value))

    @property
    def ui(self) -> dict:
        """Return the field's x-ui hints."""
        ui = self.schema.get("x-ui")
        return ui if isinstance(ui, dict) else {}

    @property
    def help(self) -> str:
        """Return the help text: x-ui help, else the description."""
        return self.ui.get("help") or self.schema.get("description") or ""

    @property
    def placeholder(self) -> str:
        """Return the placeholder hint."""
        return self.ui.get("placeholder") or ""

    @property
    def widget(self) -> str:
        """Return the widget to draw: x-ui widget, else the kind's usual one."""
        default = {"choice": "select", "multichoice": "checkboxes", "textarea": "textarea"}.get(self.kind, "")
        return self.ui.get("widget") or default

    @property
    def width(self) -> int:
        """Return the Bootstrap column span (1-12) on medium and wider screens."""
        width = self.ui.get("width")
        if isinstance(width, int) and 1 <= width <= 12:
            return width
        if width in _WIDTHS:
            return _WIDTHS[width]
        return 12 if self.kind in WIDE or self.widget == "textarea" else 12 // self.grid

    @property
    def computed(self) -> bool:
        """Tell whether the server calculates this field (x-computed)."""
        return "x-computed" in self.schema

    @property
    def condition(self) -> str:
        """Return an object x-visible-if as JSON for the browser ('' when there is none or it is an expression)."""
        condition = self.schema.get("x-visible-if")
        return json.dumps(condition, ensure_ascii=False) if isinstance(condition, dict) else ""

    @property
    def input_type(self) -> str:
        """Return the HTML input type of a one-line field."""
        return _INPUT_TYPES.get(self.kind, "text")

    @property
    def input_mode(self) -> str:
        """Return the keyboard a phone should show (inputmode), '' for text."""
        return _INPUT_MODES.get(self.kind, "")

    @property
    def step(self) -> str:
        """Return the step of a number input: the decimal places a money or percent field keeps."""
        if self.kind in ("money", "percent"):
            return str(Decimal(1).scaleb(-scale_of(self.schema)))
        return "1" if self.kind in ("integer", "reference") else "any"

    @property
    def currency(self) -> str:
        """Return a money field's currency code."""
        return currency_of(self.schema)

    def cell_name(self, index: int, column: str) -> str:
        """Return the input name of a detail table cell."""
        return table.input_name(self.name, index, column)

    def cell_key(self, index: int, column: str) -> str:
        """Return the error key of a detail table cell."""
        return table.key(self.name, index, column)

    def text(self, value) -> str:
        """Return a stored value as text to show (labels for choices, amounts with their currency)."""
        if value is None or value == "":
            return ""
        if self.kind in ("choice", "dictionary", "user", "department"):
            return self.label_for(value).strip()  # department labels are indented for the picker
        if self.kind == "multichoice" and isinstance(value, list):
            return ", ".join(self.label_for(v) for v in value)
        if self.kind == "money":
            number = to_decimal(value)
            return f"{number:,} {self.currency}" if number is not None else str(value)
        if self.kind == "percent":
            return f"{value}%"
        if self.kind == "daterange" and isinstance(value, dict):
            return f"{value.get('start', '')} – {value.get('end', '')}"
        if self.kind == "date-time":
            return str(value).replace("T", " ")
        if self.kind == "reference":
            label = next((text for option, text in (self.choices or ()) if option == value), None)
            return label or f"#{value}"
        if isinstance(value, (dict, list)):
            return json.dumps(value, ensure_ascii=False)
        return str(value)

    def html(self, value) -> Markup:
        """Return rich text cleaned again for showing (stored data may come from scripts, not only forms)."""
        return Markup(sanitize(value)) if isinstance(value, str) else Markup("")


def _order(schema: dict) -> list[str]:
    ui = schema.get("x-ui") if isinstance(schema.get("x-ui"), dict) else {}
    listed = ui.get("order") or schema.get("x-order") or []
    props = properties(schema)
    first = [n for n in listed if isinstance(n, str) and n in props]
    return list(dict.fromkeys(first + list(props)))


def _choices(kind: str, prop: dict, lookups: Lookups | None) -> list[tuple] | None:
    if lookups is None:
        return None
    if kind == "dictionary":
        return lookups.dictionary_options(prop["x-dictionary"])
    if kind == "user":
        return lookups.user_options()
    if kind == "department" or (kind == "multichoice" and (prop.get("items") or {}).get("format") == "department"):
        return lookups.department_options()  # one department, or several (an array of department codes)
    if kind == "reference":
        # Optional in the protocol: a picker lists the records one may choose when there are few enough.
        options = getattr(lookups, "record_options", None)
        return options(prop["x-reference"]) if options else None
    return None


def fields(schema: dict, lookups: Lookups | None = None) -> list[Field]:
    """List the top-level fields in layout order, with choices looked up when lookups are given."""
    schema = schema or {}
    ui = schema.get("x-ui") if isinstance(schema.get("x-ui"), dict) else {}
    grid = ui.get("columns") if ui.get("columns") in (1, 2, 3, 4) else 2
    required = set(schema.get("required") or [])
    props = properties(schema)
    out = []
    for name in _order(schema):
        prop = props[name]
        kind = kind_of(prop)
        made = Field(name, prop.get("title", name), kind, name in required, prop,
                     choices=_choices(kind, prop, lookups), grid=grid)
        if kind == "table":
            items = prop.get("items", {})
            made.columns = [Field(c, cp.get("title", c), kind_of(cp), c in set(items.get("required") or []), cp,
                                  choices=_choices(kind_of(cp), cp, lookups))
                            for c, cp in columns(prop).items() if isinstance(cp, dict)]
        out.append(made)
    return out


def render_values(schema: dict, posted: dict, data: dict | None = None) -> dict:
    """Reshape posted text the way stored data looks (rows, ranges, lists) to draw the form again.

    Computed fields (and columns) take their values from the checked data, the only place they exist.
    """
    values = dict(posted)
    data = data or {}
    for name, prop in properties(schema).items():
        kind = kind_of(prop)
        if "x-computed" in prop:
            values[name] = data.get(name, "")
        elif kind == "table":
            values[name] = table.posted_rows(name, prop, posted)
            checked = data.get(name) if isinstance(data.get(name), list) else []
            computed = [c for c, cp in columns(prop).items() if "x-computed" in cp]
            for index, row in enumerate(values[name]):
                if computed and index < len(checked):
                    row.update({c: checked[index].get(c, "") for c in computed})
        elif kind == "daterange":
            values[name] = {part: posted.get(f"{name}-{part}", "") for part in ("start", "end")}
        elif kind == "richtext" and isinstance(posted.get(name), str):
            # The editor puts this back into the page as HTML: only ever the cleaned text.
            values[name] = sanitize(posted[name])
        elif kind == "multichoice" and name in posted:
            values[name] = posted[name] if isinstance(posted[name], list) else [posted[name]]
    return values
