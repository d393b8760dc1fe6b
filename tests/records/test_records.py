"""Records: create, update with a lock version, history, soft delete and restore, references and related lists."""
from __future__ import annotations

import pytest

from forms.schema import FormError
from records import service
from records.errors import Forbidden, NotFound, StaleEdit

from .conftest import ADMIN, ANNA, BEN, MAYA


def _customer(session, name="华东机械有限公司", actor=ANNA, **more):
    return service.create_record(session=session, type_key="customer", data={"name": name, **more}, actor=actor)


def test_create_read_and_stamps(core):
    with core.command() as session:
        record = _customer(session, level="a")
    with core.query() as session:
        stored, view = service.get_record_or_raise(session=session, record_id=record.id, actor=BEN)
    assert view.key == "customer" and stored.title == "华东机械有限公司"
    assert stored.owner == "anna" and stored.created_by == "anna" and stored.lock_version == 1
    assert stored.type_version == 1 and stored.deleted_at is None


def test_a_stale_edit_is_a_conflict_and_overwrites_nothing(core):
    with core.command() as session:
        record = _customer(session)
    with core.command() as session:
        service.update_record(session=session, record_id=record.id, data={"phone": "021-1234"}, actor=ANNA,
                              lock_version=1)
    with pytest.raises(StaleEdit) as caught, core.command() as session:
        service.update_record(session=session, record_id=record.id, data={"phone": "010-9999"}, actor=MAYA,
                              lock_version=1)
    assert caught.value.details["lock_version"] == 2 and "anna" in caught.value.message
    with core.query() as session:
        stored, _ = service.get_record_or_raise(session=session, record_id=record.id, actor=ANNA)
    assert stored.data["phone"] == "021-1234"


def test_field_level_history_names_who_changed_what(core):
    with core.command() as session:
        record = _customer(session, level="c")
    with core.command() as session:
        service.update_record(session=session, record_id=record.id, data={"level": "a", "phone": "1"}, actor=MAYA,
                              lock_version=1)
    with core.command() as session:  # saving the same values again writes no history
        service.update_record(session=session, record_id=record.id, data={"level": "a"}, actor=MAYA,
                              lock_version=2)
    with core.query() as session:
        entries = service.history(session=session, record_id=record.id, actor=ANNA)
    assert [e.action for e in entries] == ["updated", "created"]
    assert entries[0].actor == "maya" and entries[0].changes == {"level": ["c", "a"], "phone": [None, "1"]}


def test_invalid_update_leaves_the_record_as_it_was(core):
    with core.command() as session:
        record = _customer(session)
    with pytest.raises(FormError) as caught, core.command() as session:
        service.update_record(session=session, record_id=record.id, data={"level": "zz", "email": "not-mail"},
                              actor=ANNA, lock_version=1)
    assert set(caught.value.errors) == {"level", "email"}
    with core.query() as session:
        stored, _ = service.get_record_or_raise(session=session, record_id=record.id, actor=ANNA)
    assert stored.lock_version == 1 and "level" not in stored.data


def test_who_may_change_and_delete(core):
    with core.command() as session:
        record = _customer(session)
    with pytest.raises(Forbidden), core.command() as session:
        service.update_record(session=session, record_id=record.id, data={"phone": "x"}, actor=BEN, lock_version=1)
    with pytest.raises(Forbidden), core.command() as session:
        service.delete_record(session=session, record_id=record.id, actor=MAYA)
    with core.command() as session:
        service.update_record(session=session, record_id=record.id, data={"phone": "x"}, actor=MAYA, lock_version=1)
        service.delete_record(session=session, record_id=record.id, actor=ADMIN)


def test_soft_delete_hides_the_record_and_restore_brings_it_back(core):
    with core.command() as session:
        record = _customer(session)
        other = _customer(session, name="Acme GmbH")
    with core.command() as session:
        service.delete_record(session=session, record_id=record.id, actor=ANNA)
    with core.query() as session:
        with pytest.raises(NotFound):
            service.get_record_or_raise(session=session, record_id=record.id, actor=ANNA)
        _v, live = service.list_records(session=session, type_key="customer", actor=ANNA)
        _v, binned = service.list_records(session=session, type_key="customer", actor=ANNA, deleted=True)
    assert [r.id for r in live.items] == [other.id] and [r.id for r in binned.items] == [record.id]
    with core.command() as session:
        service.restore_record(session=session, record_id=record.id, actor=ANNA)
    with core.query() as session:
        assert service.get_record_or_raise(session=session, record_id=record.id, actor=BEN)[0].deleted_at is None
        actions = [e.action for e in service.history(session=session, record_id=record.id, actor=ANNA)]
    assert actions == ["restored", "deleted", "created"]


@pytest.mark.parametrize("guess", [999_999, -1, 0, "1", None, True])
def test_guessed_or_garbage_ids_are_not_found(core, guess):
    with pytest.raises(NotFound), core.query() as session:
        service.get_record_or_raise(session=session, record_id=guess, actor=ANNA)


def test_a_reference_must_name_a_live_record_of_the_right_type(core):
    with core.command() as session:
        customer = _customer(session)
        lead = service.create_record(session=session, type_key="lead", data={"company": "X", "status": "new"},
                                     actor=ANNA)
    for bad in (lead.id, 987654):
        with pytest.raises(FormError) as caught, core.command() as session:
            service.create_record(session=session, type_key="contact", data={"name": "李明", "customer": bad},
                                  actor=ANNA)
        assert "customer" in caught.value.errors
    with core.command() as session:
        service.delete_record(session=session, record_id=customer.id, actor=ANNA)
    with pytest.raises(FormError), core.command() as session:
        service.create_record(session=session, type_key="contact", data={"name": "李明", "customer": customer.id},
                              actor=ANNA)


def test_related_lists_count_what_points_at_a_customer(core):
    with core.command() as session:
        customer = _customer(session)
        other = _customer(session, name="Other Ltd")
        for name in ("李明", "王强"):
            service.create_record(session=session, type_key="contact", data={"name": name, "customer": customer.id},
                                  actor=ANNA)
        service.create_record(session=session, type_key="contact", data={"name": "Elsewhere", "customer": other.id},
                              actor=ANNA)
        contract = service.create_record(session=session, type_key="contract", actor=ANNA, data={
            "number": "HT-1", "name": "年度维保", "customer": customer.id, "amount": "120000.00"})
        service.create_record(session=session, type_key="order", actor=ANNA, data={
            "number": "SO-1", "customer": customer.id, "contract": contract.id,
            "lines": [{"item": "Pump", "quantity": 2, "unit_price": "100.00"}]})
        gone = service.create_record(session=session, type_key="complaint", actor=ANNA, data={
            "subject": "延迟交货", "customer": customer.id, "severity": "major"})
    with core.command() as session:
        service.delete_record(session=session, record_id=gone.id, actor=ANNA)
    with core.query() as session:
        lists = {(r.type.key, r.field): r for r in service.related(session=session, record_id=customer.id, actor=BEN)}
        of_contract = service.related(session=session, record_id=contract.id, actor=BEN)
    assert {k: r.count for k, r in lists.items()} == {("contact", "customer"): 2, ("contract", "customer"): 1,
                                                      ("order", "customer"): 1}
    assert {r.title for r in lists[("contact", "customer")].items} == {"李明", "王强"}
    assert [(r.type.key, r.count) for r in of_contract] == [("order", 1)]


def test_changing_a_reference_moves_the_record_between_related_lists(core):
    with core.command() as session:
        first, second = _customer(session, name="A"), _customer(session, name="B")
        contact = service.create_record(session=session, type_key="contact", data={"name": "C", "customer": first.id},
                                        actor=ANNA)
    with core.command() as session:
        service.update_record(session=session, record_id=contact.id, data={"customer": second.id}, actor=ANNA,
                              lock_version=1)
    with core.query() as session:
        assert service.related(session=session, record_id=first.id, actor=ANNA) == []
        assert service.related(session=session, record_id=second.id, actor=ANNA)[0].count == 1


def test_detail_table_references_are_indexed(people):
    db = people
    with db.command() as session:
        service.define_type(session=session, key="product", name="产品", schema={
            "type": "object", "properties": {"name": {"type": "string"}}}, actor="admin")
        service.define_type(session=session, key="quote", name="报价", actor="admin", schema={
            "type": "object", "properties": {"code": {"type": "string"}, "lines": {"type": "array", "items": {
                "type": "object", "properties": {"product": {"type": "integer", "x-reference": "product"},
                                                 "qty": {"type": "integer"}}}}}})
        product = service.create_record(session=session, type_key="product", data={"name": "阀门"}, actor=ANNA)
        service.create_record(session=session, type_key="quote", actor=ANNA, data={
            "code": "Q1", "lines": [{"product": product.id, "qty": 1}, {"product": product.id, "qty": 2}]})
    with pytest.raises(FormError) as caught, db.command() as session:
        service.create_record(session=session, type_key="quote", actor=ANNA, data={
            "code": "Q2", "lines": [{"product": 4242, "qty": 1}]})
    assert "lines[0].product" in caught.value.errors
    with db.query() as session:
        lists = service.related(session=session, record_id=product.id, actor=ANNA)
    assert [(r.type.key, r.field, r.count) for r in lists] == [("quote", "lines[].product", 1)]


def test_a_record_created_for_someone_else_notifies_them(core):
    from sqlalchemy import select

    from instances.models import OutboxMessage
    with core.command() as session:
        mine = _customer(session, name="自己的")
        theirs = service.create_record(session=session, type_key="customer", actor=MAYA, owner="ben",
                                       data={"name": "分给 Ben"})
    with core.query() as session:
        rows = [r.payload for r in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "notification"))]
    assert [(p["to"], p["kind"], p["record_id"], p["subject"]) for p in rows] == [
        ("ben", "record_assigned", theirs.id, "分给 Ben")]
    assert mine.id != theirs.id
