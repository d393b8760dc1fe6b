"""Every field kind through the HTML start form: drawn accessibly, read, checked, stored, refused by field."""
from __future__ import annotations

import re

import pytest

from instances import service

from .form_fixtures import CLAIM, expense, instance_id_of  # noqa: F401  (expense: a fixture)

pytestmark = pytest.mark.usefixtures("expense")

START = "/processes/expense_claim/start"


def _data(db, instance_id: int) -> dict:
    with db.query() as session:
        return dict(service.get_instance_or_raise(session=session, instance_id=instance_id).data)


def test_the_start_form_draws_every_kind_accessibly(login):
    html = login("wang.fang").get(START).get_data(as_text=True)
    for name in ("title", "manager", "department", "departure", "advance", "tax_rate", "urgent", "customer",
                 "notes", "receipts", "cost_center"):
        assert f'<label class="form-label" for="f-{name}"' in html or f'for="f-{name}"' in html, name
    # Help text is tied to its input; a radio group and a date range are fieldsets with a legend.
    assert re.search(r'id="f-notes"[^>]*aria-describedby="f-notes-help"', html)
    assert 'id="f-notes-help"' in html and "Bold, lists and links are kept" in html
    assert re.search(r'<fieldset[^>]*>\s*<legend[^>]*>Kind', html) and 'type="radio"' in html
    assert 'name="trip-start"' in html and 'name="trip-end"' in html and 'for="f-trip-start"' in html
    # Money shows its currency and is typed as text (no float rounding in the browser); percent shows %.
    assert re.search(r'name="advance"[^>]*inputmode="decimal"', html) and ">CNY</span>" in html
    assert '<span class="input-group-text">%</span>' in html
    # Pickers: active users offered in a list, departments as a select, the rich text editor hook.
    assert 'list="f-manager-options"' in html and '<option value="li.na">' in html
    assert '<option value="sales"' in html and "data-fd-richtext" in html
    # The detail table: headers, one blank row, a row template for the script, add/remove buttons.
    assert 'name="lines-0-item"' in html and 'name="lines-__index__-item"' in html
    assert "data-fd-add-row" in html and "data-fd-remove-row" in html and "<th scope=\"col\"" in html
    # Computed fields are shown read-only and never posted; conditional fields carry their condition.
    assert re.search(r'id="f-total"[^>]*readonly', html) and 'name="total"' not in html
    assert 'data-fd-visible-if="{&#34;field&#34;: &#34;kind&#34;, &#34;equals&#34;: &#34;other&#34;}"' in html
    assert '<script src="/static/js/forms.js" defer></script>' in html
    assert 'aria-required="true"' in html


def test_a_valid_claim_is_read_checked_and_stored_in_canonical_form(login, db):
    instance_id = instance_id_of(login("wang.fang").post(START, data=CLAIM))
    data = _data(db, instance_id)
    assert data["lines"] == [
        {"day": "2026-12-01", "item": "高铁", "category": "ticket", "quantity": 2, "unit_price": "553.50",
         "amount": "1107.00"},
        {"item": "Hotel", "category": "hotel", "quantity": 2, "unit_price": "1200.00", "amount": "2400.00"}]
    assert data["total"] == "3507.00" and data["trip_days"] == 3  # the posted "1" and "99" were ignored
    assert data["trip"] == {"start": "2026-12-01", "end": "2026-12-03"} and data["departure"] == "2026-12-01T08:30"
    assert data["advance"] == "500.00" and data["tax_rate"] == 6.5 and data["urgent"] is True
    assert data["tags"] == ["client", "training"] and data["department"] == "sales"
    assert data["notes"] == "<p>Visit <b>ACME</b></p>"
    assert "other_reason" not in data


def test_errors_are_shown_by_field_and_by_row_and_column(login):
    response = login("wang.fang").post(START, data={
        **CLAIM, "title": "", "advance": "-1", "tax_rate": "120", "trip-end": "2026-11-30", "departure": "soon",
        "lines-0-quantity": "two", "lines-3-unit_price": "12.345", "lines-5-item": "x" * 201, "tags": ["client", "x"],
        "manager": "nobody", "department": "moon", "customer": "abc"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'data-testid="form-errors"' in html
    expected = {"title": "This field is required.", "advance": "Must be at least 0.",
                "tax_rate": "Must be at most 100.", "trip": "The end must not be before the start.",
                "departure": "Enter a date and time", "lines[0].quantity": "Enter a whole number.",
                "lines[1].unit_price": "At most 2 decimal places.", "lines[2].item": "At most 200 characters.",
                "lines[2].quantity": "This field is required.", "tags": "Choose one of the listed values.",
                "manager": "There is no active user nobody.", "department": "There is no department moon.",
                "customer": "Enter a whole number."}
    for key, message in expected.items():
        found = re.search(rf'data-testid="error-{re.escape(key)}">([^<]*)<', html)
        assert found and message in found.group(1), (key, found and found.group(1))
    # What was typed comes back, in the same rows the errors name.
    assert 'name="lines-0-quantity" value="two"' in html and 'name="lines-1-unit_price" value="12.345"' in html
    assert re.search(r'name="lines-0-quantity"[^>]*aria-describedby="f-lines-0-quantity-error"', html)
    assert 'id="f-lines-0-quantity-error"' in html and 'aria-invalid="true"' in html


def test_messages_are_in_chinese_for_chinese_readers(login):
    client = login("wang.fang", lang="zh_CN")
    html = client.post(START, data={**CLAIM, "advance": "1.234", "trip-end": "2026-11-01", "manager": "ghost",
                                    "lines-0-unit_price": "abc"}).get_data(as_text=True)
    assert "最多保留 2 位小数" in html and "结束日期不能早于开始日期" in html
    assert "没有在职用户 ghost" in html and "请输入金额" in html


def test_conditional_fields_are_required_only_when_shown_and_dropped_when_hidden(login, db):
    client = login("wang.fang")
    other = client.post(START, data={**CLAIM, "kind": "other"})
    assert other.status_code == 422 and 'data-testid="error-other_reason"' in other.get_data(as_text=True)
    instance_id = instance_id_of(client.post(START, data={**CLAIM, "kind": "meal", "other_reason": "dropped"}))
    data = _data(db, instance_id)
    assert "trip" not in data and "trip_days" not in data and "other_reason" not in data
    instance_id = instance_id_of(client.post(START, data={**CLAIM, "kind": "other", "other_reason": "gift"}))
    assert _data(db, instance_id)["other_reason"] == "gift"


def test_a_user_who_left_is_not_accepted(login, app, db):
    from org import service as org

    with db.command() as session:
        org.set_status(session=session, user=org.get_user_by_name(session=session, username="liu.yang"),
                       status="left")
    response = login("wang.fang").post(START, data={**CLAIM, "manager": "liu.yang"})
    assert response.status_code == 422 and "There is no active user liu.yang." in response.get_data(as_text=True)


def test_the_detail_table_needs_a_row_and_keeps_rows_the_browser_added(login, db):
    client = login("wang.fang")
    rows = {k: v for k, v in CLAIM.items() if not k.startswith("lines-")}
    empty = client.post(START, data=rows)
    assert empty.status_code == 422 and 'data-testid="error-lines"' in empty.get_data(as_text=True)
    added = {f"lines-{i}-{c}": v for i in (2, 11, 40) for c, v in (("item", f"row {i}"), ("quantity", "1"),
                                                                  ("unit_price", "0.10"))}
    data = _data(db, instance_id_of(client.post(START, data={**rows, **added})))
    assert [r["item"] for r in data["lines"]] == ["row 2", "row 11", "row 40"] and data["total"] == "0.30"


def test_garbage_posts_never_give_a_server_error(login):
    client = login("wang.fang")
    for junk in ({"lines-0-quantity": "9" * 5000}, {"lines-999999-item": "x"}, {"advance": "1e999999"},
                 {"tax_rate": "NaN"}, {"trip-start": "\x00"}, {"departure": "2026-02-30T25:61"},
                 {"customer": "-1"}, {"tags": ["a"] * 500}, {"notes": "<" * 30000}, {"title": "😀" * 5000},
                 {"kind": ["travel", "meal"]}, {"lines-0-unit_price": "１２３"}, {"urgent": ["on", "off"]}):
        response = client.post(START, data={**CLAIM, **junk})
        assert response.status_code in (302, 400, 422), (junk, response.status_code)


def test_forms_js_is_served_from_our_own_origin(client):
    response = client.get("/static/js/forms.js")
    assert response.status_code == 200 and "javascript" in response.mimetype
    assert "data-fd-add-row" in response.get_data(as_text=True)


def test_a_deployed_form_that_breaks_the_dialect_gives_a_clear_page_not_a_server_error(login, db):
    import json

    from definitions import service as definitions
    from definitions.bundle import read_path

    from .form_fixtures import EXPENSE
    files = read_path(EXPENSE)
    form = json.loads(files["expense_form.json"])
    form["properties"]["more_lines"] = form["properties"]["lines"]  # a second detail table
    files["expense_form.json"] = json.dumps(form).encode()
    with db.command() as session:
        definitions.deploy(session=session, files=files, actor="admin")
    response = login("wang.fang").get(START)
    assert response.status_code == 422 and "at most one detail table" in response.get_data(as_text=True)


def test_the_instance_page_shows_every_kind_as_text(login):
    client = login("wang.fang")
    page = client.get(f"/instances/{instance_id_of(client.post(START, data=CLAIM))}").get_data(as_text=True)
    summary = page[page.index('data-testid="summary"'):]
    summary = summary[:summary.index("</dl>")]
    assert "3,507.00 CNY" in summary and "2026-12-01 – 2026-12-03" in summary and "李娜 (li.na)" in summary
    assert "<td class=\"\">高铁</td>" in summary and "<p>Visit <b>ACME</b></p>" in summary
    assert "{'" not in summary and "<script>" not in summary
