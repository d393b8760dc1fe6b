"""The group-tasks view: offered items only, sorted and paged (on PostgreSQL ids are sorted before rows are read)."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from database.base import utcnow
from instances import inbox, service
from instances.models import WorkItem
from tests.instances.test_batch import statements
from tests.instances.test_service import ALICE, BOB, HR_CAROL, complete, deploy, open_items, start


def _hr_tasks(db, count: int) -> list[int]:
    deploy(db)
    ids = []
    for _ in range(count):
        iid = start(db)
        [manager_task] = open_items(db, iid)
        complete(db, manager_task.id, BOB, decision="approve")
        [hr_task] = open_items(db, iid)
        ids.append(hr_task.id)
    return ids


def _page(db, **kw) -> tuple[list[int], int]:
    with db.query() as session:
        page = inbox.list_inbox(session=session, actor=HR_CAROL, flt=inbox.InboxFilter(view="group", **kw))
        assert all(instance.id == item.instance_id for item, instance in page.rows)
        return [item.id for item, _instance in page.rows], page.total


def test_group_tasks_are_sorted_and_paged_with_empty_dates_last(db):
    a, b, c, d, e = _hr_tasks(db, 5)
    now = utcnow()
    dues = {a: now + timedelta(days=3), b: None, c: now + timedelta(days=1), d: now + timedelta(days=2),
            e: now + timedelta(days=1)}
    priorities = {a: 10, b: 90, c: 50, d: 70, e: 30}
    with db.command() as session:
        for item in session.scalars(select(WorkItem).where(WorkItem.id.in_(dues))):
            item.due_at, item.priority = dues[item.id], priorities[item.id]
    by_due = [c, e, d, a, b]  # ties by id; no due date last
    pages = [_page(db, sort="due", page=n, page_size=2) for n in (1, 2, 3)]
    assert [ids for ids, _ in pages] == [by_due[0:2], by_due[2:4], by_due[4:]]
    assert {total for _, total in pages} == {5}
    assert _page(db, sort="due", descending=True, page_size=5)[0] == [a, d, c, e, b]
    assert _page(db, sort="priority", descending=True, page_size=3)[0] == [b, d, c]


def test_a_claimed_task_leaves_the_group_view(db):
    first, second = _hr_tasks(db, 2)
    with db.command() as session:
        service.claim_task(session=session, work_item_id=first, actor=HR_CAROL)
    assert _page(db, sort="due") == ([second], 1)
    assert _page(db, sort="due", page=2, page_size=1) == ([], 1)


def test_group_tasks_narrowed_by_the_process_keep_their_order(db):
    a, b, c = _hr_tasks(db, 3)
    now = utcnow()
    with db.command() as session:
        for item, days in zip(session.scalars(select(WorkItem).where(WorkItem.id.in_([a, b, c]))
                                              .order_by(WorkItem.id)), (3, 1, 2), strict=True):
            item.due_at = now + timedelta(days=days)
    # A process or text filter joins the instances; the page still sorts and cuts the offered ids first.
    assert _page(db, sort="due", process="leave_request", page_size=2) == ([b, c], 3)
    assert _page(db, sort="due", process="leave_request", page=2, page_size=2) == ([a], 3)
    assert _page(db, sort="due", process="no_such_process") == ([], 0)


def test_listed_rows_leave_engine_state_process_data_and_submitted_values_in_the_database(db):
    from sqlalchemy import inspect

    [task] = _hr_tasks(db, 1)
    with statements(db) as seen:
        for view, actor in (("group", HR_CAROL), ("done", BOB), ("started", ALICE)):
            with db.query() as session:
                page = inbox.list_inbox(session=session, actor=actor, flt=inbox.InboxFilter(view=view))
                assert page.total == 1
                row = page.rows[0]
                instance = row[0] if view == "started" else row[1]
                assert {"state", "data"} <= inspect(instance).unloaded
                assert instance.title and instance.status == "running"  # what a list shows is there
                if view == "group":
                    assert row[0].id == task
                if view != "started":
                    assert "submitted" in inspect(row[0]).unloaded
    # (the count's subquery names every column but reads none: the database flattens it)
    reads = [s for s, _piped in seen if s.startswith("select process_instance.")]
    assert reads and not [s for s in reads if re.search(r"process_instance\.(state|data)\b", s)], reads


def test_on_postgresql_a_group_page_counts_its_total_in_the_pass_that_sorts_the_ids(db):
    _hr_tasks(db, 3)
    with statements(db) as seen:
        assert _page(db, sort="due", page_size=2)[1] == 3
        assert _page(db, sort="due", page=3, page_size=2) == ([], 3)  # past the end: counted on its own
    counts = [s for s, _piped in seen if s.startswith("select count(*)")]
    windows = [s for s, _piped in seen if "count(*) over ()" in s]
    if db.dialect == "postgresql":
        assert len(windows) == 2 and len(counts) == 1
    else:
        assert not windows and len(counts) == 2
