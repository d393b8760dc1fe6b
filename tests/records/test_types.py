"""Record types: definition checks, the core types, and schema changes that must not break stored records."""
from __future__ import annotations

import copy

import pytest

from forms.schema import FormError
from records import service
from records.errors import Duplicate, Incompatible, Invalid, NotFound

from .conftest import ANNA

BOOK = {"type": "object", "required": ["title"],
        "properties": {"title": {"type": "string", "maxLength": 200}, "pages": {"type": "integer", "minimum": 1}}}


def test_core_types_install_once_in_reference_order(core):
    with core.command() as session:
        assert service.install_core_types(session=session) == []
        keys = {v.key for v in service.list_types(session=session)}
    assert {"customer", "contact", "lead", "contract", "order", "payment", "service_request", "complaint",
            "satisfaction_survey", "knowledge_article", "campaign", "partner", "activity"} <= keys


def test_order_has_a_detail_table_and_payment_covers_both_directions(core):
    with core.query() as session:
        order = service.get_type_or_raise(session=session, key="order")
        payment = service.get_type_or_raise(session=session, key="payment")
    assert order.schema["properties"]["lines"]["items"]["type"] == "object"
    assert payment.schema["properties"]["direction"]["enum"] == ["receivable", "payable"]


@pytest.mark.parametrize("key, schema, meta, field", [
    ("Bad Key", BOOK, None, "key"),
    ("book", {"type": "object", "properties": {}}, None, "schema"),
    ("book", {"type": "object", "properties": {"bad name": {"type": "string"}}}, None, "schema.bad name"),
    ("book", {"type": "object", "properties": {"a": {"type": "nonsense"}}}, None, "schema"),
    ("book", BOOK, {"title_field": "missing"}, "meta.title_field"),
    ("book", BOOK, {"list_columns": ["title", "nope"]}, "meta.list_columns"),
    ("book", BOOK, {"default_sort": "-nope"}, "meta.default_sort"),
    ("book", {"type": "object", "properties": {"c": {"type": "integer", "x-reference": "nowhere"}}}, None, "schema.c"),
    ("book", {"type": "object", "properties": {
        "a": {"type": "array", "items": {"type": "object", "properties": {"x": {"type": "string"}}}},
        "b": {"type": "array", "items": {"type": "object", "properties": {"y": {"type": "string"}}}}}}, None, "schema"),
])
def test_bad_definitions_are_refused_naming_the_field(db, key, schema, meta, field):
    with pytest.raises(Invalid) as caught, db.command() as session:
        service.define_type(session=session, key=key, name="Book", schema=schema, meta=meta, actor="admin")
    assert caught.value.details["field"] == field
    with db.query() as session:
        assert service.list_types(session=session) == []


def test_duplicate_key_is_refused(db):
    with db.command() as session:
        service.define_type(session=session, key="book", name="书", schema=BOOK, actor="admin")
    with pytest.raises(Duplicate), db.command() as session:
        service.define_type(session=session, key="book", name="书", schema=BOOK, actor="admin")


def _book_type(db, records=3):
    with db.command() as session:
        service.define_type(session=session, key="book", name="书", name_en="Book", schema=BOOK, actor="admin")
        for i in range(records):
            service.create_record(session=session, type_key="book", data={"title": f"Book {i}"}, actor=ANNA)


def test_an_optional_new_field_applies_at_once_and_old_records_stay_valid(people):
    db = people
    _book_type(db)
    schema = copy.deepcopy(BOOK)
    schema["properties"]["isbn"] = {"type": "string", "maxLength": 20}
    with db.command() as session:
        view, report = service.change_type(session=session, key="book", schema=schema, actor="admin")
    assert view.version.version == 2 and report.checked == 3 and report.failing == 0
    with db.command() as session:
        _view, page = service.list_records(session=session, type_key="book", actor=ANNA)
        record = page.items[0]
        service.update_record(session=session, record_id=record.id, data={"isbn": "978-7"}, actor=ANNA,
                              lock_version=record.lock_version)
    with db.query() as session:
        assert [v.version for v in service.list_versions(session=session, key="book")] == [2, 1]


def test_a_new_required_field_is_refused_with_the_reason_then_applied_with_confirmed_defaults(people):
    db = people
    _book_type(db)
    schema = copy.deepcopy(BOOK)
    schema["properties"]["language"] = {"type": "string", "enum": ["zh", "en"]}
    schema["required"] = ["title", "language"]
    with pytest.raises(Incompatible) as caught, db.command() as session:
        service.change_type(session=session, key="book", schema=schema, actor="admin")
    assert caught.value.details["failing"] == 3 and caught.value.details["examples"][0]["field"] == "language"
    assert "3 of 3" in caught.value.message
    with pytest.raises(Incompatible) as caught, db.command() as session:  # defaults given but not confirmed
        service.change_type(session=session, key="book", schema=schema, actor="admin", defaults={"language": "zh"})
    assert caught.value.details["filled"] == 3 and caught.value.details["failing"] == 0
    with db.query() as session:
        assert service.get_type_or_raise(session=session, key="book").version.version == 1
    with db.command() as session:
        service.change_type(session=session, key="book", schema=schema, actor="admin",
                            defaults={"language": "zh"}, confirm=True)
    with db.query() as session:
        _view, page = service.list_records(session=session, type_key="book", actor=ANNA)
        assert {r.data["language"] for r in page.items} == {"zh"}


def test_a_narrowed_type_is_refused_while_records_would_break(people):
    db = people
    _book_type(db, records=0)
    with db.command() as session:
        service.create_record(session=session, type_key="book", data={"title": "x", "pages": 500}, actor=ANNA)
    schema = copy.deepcopy(BOOK)
    schema["properties"]["pages"]["maximum"] = 100
    with pytest.raises(Incompatible) as caught, db.command() as session:
        service.change_type(session=session, key="book", schema=schema, actor="admin", confirm=True)
    assert caught.value.details["examples"][0]["field"] == "pages"


def test_a_removed_field_keeps_old_values_readable_unless_the_admin_drops_them(people):
    db = people
    _book_type(db, records=0)
    with db.command() as session:
        record = service.create_record(session=session, type_key="book", data={"title": "x", "pages": 5}, actor=ANNA)
    schema = copy.deepcopy(BOOK)
    del schema["properties"]["pages"]
    with db.command() as session:
        service.change_type(session=session, key="book", schema=schema, actor="admin")
    with db.command() as session:
        stored, view = service.get_record_or_raise(session=session, record_id=record.id, actor=ANNA)
        assert stored.data["pages"] == 5 and "pages" not in view.schema["properties"]
        service.update_record(session=session, record_id=record.id, data={"title": "y"}, actor=ANNA,
                              lock_version=stored.lock_version)
    closed = {**schema, "additionalProperties": False}
    with pytest.raises(Incompatible), db.command() as session:
        service.change_type(session=session, key="book", schema=closed, actor="admin")
    with db.command() as session:
        service.change_type(session=session, key="book", schema=closed, actor="admin", drop_removed=True,
                            confirm=True)
        stored, _view = service.get_record_or_raise(session=session, record_id=record.id, actor=ANNA)
        assert stored.data == {"title": "y"}


def test_changing_the_title_field_retitles_stored_records(people):
    db = people
    _book_type(db, records=1)
    schema = copy.deepcopy(BOOK)
    schema["properties"]["code"] = {"type": "string", "default": ""}
    with db.command() as session:
        service.change_type(session=session, key="book", schema=schema, actor="admin",
                            meta={"title_field": "code"}, defaults={"code": "B-1"}, confirm=True)
    with db.query() as session:
        _view, page = service.list_records(session=session, type_key="book", actor=ANNA)
    assert page.items[0].title == "B-1"


def test_unknown_type_is_not_found(db):
    with pytest.raises(NotFound), db.query() as session:
        service.get_type_or_raise(session=session, key="nope")


def test_records_are_validated_against_the_type(people):
    db = people
    _book_type(db, records=0)
    with pytest.raises(FormError) as caught, db.command() as session:
        service.create_record(session=session, type_key="book", data={"pages": 0, "colour": "red"}, actor=ANNA)
    assert set(caught.value.errors) == {"title", "pages", "colour"}
