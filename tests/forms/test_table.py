"""The detail table: rows posted as lines-2-amount, per-row checks, errors keyed lines[2].amount."""
from __future__ import annotations

from forms.schema import check, clean
from forms.table import MAX_ROWS

LINES = {
    "type": "array", "title": "Lines", "minItems": 1, "maxItems": 5,
    "items": {"type": "object", "required": ["item", "quantity"], "properties": {
        "item": {"type": "string", "maxLength": 20},
        "quantity": {"type": "integer", "minimum": 1},
        "price": {"type": "string", "format": "money"},
        "amount": {"type": "string", "format": "money", "x-computed": "quantity * price"},
        "day": {"type": "string", "format": "date"},
        "paid": {"type": "boolean"},
        "owner": {"type": "string", "format": "user"},
        "kind": {"type": "string", "enum": ["a", "b"]},
    }},
}
FORM = {"type": "object", "required": ["lines"], "properties": {
    "lines": LINES, "total": {"type": "string", "format": "money", "x-computed": "sum_column(lines, 'amount')"}}}


def test_posted_rows_are_read_in_order_with_gaps_and_blank_rows_dropped():
    data, errors = check(FORM, {
        "lines-7-item": "B", "lines-7-quantity": "1", "lines-7-price": "10",
        "lines-0-item": "A", "lines-0-quantity": "2", "lines-0-price": "2.50", "lines-0-paid": "on",
        "lines-3-item": " ", "lines-3-quantity": "", "lines-3-price": "",  # a blank row the browser sent
        "lines-x-item": "junk", "lines-1-nope": "junk", "other-0-item": "junk"})
    assert errors == {}
    assert data["lines"] == [
        {"item": "A", "quantity": 2, "price": "2.50", "paid": True, "amount": "5.00"},
        {"item": "B", "quantity": 1, "price": "10.00", "paid": False, "amount": "10.00"}]
    assert data["total"] == "15.00"


def test_errors_name_the_row_and_the_column():
    data, errors = check(FORM, {
        "lines-0-item": "A", "lines-0-quantity": "two", "lines-0-price": "1",
        "lines-5-item": "B" * 21, "lines-5-quantity": "0", "lines-5-price": "1.999", "lines-5-day": "31/12/2026",
        "lines-9-price": "3"})
    assert errors["lines[0].quantity"].code == "integer"
    assert errors["lines[1].item"].code == "maxLength"
    assert errors["lines[1].quantity"].code == "minimum"
    assert errors["lines[1].price"].code == "scale"
    assert errors["lines[1].day"].code == "date"
    assert errors["lines[2].item"].code == "required" and errors["lines[2].quantity"].code == "required"
    assert "lines" not in errors


def test_an_empty_required_table_and_too_many_rows_are_refused():
    assert check(FORM, {})[1]["lines"].code == "required"
    assert check(FORM, {"lines-0-item": ""})[1]["lines"].code == "required"
    many = {f"lines-{i}-item": "x" for i in range(6)} | {f"lines-{i}-quantity": "1" for i in range(6)}
    assert check(FORM, many)[1]["lines"].code == "maxItems"
    assert clean(FORM, {"lines": []})[1]["lines"].code == "minItems"


def test_json_rows_are_checked_cell_by_cell_and_junk_is_named():
    data, errors = clean(FORM, {"lines": [
        {"item": "A", "quantity": 1, "price": "1", "amount": "999"},  # a posted computed cell is recomputed
        "not a row",
        {"item": {"nested": ["junk"]}, "quantity": "3", "price": 2.5, "colour": "red"},
        {"item": "D", "quantity": 1, "kind": "z", "paid": "yes"},
        None,
    ], "total": "1000000"})
    assert data["lines"][0]["amount"] == "1.00" and data["total"] == "1.00"
    assert errors["lines[1]"].code == "row"
    assert errors["lines[2].item"].code == "type"
    assert errors["lines[2].quantity"].code == "integer"
    assert errors["lines[2].price"].code == "money"
    assert errors["lines[2].colour"].code == "unknown"
    assert errors["lines[3].kind"].code == "enum"
    assert errors["lines[3].paid"].code == "type"
    assert errors["lines[4]"].code == "row"
    assert clean(FORM, {"lines": {"0": {}}})[1]["lines"].code == "type"
    assert clean(FORM, {"lines": "x" * 10})[1]["lines"].code == "type"


def test_the_row_cap_holds_whatever_max_items_says():
    form = {"type": "object", "properties": {"lines": {**LINES, "maxItems": 10**9}}}
    rows = [{"item": "x", "quantity": 1}] * (MAX_ROWS + 1)
    assert clean(form, {"lines": rows})[1]["lines"].code == "maxItems"


def test_cells_are_checked_with_the_lookups(lookups):
    data, errors = clean(FORM, {"lines": [{"item": "A", "quantity": 1, "owner": "li.na"},
                                          {"item": "B", "quantity": 1, "owner": "ghost"}]}, lookups=lookups)
    assert list(errors) == ["lines[1].owner"] and errors["lines[1].owner"].code == "user"
