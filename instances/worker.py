"""The background worker: APScheduler runs the due-timer job on an interval."""
from __future__ import annotations

import logging
import signal
import threading

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from database.session import Database

from .jobs import run_due_timers
from .messages import deliver_outbox
from .overdue import run_overdue_actions

log = logging.getLogger("flowdesk.worker")


class Worker:
    """Fires due timers; any number of workers may run against one PostgreSQL database."""

    def __init__(self, database: Database, *, interval: float = 1.0, max_attempts: int = 5, jobs=()):
        self.database = database
        # Overdue actions (flowdesk.onOverdue) run after the timers, before the outbox sends what they queued.
        self.core_jobs = (run_due_timers, run_overdue_actions, deliver_outbox)
        # Jobs of packages this one may not import (collab's delivery) are handed in by the caller. They talk to
        # mail servers and chat robots, so they run on their own schedule: a slow server never delays timers.
        self.extra_jobs = tuple(jobs)
        self.jobs = (*self.core_jobs, *self.extra_jobs)
        self.interval = interval
        self.max_attempts = max_attempts
        self._scheduler = None

    def run_once(self) -> int:
        """Run every due job once; return how many timers fired, overdue items were acted on and messages delivered."""
        return self._run(self.jobs)

    def _run(self, jobs) -> int:
        done = 0
        for job in jobs:
            try:
                done += job(self.database, max_attempts=self.max_attempts)
            except Exception:  # a broken database connection must not kill the scheduler thread
                log.exception("%s failed; it runs again at the next interval",
                              getattr(job, "__name__", None) or getattr(job, "func", job).__name__)
        return done

    def _add_jobs(self, scheduler) -> None:
        scheduler.add_job(self._run, "interval", args=[self.core_jobs], seconds=self.interval, id="due_timers",
                          max_instances=1, coalesce=True, misfire_grace_time=None)
        if self.extra_jobs:
            scheduler.add_job(self._run, "interval", args=[self.extra_jobs], seconds=self.interval,
                              id="deliveries", max_instances=1, coalesce=True, misfire_grace_time=None)

    def start_in_background(self) -> None:
        """Start the jobs in a background thread of this process (used by `flowdesk serve`)."""
        self._scheduler = BackgroundScheduler(daemon=True)
        self._add_jobs(self._scheduler)
        self._scheduler.start()

    def run_forever(self) -> None:
        """Run the jobs in the foreground until SIGINT or SIGTERM."""
        scheduler = BlockingScheduler()
        self._add_jobs(scheduler)
        self._scheduler = scheduler
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, lambda *_: scheduler.shutdown(wait=False))
        log.info("worker started; checking due work every %ss", self.interval)
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            pass

    def stop(self) -> None:
        """Stop the scheduler, letting a running job finish."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=True)
