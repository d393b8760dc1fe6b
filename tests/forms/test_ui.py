"""Layout hints (x-ui), field order, widgets, widths, help, choices from lookups, values to draw again."""
from __future__ import annotations

from forms.schema import fields, render_values

FORM = {
    "type": "object", "required": ["b"], "x-ui": {"order": ["c", "b", "nope"], "columns": 3},
    "properties": {
        "a": {"type": "string", "description": "from the description"},
        "b": {"type": "string", "enum": ["x", "y"], "enumNames": ["Ex / 叉", "Why"],
              "x-ui": {"widget": "radio", "width": "full", "help": "pick one", "placeholder": "p"}},
        "c": {"type": "string", "maxLength": 1000},
        "d": {"type": "string", "x-dictionary": "industry"},
        "e": {"type": "string", "format": "user"},
        "f": {"type": "string", "format": "department", "x-ui": {"width": 5}},
        "g": {"type": "string", "format": "money", "x-currency": "USD"},
        "h": {"type": "object", "format": "date-range", "x-visible-if": {"field": "b", "equals": "x"}},
        "lines": {"type": "array", "items": {"type": "object", "required": ["q"], "properties": {
            "q": {"type": "integer"}, "who": {"type": "string", "format": "user"},
            "t": {"type": "string", "format": "money", "x-computed": "q * 2"}}}},
        "m": {"type": "array", "items": {"type": "string", "enum": ["1", "2"]}},
        "r": {"type": "string", "format": "richtext"},
        "p": {"type": "number", "format": "percent", "x-scale": 1},
    }}


def test_fields_follow_the_order_then_the_rest():
    assert [f.name for f in fields(FORM)] == ["c", "b", "a", "d", "e", "f", "g", "h", "lines", "m", "r", "p"]
    assert [f.name for f in fields({"x-order": ["b"], "properties": FORM["properties"]})][:2] == ["b", "a"]


def test_hints_give_widget_width_help_and_placeholder():
    by = {f.name: f for f in fields(FORM)}
    assert by["b"].widget == "radio" and by["b"].width == 12 and by["b"].help == "pick one"
    assert by["b"].placeholder == "p" and by["b"].required and by["b"].options[0] == ("x", "Ex / 叉")
    assert by["a"].width == 4 and by["a"].help == "from the description"  # three columns
    assert by["c"].kind == "textarea" and by["c"].width == 12
    assert by["f"].width == 5
    assert by["g"].currency == "USD" and by["g"].step == "0.01" and by["p"].step == "0.1"
    assert by["h"].condition == '{"field": "b", "equals": "x"}'
    assert by["m"].widget == "checkboxes" and by["m"].options == [("1", "1"), ("2", "2")]
    assert [c.name for c in by["lines"].columns] == ["q", "who", "t"] and by["lines"].columns[2].computed
    assert by["lines"].columns[0].required and by["lines"].cell_name(2, "q") == "lines-2-q"
    assert by["lines"].cell_key(2, "q") == "lines[2].q"


def test_choices_come_from_the_lookups(lookups):
    by = {f.name: f for f in fields(FORM, lookups)}
    assert by["d"].options == [("it", "IT / 信息技术"), ("retail", "Retail / 零售")]
    assert by["e"].options == [("li.na", "李娜 (li.na)")] and by["e"].label_for("li.na") == "李娜 (li.na)"
    assert by["f"].options[0] == ("sales", "Sales / 销售部")
    assert by["lines"].columns[1].options == [("li.na", "李娜 (li.na)")]
    assert {f.name: f for f in fields(FORM)}["d"].choices is None


def test_values_are_shown_as_text():
    by = {f.name: f for f in fields(FORM, None)}
    assert by["g"].text("1234567.50") == "1,234,567.50 USD"
    assert by["p"].text(12.5) == "12.5%"
    assert by["h"].text({"start": "2026-12-01", "end": "2026-12-03"}) == "2026-12-01 – 2026-12-03"
    assert by["b"].text("x") == "Ex / 叉" and by["m"].text(["1", "2"]) == "1, 2"
    assert str(by["r"].html('<b>x</b><script>alert(1)</script>')) == "<b>x</b>"


def test_posted_text_is_reshaped_to_draw_the_form_again():
    values = render_values(FORM, {"lines-4-q": "x", "lines-9-q": "2", "lines-9-who": "li.na", "h-start": "2026",
                                  "m": "1", "a": "keep", "r": "<b>ok</b><script>x</script>"},
                           data={"lines": [{}, {"q": 2, "t": "4.00"}]})
    assert values["lines"] == [{"q": "x", "t": ""}, {"q": "2", "who": "li.na", "t": "4.00"}]
    assert values["h"] == {"start": "2026", "end": ""} and values["m"] == ["1"] and values["a"] == "keep"
    assert values["r"] == "<b>ok</b>"
