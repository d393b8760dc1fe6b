"""The worker fires due timers, retries failures with backoff and raises incidents an admin can retry."""
from __future__ import annotations

import time
from datetime import timedelta

from database.base import utcnow
from definitions import service as definitions
from instances import jobs, service
from instances.actors import Actor
from instances.models import HistoryEvent, ProcessInstance
from tests.conftest import read_bundle


def _start(db, bundle: str, key: str) -> int:
    with db.command() as session:
        definitions.deploy(session=session, files=read_bundle(bundle))
    with db.command() as session:
        return service.start_instance(session=session, key=key, actor=Actor("alice")).id


def _sleep_until(moment) -> None:
    # The engine checks timers against the real clock, so the test waits for the due time to pass.
    delay = (moment - utcnow()).total_seconds()
    if delay > 0:
        time.sleep(delay + 0.05)


def test_due_timer_fires_once_and_completes(db):
    iid = _start(db, "timer_wait.bpmn", "timer_wait")
    with db.query() as session:
        wake = session.get(ProcessInstance, iid).next_wake_at
    assert wake is not None and wake.tzinfo is not None
    assert jobs.run_due_timers(db, now=wake - timedelta(milliseconds=1)) == 0
    _sleep_until(wake)
    assert jobs.run_due_timers(db, now=wake + timedelta(seconds=1)) == 1
    assert jobs.run_due_timers(db, now=wake + timedelta(seconds=2)) == 0
    with db.query() as session:
        instance = session.get(ProcessInstance, iid)
        assert instance.status == "completed" and instance.next_wake_at is None
        assert session.query(HistoryEvent).filter_by(instance_id=iid, type="timers_fired").count() == 1


def test_failing_timer_is_retried_then_becomes_an_incident(db):
    iid = _start(db, "timer_fail.bpmn", "timer_fail")
    with db.query() as session:
        first_wake = session.get(ProcessInstance, iid).next_wake_at
    _sleep_until(first_wake)
    now = first_wake + timedelta(seconds=1)
    for attempt in range(1, 4):
        assert jobs.run_due_timers(db, now=now, max_attempts=3) == 0
        with db.query() as session:
            instance = session.get(ProcessInstance, iid)
        if attempt < 3:
            assert instance.status == "running" and instance.wake_attempts == attempt
            assert instance.next_wake_at == now + jobs.backoff(attempt)
            now = instance.next_wake_at + timedelta(milliseconds=1)
    assert instance.status == "incident"
    assert instance.incident["element_id"] == "check"
    assert "unknown variable 'missing_variable'" in instance.incident["reason"]
    with db.query() as session:
        assert [i.id for i in jobs.list_incidents(session=session)] == [iid]
        failures = session.query(HistoryEvent).filter_by(instance_id=iid, type="job_failed").count()
    assert failures == 2
    # The state is intact: an admin's retry runs it again from the same point.
    with db.command() as session:
        jobs.retry_incident(session=session, instance_id=iid, actor="admin")
    with db.query() as session:
        instance = session.get(ProcessInstance, iid)
        assert instance.status == "running" and instance.wake_attempts == 0
    assert jobs.run_due_timers(db, now=utcnow() + timedelta(seconds=5), max_attempts=3) == 0
    with db.query() as session:
        assert session.get(ProcessInstance, iid).wake_attempts == 1


def test_handed_in_jobs_run_on_their_own_schedule(db):
    from apscheduler.schedulers.background import BackgroundScheduler

    from instances.worker import Worker

    def slow_delivery(database, max_attempts):
        return 0

    worker = Worker(db, interval=60, jobs=[slow_delivery])
    scheduler = BackgroundScheduler()
    worker._add_jobs(scheduler)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"due_timers", "deliveries"}
    assert list(jobs["deliveries"].args[0]) == [slow_delivery]
    assert slow_delivery not in jobs["due_timers"].args[0]
    assert worker.run_once() == 0  # --once still runs everything
