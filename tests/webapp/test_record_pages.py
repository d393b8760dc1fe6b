"""The record pages: the CRM menu, lists, a customer's page with related lists, the form, conflicts and the bin."""
from __future__ import annotations

import re

import pytest

from instances.actors import SYSTEM, Actor
from records import service as records


@pytest.fixture
def crm(app, db):
    """Core types plus one customer with two contacts, created by wang.fang."""
    wang = Actor("wang.fang")
    with db.command() as session:
        records.install_core_types(session=session)
        customer = records.create_record(session=session, type_key="customer", actor=wang, data={
            "name": "华东机械有限公司", "industry": "manufacturing", "level": "a", "credit_limit": "500000.00"})
        for name in ("李明", "王强"):
            records.create_record(session=session, type_key="contact", actor=wang,
                                  data={"name": name, "customer": customer.id, "mobile": "13800000000"})
    return customer.id


def test_the_menu_lists_types_with_counts(login, crm):
    page = login("wang.fang").get("/records/").get_data(as_text=True)
    assert 'data-testid="type-customer"' in page and "Customer" in page
    assert re.search(r'type-contact".*?badge[^>]*>2<', page, re.S)


def test_a_customer_page_shows_fields_and_related_contacts(login, crm):
    client = login("li.na", lang="zh_CN")
    page = client.get(f"/records/customer/{crm}").get_data(as_text=True)
    assert "华东机械有限公司" in page and "制造业" in page and "500,000.00" in page
    related = page[page.index('data-testid="related-contact-customer"'):]
    assert "李明" in related and "王强" in related and 'data-testid="count">2<' in related
    assert "/records/contact/new?customer=" in page


def test_list_search_filter_sort_and_columns(login, crm):
    client = login("wang.fang")
    with_search = client.get("/records/contact/?q=李明").get_data(as_text=True)
    assert "李明" in with_search and "王强" not in with_search
    by_customer = client.get(f"/records/contact/?f.customer={crm}&sort=-name").get_data(as_text=True)
    assert by_customer.index("王强") < by_customer.index("李明")
    chosen = client.get("/records/customer/?col=name&col=credit_limit").get_data(as_text=True)
    header = chosen[chosen.index('data-testid="record-list"'):chosen.index("</thead>")]
    assert "Credit limit" in header and "Industry" not in header
    bad = client.get("/records/customer/?f.nope=1")
    assert bad.status_code == 200 and "not a field" in bad.get_data(as_text=True)


def test_create_from_the_form_and_errors_by_field(login, crm):
    client = login("wang.fang")
    refused = client.post("/records/contact/new", data={"name": "", "customer": "999999", "email": "x"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and 'data-testid="error-name"' in body and 'data-testid="error-email"' in body
    created = client.post("/records/contact/new", data={"name": "赵六", "customer": str(crm)})
    assert created.status_code == 302
    page = client.get(created.headers["Location"]).get_data(as_text=True)
    assert "赵六" in page and "华东机械有限公司" in page


def test_a_reference_to_a_missing_record_is_refused(login, crm):
    response = login("wang.fang").post("/records/contact/new", data={"name": "赵六", "customer": "999999"})
    assert response.status_code == 422 and 'data-testid="error-customer"' in response.get_data(as_text=True)


def test_a_stale_edit_shows_the_conflict_and_keeps_the_input(login, crm, db):
    client = login("wang.fang")
    form = client.get(f"/records/customer/{crm}/edit").get_data(as_text=True)
    lock = re.search(r'name="lock_version" value="(\d+)"', form).group(1)
    with db.command() as session:
        records.update_record(session=session, record_id=crm, data={"phone": "021-1"}, actor=Actor("li.na", frozenset({"role:manager"})),
                              lock_version=int(lock))
    response = client.post(f"/records/customer/{crm}/edit", data={"name": "我的新名字", "lock_version": lock})
    body = response.get_data(as_text=True)
    assert response.status_code == 409 and 'data-testid="conflict"' in body and "我的新名字" in body
    with db.query() as session:
        assert records.get_record_or_raise(session=session, record_id=crm, actor=SYSTEM)[0].title == "华东机械有限公司"


def test_edit_saves_and_history_shows_the_change(login, crm):
    client = login("wang.fang")
    form = client.get(f"/records/customer/{crm}/edit").get_data(as_text=True)
    lock = re.search(r'name="lock_version" value="(\d+)"', form).group(1)
    response = client.post(f"/records/customer/{crm}/edit", data={"name": "华东机械集团", "industry": "manufacturing",
                                                                  "level": "b", "credit_limit": "500000.00",
                                                                  "lock_version": lock})
    assert response.status_code == 302
    page = client.get(f"/records/customer/{crm}").get_data(as_text=True)
    history = page[page.index('data-testid="record-history"'):]
    assert "华东机械集团" in history and "Level" in history
    # A choice changes by its labels, not its stored codes, in the reader's language.
    assert "A key account</del> → B major" in history
    chinese = login("wang.fang", lang="zh_CN").get(f"/records/customer/{crm}").get_data(as_text=True)
    assert "A 重点客户</del> → B 主要客户" in chinese[chinese.index('data-testid="record-history"'):]


def test_others_cannot_edit_or_delete(login, crm):
    client = login("emma.chen")
    assert client.get(f"/records/customer/{crm}/edit").status_code == 403
    assert client.post(f"/records/customer/{crm}/delete").status_code == 403
    assert 'data-testid="edit"' not in client.get(f"/records/customer/{crm}").get_data(as_text=True)


def test_recycle_bin_round_trip(login, crm):
    client = login("wang.fang")
    assert client.post(f"/records/customer/{crm}/delete").status_code == 302
    assert "华东机械" not in client.get("/records/customer/").get_data(as_text=True)
    assert "华东机械" in client.get("/records/customer/?deleted=1").get_data(as_text=True)
    assert 'data-testid="restore"' in client.get(f"/records/customer/{crm}").get_data(as_text=True)
    assert client.post(f"/records/customer/{crm}/restore").status_code == 302
    assert "华东机械" in client.get("/records/customer/").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/records/nope/", "/records/customer/999999", "/records/contact/{crm}",
                                  "/records/customer/999999/edit"])
def test_unknown_types_guessed_ids_and_wrong_types_are_404(login, crm, path):
    assert login("wang.fang").get(path.format(crm=crm)).status_code == 404


def test_a_field_kept_for_managers_is_hidden_and_locked_for_others(login, crm, db):
    with db.command() as session:
        view = records.get_type_or_raise(session=session, key="customer")
        meta = {**view.meta, "field_access": {"credit_limit": {"view": ["manager"], "edit": ["admin"]}}}
        records.change_type(session=session, key="customer", schema=view.schema, meta=meta, actor="admin")
    staff = login("wang.fang")
    for path in (f"/records/customer/{crm}", "/records/customer/?col=name&col=credit_limit",
                 f"/records/customer/{crm}/edit"):
        body = staff.get(path).get_data(as_text=True)
        assert "500,000.00" not in body and "500000.00" not in body and "Credit limit" not in body, path
    assert "not a field" in staff.get("/records/customer/?f.credit_limit__gte=1").get_data(as_text=True)
    form = staff.get(f"/records/customer/{crm}/edit").get_data(as_text=True)
    lock = re.search(r'name="lock_version" value="(\d+)"', form).group(1)
    response = staff.post(f"/records/customer/{crm}/edit", data={"name": "华东机械有限公司", "credit_limit": "1.00",
                                                                 "lock_version": lock})
    assert response.status_code == 302  # the locked field is not read from the post
    manager = login("li.na")
    page = manager.get(f"/records/customer/{crm}").get_data(as_text=True)
    assert "500,000.00" in page
    assert 'data-testid="readonly-credit_limit"' in manager.get(f"/records/customer/{crm}/edit").get_data(as_text=True)


def test_an_order_with_lines_computes_amounts_and_total(login, crm, db):
    client = login("wang.fang")
    response = client.post("/records/order/new", data={
        "number": "SO-9", "customer": str(crm), "status": "draft",
        "lines-0-item": "主轴轴承", "lines-0-quantity": "3", "lines-0-unit_price": "1200.5",
        "lines-1-item": "密封圈", "lines-1-quantity": "10", "lines-1-unit_price": "8"})
    assert response.status_code == 302, response.get_data(as_text=True)
    record_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with db.query() as session:
        record, _view = records.get_record_or_raise(session=session, record_id=record_id, actor=SYSTEM)
    assert [line["amount"] for line in record.data["lines"]] == ["3601.50", "80.00"]
    assert record.data["total"] == "3681.50"
    page = client.get(f"/records/customer/{crm}").get_data(as_text=True)
    assert "SO-9" in page[page.index('data-testid="related-order-customer"'):]
    bad = client.post("/records/order/new", data={"number": "SO-10", "customer": str(crm),
                                                  "lines-0-item": "x", "lines-0-quantity": "-1",
                                                  "lines-0-unit_price": "abc"})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert 'data-testid="error-lines[0].quantity"' in body and 'data-testid="error-lines[0].unit_price"' in body


def test_export_follows_the_list_filters_and_the_export_permission(login, crm, db):
    import csv
    import io

    from openpyxl import load_workbook

    from audit import service as audit
    from org import grants
    client = login("wang.fang")
    page = client.get(f"/records/contact/?f.customer={crm}").get_data(as_text=True)
    assert f"/records/contact/export.xlsx?f.customer={crm}" in page
    response = client.get(f"/records/contact/export.csv?f.customer={crm}&q=李明")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert response.status_code == 200 and rows[0][:2] == ["No.", "Name"] and len(rows) == 2
    assert rows[1][1] == "李明" and "华东机械有限公司" in rows[1]
    book = load_workbook(io.BytesIO(client.get("/records/contact/export.xlsx").data))
    assert sorted(row[1] for row in book.active.iter_rows(min_row=2, values_only=True)) == ["李明", "王强"]
    # Exporting is its own right: liu.yang may read the contacts but export only his own (none).
    other = login("liu.yang")
    assert "李明" in other.get("/records/contact/").get_data(as_text=True)
    exported = list(csv.reader(io.StringIO(other.get("/records/contact/export.csv").get_data(as_text=True)
                                           .lstrip("\ufeff"))))
    assert len(exported) == 1
    with db.command() as session:
        grants.add_grant(session=session, role="employee", resource="records:contact", action="export",
                         scope="all", actor="admin")
    exported = list(csv.reader(io.StringIO(other.get("/records/contact/export.csv").get_data(as_text=True)
                                           .lstrip("\ufeff"))))
    assert len(exported) == 3
    with db.query() as session:
        entries, _ = audit.search(session, action="export", object_type="records:contact")
    assert len(entries) == 4 and {e.actor for e in entries} == {"wang.fang", "liu.yang"}
    assert client.get("/records/contact/export.pdf").status_code == 404
    assert client.get("/records/contact/export.csv?f.nope=1").status_code == 400


def test_a_reference_is_picked_by_title_when_there_are_few_records(login, crm):
    page = login("wang.fang").get("/records/contact/new").get_data(as_text=True)
    picker = page[page.index('id="f-customer"'):]
    picker = picker[:picker.index("</select>")]
    assert f'<option value="{crm}"' in picker and "华东机械有限公司" in picker
    shown = login("wang.fang").get(f"/records/contact/new?customer={crm}").get_data(as_text=True)
    assert f'<option value="{crm}" selected' in shown
