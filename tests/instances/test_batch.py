"""A save's end: changes to held rows and appended rows written together, in one pipeline on PostgreSQL."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, inspect, select
from sqlalchemy.exc import IntegrityError

from instances import batch, service
from instances.models import HistoryEvent, OutboxMessage, ProcessInstance, WorkItem, WorkItemCandidate
from tests.instances.test_service import ALICE, BOB, complete, deploy, open_items, start


@contextmanager
def statements(db):
    """Collect (statement, sent inside a pipeline) for what the database is asked to run in the block."""
    seen: list[tuple[str, bool]] = []

    def log(conn, _cursor, statement, *_args):
        driver = conn.connection.driver_connection
        pipelined = db.dialect == "postgresql" and driver.pgconn.pipeline_status != 0
        seen.append((" ".join(statement.split()).lower(), pipelined))

    event.listen(db.engine, "before_cursor_execute", log)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", log)


def _counts(db, iid: int) -> dict:
    with db.query() as session:
        return {"history": session.scalar(select(func.count()).select_from(HistoryEvent)
                                          .where(HistoryEvent.instance_id == iid)),
                "notices": session.scalar(select(func.count()).select_from(OutboxMessage)),
                "candidates": session.scalar(select(func.count()).select_from(WorkItemCandidate)),
                "items": [(i.element_id, i.status) for i in session.scalars(
                    select(WorkItem).where(WorkItem.instance_id == iid).order_by(WorkItem.id))],
                "version": session.get(ProcessInstance, iid).lock_version}


def test_a_completion_writes_its_rows_after_one_insert_and_in_one_pipeline_on_postgresql(db):
    deploy(db)
    iid = start(db)
    [task] = open_items(db, iid)
    before = _counts(db, iid)
    with statements(db) as seen:
        assert complete(db, task.id, BOB, decision="approve") == "running"
    writes = [(s.split(" (")[0].split(" set ")[0], piped) for s, piped in seen
              if s.startswith(("insert", "update", "delete"))]
    # The new HR task is the one row whose id the save needs back; everything else goes out together.
    assert writes[0] == ("insert into work_item", False)
    together = sorted(w for w, _ in writes[1:])  # one statement per table or changed row, sent together
    assert together == ["insert into history_event", "insert into outbox_message", "insert into work_item_candidate",
                        "update process_instance", "update work_item"], writes
    assert all(piped for _, piped in writes[1:]) is (db.dialect == "postgresql")
    after = _counts(db, iid)
    assert after["items"] == [("manager_approval", "completed"), ("hr_approval", "open")]
    assert after["candidates"] == 1 and after["notices"] == before["notices"] + 1
    assert after["history"] > before["history"]
    assert after["version"] == before["version"] + 1
    with db.query() as session:
        instance = session.get(ProcessInstance, iid)
        assert instance.data["decision"] == "approve"
        notice = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
        hr_task = session.scalars(select(WorkItem).where(WorkItem.element_id == "hr_approval")).one()
        assert notice.payload["work_item_id"] == hr_task.id and notice.payload["to"] == "group:hr"
        assert (notice.status, notice.attempts, notice.kind) == ("pending", 0, "notification")
        assert notice.created_at is not None


def test_a_held_instance_changed_again_after_its_save_keeps_its_version_in_step(db):
    deploy(db)
    iid = start(db)
    [task] = open_items(db, iid)
    version = _counts(db, iid)["version"]
    with db.command() as session:
        instance = service.complete_task(session=session, work_item_id=task.id, actor=BOB, decision="approve")
        assert instance.lock_version == version + 1
        instance.title = "Renamed after the save"  # written by the ORM at commit, checked against that version
    with db.query() as session:
        saved = session.get(ProcessInstance, iid)
        assert (saved.title, saved.lock_version) == ("Renamed after the save", version + 2)


def test_an_instance_not_held_is_left_to_the_orm_and_its_version_check(db):
    deploy(db)
    iid = start(db)
    with db.command() as session:
        instance = session.get(ProcessInstance, iid)  # read without its row lock
        instance.title = "Not held"
        with statements(db) as seen, batch.deferred_rows(session):
            pass
        updates = [s for s, _ in seen if s.startswith("update process_instance")]
        assert len(updates) == 1 and "lock_version = " in updates[0].split(" where ")[1]
    with db.query() as session:
        assert session.get(ProcessInstance, iid).title == "Not held"


def test_a_failing_row_at_the_end_of_a_save_leaves_everything_as_it_was(db, monkeypatch):
    deploy(db)
    iid = start(db)
    [task] = open_items(db, iid)
    before = _counts(db, iid)
    real = batch.DeferredRows.statements

    def with_a_bad_row(self):
        out = real(self)
        statement, rows = out[-1]
        return out[:-1] + [(statement, rows + [{**rows[0], "type": None}])]  # history.type is NOT NULL

    monkeypatch.setattr(batch.DeferredRows, "statements", with_a_bad_row)
    with pytest.raises(IntegrityError, match="(?i)null"):
        complete(db, task.id, BOB, decision="approve")
    monkeypatch.undo()
    assert _counts(db, iid) == before
    assert complete(db, task.id, BOB, decision="approve") == "running"  # the connection is usable again


def test_rows_appended_outside_a_save_are_written_by_the_orm_at_once(db):
    deploy(db)
    iid = start(db, actor=ALICE)
    with db.command() as session:
        instance = service.lock_instance(session=session, instance_id=iid)
        assert batch.collecting(session) is None
        service._history(session, instance, "note", actor="alice", details={"text": "by hand"})
        session.flush()
        assert session.scalar(select(func.count()).select_from(HistoryEvent)
                              .where(HistoryEvent.type == "note")) == 1


def test_without_pipeline_support_the_rows_go_one_by_one(db, monkeypatch):
    import psycopg

    monkeypatch.setattr(psycopg.Pipeline, "is_supported", classmethod(lambda cls: False))
    deploy(db)
    iid = start(db)
    [task] = open_items(db, iid)
    with statements(db) as seen:
        assert complete(db, task.id, BOB, decision="approve") == "running"
    assert not any(piped for _, piped in seen)
    assert _counts(db, iid)["items"] == [("manager_approval", "completed"), ("hr_approval", "open")]


def test_new_work_items_go_in_one_statement_and_each_appended_row_names_its_own(db):
    from tests.instances.test_countersign_rules import deploy as deploy_model

    key = deploy_model(db, "all")
    members = ["zoe", "amy", "max", "bob", "eve"]
    with db.command() as session, statements(db) as seen:
        instance = service.start_instance(session=session, key=key, actor=ALICE, data={"approvers": members})
        iid = instance.id
    inserts = [s for s, _ in seen if s.startswith("insert into work_item ")]
    assert len(inserts) == 1, inserts  # five rows, one statement
    with db.query() as session:
        items = session.scalars(select(WorkItem).where(WorkItem.instance_id == iid).order_by(WorkItem.id)).all()
        assert [(i.assignee, i.kind, i.status, i.priority) for i in items] == [(m, "task", "open", 50) for m in members]
        created = session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == iid,
                                                             HistoryEvent.type == "task_created")).all()
        assert sorted((e.work_item_id, e.details["assignee"]) for e in created) == [(i.id, i.assignee) for i in items]
        notices = session.scalars(select(OutboxMessage)).all()
        assert sorted((n.payload["work_item_id"], n.payload["to"]) for n in notices) == \
            [(i.id, i.assignee) for i in items]


def test_a_new_work_item_is_held_as_loaded_after_the_save_with_its_defaults(db):
    deploy(db)
    iid = start(db)
    with db.command() as session:
        instance = service.lock_instance(session=session, instance_id=iid)
        item = WorkItem(instance_id=iid, task_guid="0c6b8f0e-held-as-loaded", element_id="extra", name="Extra",
                        assignee="bob")
        instance.title = "Changed in the same save"
        flushes = []
        event.listen(session, "before_flush", lambda *_: flushes.append(1))
        with statements(db) as seen, batch.deferred_rows(session):
            session.add(item)
            service._history(session, instance, "task_created", element_id="extra", work_item=item)
        # Written without the ORM's unit of work: its flush costs several times the statements it sends.
        assert flushes == []
        assert sorted(s.split(" (")[0].split(" set ")[0] for s, _ in seen) == \
            ["insert into history_event", "insert into work_item", "update process_instance"]
        assert inspect(item).persistent and item.id is not None
        assert not session.new and not session.dirty  # nothing left for the commit's flush
        seen.clear()
        with statements(db) as seen:
            # The Python defaults the ORM would have filled in are there; reading them asks the database nothing.
            assert (item.kind, item.status, item.priority, item.candidate_users, item.candidate_groups) == \
                ("task", "open", 50, [], [])
            assert item.created_at is not None and item.completed_at is None
        assert seen == []
        item.comment = "changed after the save"  # the ORM still tracks it like any loaded row
    with db.query() as session:
        saved = session.get(WorkItem, item.id)
        assert (saved.kind, saved.priority, saved.comment) == ("task", 50, "changed after the save")
        assert session.get(ProcessInstance, iid).title == "Changed in the same save"
        created = session.scalars(select(HistoryEvent).where(HistoryEvent.element_id == "extra")).one()
        assert created.work_item_id == item.id
