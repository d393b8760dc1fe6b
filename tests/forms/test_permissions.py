"""Node-level field permissions: editable, read-only and hidden instance fields on a task's form."""
from __future__ import annotations

from forms.permissions import hidden_fields, permissions, task_form
from forms.schema import check

START = {"type": "object", "required": ["amount", "reason"], "properties": {
    "amount": {"type": "string", "format": "money", "minimum": 0},
    "reason": {"type": "string"},
    "salary": {"type": "integer"},
    "lines": {"type": "array", "items": {"type": "object", "properties": {"q": {"type": "integer"}}}},
    "total": {"type": "integer", "x-computed": "sum_column(lines, 'q') + 0"},
}}
TASK = {"type": "object", "required": ["decision"], "x-field-permissions": {"amount": "editable", "salary": "hidden"},
        "x-hidden-fields": ["secret"], "properties": {
            "decision": {"type": "string", "enum": ["approve", "reject"]},
            "opinion": {"type": "string"},
            "previous": {"type": "string"}}}
DATA = {"amount": "100.00", "reason": "trip", "salary": 9000, "secret": "s", "lines": [{"q": 1}], "total": 1,
        "initiator": "wang.fang"}


def test_permissions_and_hidden_fields_read_both_keywords():
    assert permissions(TASK) == {"amount": "editable", "salary": "hidden", "secret": "hidden"}
    assert hidden_fields(TASK) == {"salary", "secret"}
    assert hidden_fields({"x-hidden-fields": ["a"]}) == {"a"}
    assert hidden_fields(None) == set() and hidden_fields({"x-hidden-fields": "a"}) == set()


def test_the_task_form_adds_editable_instance_fields_with_their_start_definition():
    form = task_form(TASK, START, DATA)
    assert list(form.schema["properties"]) == ["amount", "total", "decision", "opinion", "previous"]
    assert form.schema["properties"]["amount"] == START["properties"]["amount"]
    assert set(form.schema["required"]) == {"amount", "decision"}
    assert form.editable_instance == ["amount"] and form.prefill == {"amount": "100.00"}
    assert form.readonly == ["reason", "lines", "total"] and form.recomputed == ["total"]
    assert form.hidden == {"salary", "secret"}
    assert {"reason", "salary", "secret", "lines", "initiator"} <= form.locked
    assert not {"amount", "decision", "opinion"} & form.locked


def test_an_editable_instance_field_is_checked_like_on_the_start_form():
    form = task_form(TASK, START, DATA)
    data, errors = check(form.schema, {"decision": "approve", "amount": "-5"}, context=DATA)
    assert errors["amount"].code == "minimum"
    data, errors = check(form.schema, {"decision": "approve", "amount": "80.5"}, context=DATA)
    assert errors == {} and data["amount"] == "80.50"
    assert check(form.schema, {"decision": "approve"}, context=DATA)[1]["amount"].code == "required"


def test_posting_a_locked_field_is_refused_with_a_field_error():
    form = task_form(TASK, START, DATA)
    errors = form.refused(["reason", "salary", "lines-0-q", "lines[0].q", "opinion", "amount", "initiator"])
    assert set(errors) == {"reason", "salary", "lines", "initiator"}
    assert all(e.code == "readonly" for e in errors.values())
    assert errors["reason"].message == "this field cannot be changed at this step"


def test_task_fields_may_be_read_only_or_hidden_at_a_step():
    task = {**TASK, "x-field-permissions": {"previous": "readonly", "opinion": "hidden"}}
    form = task_form(task, START, {**DATA, "previous": "earlier opinion"})
    assert "previous" not in form.schema["properties"] and "opinion" not in form.schema["properties"]
    assert "previous" in form.readonly and "opinion" in form.hidden
    assert {"previous", "opinion"} <= form.locked


def test_an_emptied_editable_field_clears_the_instance_value():
    task = {**TASK, "x-field-permissions": {"reason": "editable"}}
    start = {**START, "required": []}
    form = task_form(task, start, DATA)
    assert form.cleared({"decision": "approve"}) == {"decision": "approve", "reason": None}
    assert form.cleared({"reason": "new"}) == {"reason": "new"}


def test_without_forms_there_is_nothing_to_edit():
    form = task_form(None, None, {"a": 1})
    assert form.schema["properties"] == {} and form.locked == {"a"}
