"""Processes create, update and link records inside the engine's transaction."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from definitions import service as definitions
from engine.errors import ServiceError
from instances import service as instances
from instances.errors import ProcessFailure
from instances.models import ProcessInstance
from records import operations, service
from records.models import Record
from tests.conftest import read_bundle

from .conftest import ANNA, BEN, load_org


def _setup(db):
    with db.command() as session:
        load_org(session)
        service.install_core_types(session=session)
        customer = service.create_record(session=session, type_key="customer", data={"name": "远航物流"}, actor=BEN)
        definitions.deploy(session=session, files=read_bundle("records/complaint_record.bpmn"), actor="designer")
    return customer.id


def _start(db, **data):
    with db.command() as session:
        return instances.start_instance(session=session, key="complaint_record", actor=ANNA, data=data)


def test_a_complaint_process_keeps_its_record_up_to_date(db):
    customer_id = _setup(db)
    instance = _start(db, subject="设备漏油", customer_id=customer_id, severity="major", resolution="")
    with db.query() as session:
        complaint_id = instances.get_instance_or_raise(session=session, instance_id=instance.id).data["complaint_id"]
        record, _view = service.get_record_or_raise(session=session, record_id=complaint_id, actor=BEN)
        assert record.data["status"] == "registered" and record.owner == "anna"
        assert [(i.id, rel) for i, rel in service.processes(session=session, record_id=complaint_id, actor=BEN)] \
            == [(instance.id, "created")]
        [task] = instances.list_open_work_items(session=session, instance_id=instance.id)
    with db.command() as session:
        instances.complete_task(session=session, work_item_id=task.id, actor=ANNA,
                                data={"resolution": "更换密封圈"})
    with db.query() as session:
        record, _view = service.get_record_or_raise(session=session, record_id=complaint_id, actor=BEN)
        changes = service.history(session=session, record_id=complaint_id, actor=BEN)
        linked = service.processes(session=session, record_id=customer_id, actor=BEN)
        related = service.related(session=session, record_id=customer_id, actor=BEN)
    assert record.data["status"] == "closed" and record.data["resolution"] == "更换密封圈"
    assert changes[0].instance_id == instance.id and changes[0].actor == "anna"
    assert changes[0].changes["status"] == ["registered", "closed"]
    assert [(i.id, rel) for i, rel in linked] == [(instance.id, "linked")]
    assert [(r.type.key, r.count) for r in related] == [("complaint", 1)]


def test_invalid_record_data_refuses_the_whole_step_and_stores_nothing(db):
    customer_id = _setup(db)
    with pytest.raises(ProcessFailure) as caught:
        _start(db, subject="x", customer_id=customer_id, severity="apocalyptic", resolution="")
    assert "severity" in caught.value.message and "complaint" in caught.value.message
    assert caught.value.details.get("element_id") == "register"
    with db.query() as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 0
        assert session.scalar(select(func.count()).select_from(Record)) == 1  # only the customer


def test_a_reference_to_a_missing_record_is_refused(db):
    _setup(db)
    with pytest.raises(ProcessFailure) as caught:
        _start(db, subject="x", customer_id=999, severity="minor", resolution="")
    assert "customer" in caught.value.message


def test_operations_outside_a_command_say_so():
    with pytest.raises(ServiceError, match="inside a Flowdesk command"):
        operations.create(params={"type": "customer", "name": "x"}, data={})
