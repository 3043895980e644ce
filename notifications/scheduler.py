"""The scheduler: one leader among any number of processes runs the timed jobs.

``flask --app wsgi scheduler run`` starts a process that first waits to lead: through a
PostgreSQL advisory lock held on a dedicated connection for as long as it runs, or on
SQLite (one host) through a file lock beside the database. The others keep trying every
``SCHEDULER_LEADER_POLL_SECONDS`` and take over when the leader dies, because its lock
dies with its connection or its process; the new leader frees at once the outbox rows
its predecessor had claimed (``notifications.claims``). The leader runs APScheduler 3
with one worker, so jobs never overlap inside a process: dispatching the outbox and
the webhooks, sweeping reminders and timed transitions, daily digests, and pruning old
job records.
Every run is recorded (``JobRun``) and the plan is published (``ScheduledJob``) for the
admin page.

Web workers never start a scheduler; ``flask --app wsgi serve`` (what ``make run`` uses)
runs one in a thread beside the development server.
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
import traceback
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask
from sqlalchemy import create_engine, delete, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.pool import NullPool

from grants.database import write_intent
from grants.extensions import db
from grants.models.notifications import JobRun, ScheduledJob
from grants.orm import utcnow
from notifications import claims, outbox, reminders, webhooks

log = logging.getLogger(__name__)
logging.getLogger("apscheduler").setLevel(logging.WARNING)  # one line per run is noise
#: The advisory lock's key: the same for every process of one database.
LOCK_KEY = zlib.crc32(b"diaspora-grants-scheduler")
KEEP_RUNS = timedelta(days=14)


def identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# --- leadership ----------------------------------------------------------------------


class PostgresLeadership:
    """A session-level advisory lock on a connection of its own (no pool): held while
    the connection lives, released by the server the moment the process dies."""

    def __init__(self, url: str):
        self.engine = create_engine(make_url(url), poolclass=NullPool)
        self.connection: Connection | None = None

    def try_acquire(self) -> bool:
        try:
            if self.connection is None:
                self.connection = self.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                )
            got = self.connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
            ).scalar()
        except Exception as error:  # the database is away: try again later
            log.warning("Scheduler cannot reach the database: %s", error)
            self._drop()
            return False
        return bool(got)

    def still_held(self) -> bool:
        if self.connection is None:
            return False
        try:
            self.connection.execute(text("SELECT 1"))
        except Exception:
            self._drop()
            return False
        return True

    def release(self) -> None:
        if self.connection is not None:
            try:
                self.connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
            except Exception:
                pass
            self._drop()
        self.engine.dispose()

    def _drop(self) -> None:
        if self.connection is not None:
            try:
                self.connection.close()
            except Exception:
                pass
        self.connection = None


class FileLeadership:
    """An exclusive ``flock`` on a file beside the SQLite database: one host only, which
    is what SQLite is for; the kernel releases it when the process dies."""

    def __init__(self, path: Path):
        self.path = path
        self.handle: Any = None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 (held for the leader's lifetime)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self.handle = handle
        return True

    def still_held(self) -> bool:
        return self.handle is not None

    def release(self) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


def leadership_for(app: Flask) -> PostgresLeadership | FileLeadership:
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "postgresql":
        return PostgresLeadership(app.config["SQLALCHEMY_DATABASE_URI"])
    database = url.database or ""
    if not database or database == ":memory:":
        return FileLeadership(Path(app.config["INSTANCE_PATH"]) / "scheduler.lock")
    return FileLeadership(Path(database).with_suffix(".scheduler-lock"))


# --- jobs ----------------------------------------------------------------------------


def dispatch_job(app: Flask, now: datetime) -> int:
    sent, failed = outbox.dispatch(now, limit=500)
    return sent + failed


def webhooks_job(app: Flask, now: datetime) -> int:
    delivered, failed = webhooks.dispatch(now)
    return delivered + failed


def sweep_job(app: Flask, now: datetime) -> int:
    return sum(reminders.sweep(now, app.config).values())


def digest_job(app: Flask, now: datetime) -> int:
    return outbox.send_digests(now)


def open_data_job(app: Flask, now: datetime) -> int:
    from grants.exports import published

    written = published.refresh()
    db.session.commit()
    return written


def prune_job(app: Flask, now: datetime) -> int:
    from notifications import webhooks

    removed = db.session.execute(delete(JobRun).where(JobRun.started_at < now - KEEP_RUNS))
    deliveries = webhooks.prune(now)
    db.session.commit()
    return (removed.rowcount or 0) + deliveries


def data_exports_job(app: Flask, now: datetime) -> int:
    from grants.services import personal_data

    return personal_data.prepare_waiting(now)


def bulk_actions_job(app: Flask, now: datetime) -> int:
    from grants.services import bulk_actions

    return bulk_actions.work_waiting(now)


def retention_job(app: Flask, now: datetime) -> int:
    """Refused, deleting nothing, while the setting is unusable: the run records why."""
    from grants.services import retention

    return retention.run(now)


@dataclass(frozen=True)
class Job:
    name: str
    description: str
    run: Callable[[Flask, datetime], int]
    trigger: Callable[[Flask], Any]


JOBS: tuple[Job, ...] = (
    Job(
        "dispatch",
        "Send the outbox's due emails",
        dispatch_job,
        lambda app: IntervalTrigger(seconds=app.config["SCHEDULER_DISPATCH_SECONDS"]),
    ),
    Job(
        "webhooks",
        "Send the due webhooks to the integrations' endpoints",
        webhooks_job,
        lambda app: IntervalTrigger(seconds=app.config["SCHEDULER_DISPATCH_SECONDS"]),
    ),
    Job(
        "sweep",
        "Close calls at their deadline; send due reminders",
        sweep_job,
        lambda app: IntervalTrigger(seconds=app.config["SCHEDULER_SWEEP_SECONDS"]),
    ),
    Job(
        "digests",
        "Daily digests, after DIGEST_HOUR in each person's time zone",
        digest_job,
        lambda app: CronTrigger(minute=7, timezone="UTC"),
    ),
    Job(
        "open-data",
        "Write the open-data files again after a published grant changed",
        open_data_job,
        lambda app: IntervalTrigger(seconds=app.config["SCHEDULER_OPEN_DATA_SECONDS"]),
    ),
    Job(
        "data-exports",
        "Prepare the copies of their data people asked for; forget expired ones",
        data_exports_job,
        lambda app: IntervalTrigger(seconds=app.config["SCHEDULER_DISPATCH_SECONDS"]),
    ),
    Job(
        "bulk-actions",
        "Act on the rows of officers' large bulk actions, a batch at a time",
        bulk_actions_job,
        lambda app: IntervalTrigger(seconds=app.config["SCHEDULER_DISPATCH_SECONDS"]),
    ),
    Job(
        "retention",
        "Delete documents and personal data of applications never awarded, "
        "RETENTION_YEARS_UNAWARDED years after their call closed",
        retention_job,
        lambda app: CronTrigger(hour=2, minute=41, timezone="UTC"),
    ),
    Job(
        "prune",
        "Forget job records older than two weeks and sent webhooks older than 90 days",
        prune_job,
        lambda app: CronTrigger(hour=3, minute=17, timezone="UTC"),
    ),
)
JOB_NAMES = tuple(job.name for job in JOBS)


@dataclass(frozen=True)
class Outcome:
    job: str
    items: int
    error: str


def run_job(app: Flask, job: Job, now: datetime | None = None, host: str | None = None) -> Outcome:
    """Run one job in its own application context (so its own session) and record the
    run: what it handled, or its error. Its transactions begin as writers (on SQLite they
    take the write lock when they begin, so none fails half-way), hence each must stay
    short: jobs commit per small batch and send nothing inside a transaction."""
    with app.app_context(), write_intent():
        record = JobRun(job=job.name, host=host or identity(), started_at=utcnow())
        db.session.add(record)
        db.session.commit()
        run_id = record.id
        items, error = 0, ""
        try:
            items = job.run(app, now or utcnow())
        except Exception as failure:  # recorded and shown to admins; the next run retries
            db.session.rollback()
            error = "".join(traceback.format_exception_only(failure)).strip()[:2000]
            log.exception("Scheduled job %s failed", job.name)
        record = db.session.get(JobRun, run_id)
        record.items, record.error, record.finished_at = items, error, utcnow()
        db.session.commit()
        db.session.remove()
        return Outcome(job.name, items, error)


def publish_plan(app: Flask, scheduler: BlockingScheduler, leader: str) -> None:
    """Write each job's next run time where the admin page can read it."""
    with app.app_context(), write_intent():
        for job in JOBS:
            planned = scheduler.get_job(job.name)
            row = db.session.get(ScheduledJob, job.name) or ScheduledJob(name=job.name)
            row.description = job.description
            row.next_run_at = getattr(planned, "next_run_time", None)
            row.leader, row.updated_at = leader, utcnow()
            db.session.add(row)
        db.session.commit()
        db.session.remove()


# --- the process ---------------------------------------------------------------------


class Scheduler:
    """Wait to lead, lead until stopped or the lock is lost, then wait again."""

    def __init__(self, app: Flask, stop: threading.Event | None = None):
        self.app = app
        self.stop = stop or threading.Event()
        self.host = identity()
        self.poll = app.config["SCHEDULER_LEADER_POLL_SECONDS"]
        self.leadership = leadership_for(app)
        self.scheduler: BlockingScheduler | None = None
        #: This process's term as leader: the outbox rows it claims carry it.
        self.lease: int | None = None

    def run(self) -> None:
        log.info("Scheduler %s waiting to lead", self.host)
        try:
            while not self.stop.is_set():
                if self.leadership.try_acquire():
                    if not self._begin_lease():
                        self.leadership.release()
                        self.stop.wait(self.poll)
                        continue
                    log.info("Scheduler %s leads (lease %s)", self.host, self.lease)
                    self.lead()
                    self._end_lease()
                    log.info("Scheduler %s no longer leads", self.host)
                    continue
                self.stop.wait(self.poll)
        finally:
            self.leadership.release()

    def _begin_lease(self) -> bool:
        """Record this term and free what earlier leaders held, before any job runs."""
        try:
            with self.app.app_context():
                self.lease = claims.begin(self.host)
                db.session.remove()
        except Exception:  # the database is away: give the lead back, try again later
            log.exception("Scheduler %s cannot start its lease", self.host)
            return False
        return True

    def _end_lease(self) -> None:
        lease, self.lease = self.lease, None
        if lease is None:
            return
        try:
            with self.app.app_context():
                claims.end(lease)
                db.session.remove()
        except Exception as error:  # the next leader ends it anyway
            log.warning("Scheduler %s cannot end lease %s: %s", self.host, lease, error)

    def lead(self) -> None:
        scheduler = BlockingScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone="UTC",
        )
        self.scheduler = scheduler
        for job in JOBS:
            # The outboxes and the sweep catch up at once; the daily jobs keep their hour.
            first = (
                {"next_run_time": utcnow()} if job.name in ("dispatch", "webhooks", "sweep") else {}
            )
            scheduler.add_job(
                self._runner(job), job.trigger(self.app), id=job.name, name=job.description, **first
            )
        scheduler.add_job(
            self._watch,
            IntervalTrigger(seconds=self.poll),
            id="leadership",
            name="Check the lock is still held",
        )
        scheduler.start()  # blocks until _watch or stop() shuts it down; each run publishes
        self.scheduler = None

    def _runner(self, job: Job) -> Callable[[], None]:
        def run() -> None:
            if self.stop.is_set() or not self.leadership.still_held():
                return
            with claims.holding(self.lease):
                run_job(self.app, job, host=self.host)
            if self.scheduler is not None:
                publish_plan(self.app, self.scheduler, self.host)

        return run

    def _watch(self) -> None:
        if self.stop.is_set() or not self.leadership.still_held():
            log.warning("Scheduler %s stops leading", self.host)
            if self.scheduler is not None:
                self.scheduler.shutdown(wait=False)

    def shutdown(self) -> None:
        self.stop.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)


def start_in_thread(app: Flask) -> Scheduler:
    """For the embedded default: a scheduler beside the development server."""
    scheduler = Scheduler(app)
    thread = threading.Thread(target=scheduler.run, name="scheduler", daemon=True)
    thread.start()
    return scheduler
