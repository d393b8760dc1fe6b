"""Record lists: filters, sort, search (Chinese too) and pages, in SQL on both databases."""
from __future__ import annotations

import pytest

from records import service
from records.errors import Invalid
from records.query import Filter

from .conftest import ANNA

CUSTOMERS = [
    ("华东机械有限公司", "manufacturing", "a", "500000.00"),
    ("深圳零售连锁", "retail", "b", "80000.50"),
    ("Acme Trading GmbH", "retail", "c", "120000.00"),
    ("北京教育科技", "education", "a", "9000.00"),
    ("Blue Harbor Hospital", "healthcare", None, None),
]


@pytest.fixture
def customers(core):
    with core.command() as session:
        for name, industry, level, credit in CUSTOMERS:
            data = {"name": name, "industry": industry}
            if level:
                data["level"] = level
            if credit:
                data["credit_limit"] = credit
            service.create_record(session=session, type_key="customer", data=data, actor=ANNA)
    return core


def _names(db, **kw):
    with db.query() as session:
        _view, page = service.list_records(session=session, type_key="customer", actor=ANNA, **kw)
    return [r.title for r in page.items], page


def test_filters_combine(customers):
    names, page = _names(customers, filters=[Filter("industry", "eq", "retail")], sort="name")
    assert names == ["Acme Trading GmbH", "深圳零售连锁"] and page.total == 2
    names, _ = _names(customers, filters=[Filter("level", "in", ["a", "b"]), Filter("industry", "ne", "education")],
                      sort="name")
    assert names == ["华东机械有限公司", "深圳零售连锁"]
    names, _ = _names(customers, filters=[Filter("level", "empty")])
    assert names == ["Blue Harbor Hospital"]


def test_money_compares_as_a_decimal_not_as_text(customers):
    names, _ = _names(customers, filters=[Filter("credit_limit", "gte", "100000")], sort="-credit_limit")
    assert names == ["华东机械有限公司", "Acme Trading GmbH"]
    names, _ = _names(customers, sort="credit_limit")
    assert names[:3] == ["北京教育科技", "深圳零售连锁", "Acme Trading GmbH"] and names[-1] == "Blue Harbor Hospital"


def test_search_finds_chinese_and_latin_text(customers):
    assert _names(customers, search="零售")[0] == ["深圳零售连锁"]
    assert _names(customers, search="acme")[0] == ["Acme Trading GmbH"]
    assert _names(customers, search="harbor hospital")[0] == ["Blue Harbor Hospital"]
    assert _names(customers, search="100%_")[0] == []


def test_contains_filter_and_pages(customers):
    names, _ = _names(customers, filters=[Filter("name", "contains", "科技")])
    assert names == ["北京教育科技"]
    first, page = _names(customers, sort="name", page=1, page_size=2)
    second, _ = _names(customers, sort="name", page=3, page_size=2)
    assert page.total == 5 and page.pages == 3 and len(first) == 2 and len(second) == 1


@pytest.mark.parametrize("flt, field", [
    (Filter("nope", "eq", "x"), "nope"),
    (Filter("name", "like", "x"), "name"),
    (Filter("credit_limit", "gte", "lots"), "credit_limit"),
])
def test_bad_filters_are_refused_naming_the_field(customers, flt, field):
    with pytest.raises(Invalid) as caught:
        _names(customers, filters=[flt])
    assert caught.value.details["field"] == field


def test_bad_sort_and_overlong_search_are_refused(customers):
    with pytest.raises(Invalid):
        _names(customers, sort="-nope")
    with pytest.raises(Invalid):
        _names(customers, search="x" * 500)


def test_boolean_date_and_kind_checks(core):
    with core.command() as session:
        company = service.create_record(session=session, type_key="customer", actor=ANNA, data={"name": "C"}).id
        service.create_record(session=session, type_key="contact", actor=ANNA,
                              data={"name": "甲", "primary": True, "title": "总经理", "customer": company})
        service.create_record(session=session, type_key="contact", actor=ANNA,
                              data={"name": "乙", "primary": False, "customer": company})
    with core.query() as session:
        def names(*filters, sort=None):
            _view, page = service.list_records(session=session, type_key="contact", actor=ANNA,
                                               filters=list(filters), sort=sort)
            return sorted(r.title for r in page.items)
        assert names(Filter("primary", "eq", "true")) == ["甲"]
        assert names(Filter("primary", "ne", "true")) == ["乙"]
        assert names(Filter("updated_at", "gte", "2000-01-01")) == ["乙", "甲"]
        assert names(Filter("created_at", "lte", "2000-01-01")) == []
        # The contact's own "title" field (job title) wins over the built-in display title.
        assert names(Filter("title", "eq", "总经理")) == ["甲"]
        for bad in (Filter("primary", "eq", "maybe"), Filter("primary", "gte", "true"),
                    Filter("primary", "contains", "t"),
                    Filter("updated_at", "gte", "yesterday")):
            with pytest.raises(Invalid):
                names(bad)


def test_fields_shown_only_to_some_roles_are_not_searchable(customers):
    with customers.command() as session:
        view = service.get_type_or_raise(session=session, key="customer")
        service.create_record(session=session, type_key="customer", actor=ANNA,
                              data={"name": "Secretive Ltd", "phone": "555-0199"})
        meta = {**view.meta, "field_access": {"phone": {"view": ["finance"]}}}
        service.change_type(session=session, key="customer", schema=view.schema, meta=meta, actor="admin")
    assert _names(customers, search="0199")[0] == []
    assert _names(customers, search="secretive")[0] == ["Secretive Ltd"]
