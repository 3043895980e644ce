"""SQLite as the embedded default: a write-ahead log, writers that take the write lock
when they begin (so none fails half-way with "database is locked"), readers that never
wait for a writer. Real commits from two threads on a SQLite file of their own."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import click
import pytest
from aiosmtpd.controller import Controller
from flask import Flask, request
from sqlalchemy import event, select, text

from grants.database import begins_writing, write_intent, writes_from_now
from grants.extensions import db
from grants.models import ApiToken, JobRun, Notification
from grants.models.accounts import User
from grants.services.accounts import issue_token
from notifications.scheduler import JOBS, Job, run_job
from tests.conftest import sqlite_file_app
from tests.fixtures.people import make_user
from tests.fixtures.smtp import free_port

#: How long a test waits for the other thread before declaring it stuck (never reached
#: when all goes well: every wait below ends on an event).
STUCK = 20


@pytest.fixture(scope="module")
def solo(tmp_path_factory) -> Iterator[Flask]:
    app = sqlite_file_app(tmp_path_factory.mktemp("instance-database"))
    with app.app_context():
        make_user(email="writer@example.org")
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


class HeldWrite:
    """A scheduler job that writes, then keeps its transaction open until released."""

    def __init__(self, app: Flask):
        self.app = app
        self.held, self.release, self.committed = (threading.Event() for _ in range(3))
        self.outcome = None
        self.thread = threading.Thread(target=self._run)

    def _hold(self, app: Flask, now) -> int:
        db.session.add(JobRun(job="held", host="test"))
        db.session.flush()
        self.held.set()
        assert self.release.wait(STUCK)
        return 1

    def _run(self) -> None:
        self.outcome = run_job(self.app, Job("held", "", self._hold, lambda app: None))
        self.committed.set()

    def __enter__(self) -> HeldWrite:
        self.thread.start()
        assert self.held.wait(STUCK)
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.thread.join(STUCK)


def test_sqlite_keeps_a_write_ahead_log(solo):
    with solo.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


@contextmanager
def scheduler_commits_at_the_worst_moment(app: Flask) -> Iterator[HeldWrite]:
    """A scheduler job holds a write; it commits as soon as this thread has begun its
    own transaction: after its first read (which then waits for that commit, so that
    the read is stale), or while it waits for the write lock (BEGIN IMMEDIATE)."""
    me = threading.get_ident()
    stale = threading.Event()

    def _waits_for_the_lock(conn, cursor, statement, *args):
        if threading.get_ident() == me and statement.upper().startswith("BEGIN IMMEDIATE"):
            scheduler.release.set()

    def _has_read(conn, cursor, statement, *args):
        if threading.get_ident() == me and statement.lstrip().upper().startswith("SELECT"):
            if not stale.is_set():
                stale.set()
                scheduler.release.set()
                assert scheduler.committed.wait(STUCK)

    hooks = (("before_cursor_execute", _waits_for_the_lock), ("after_cursor_execute", _has_read))
    with app.app_context():
        engine = db.engine
    with HeldWrite(app) as scheduler:
        for name, hook in hooks:
            event.listen(engine, name, hook)
        try:
            yield scheduler
        finally:
            for name, hook in hooks:
                event.remove(engine, name, hook)
    assert scheduler.outcome.error == "" and scheduler.outcome.items == 1


def test_a_form_that_reads_then_writes_is_not_refused_while_the_scheduler_writes(solo):
    """The sequence that failed: a request reads, the scheduler commits, the request
    writes. A deferred transaction cannot write on a stale read ("database is locked",
    at once, whatever the busy timeout); a request that began IMMEDIATE waited for the
    scheduler's commit before reading, and writes."""
    with scheduler_commits_at_the_worst_moment(solo):
        with solo.test_request_context("/profile", method="POST"):
            assert begins_writing()
            person = db.session.scalar(select(User).where(User.email == "writer@example.org"))
            person.full_name = "Written after the scheduler"
            person_id = person.id
            db.session.commit()
    with solo.app_context():
        assert db.session.scalar(select(User.full_name).where(User.id == person_id)) == (
            "Written after the scheduler"
        )
        assert db.session.scalar(select(JobRun.items).where(JobRun.job == "held")) >= 1


def test_an_api_read_that_records_the_tokens_use_is_not_refused_either(solo):
    """An API read begins as a reader and writes the token's last use: it hands over to
    a writer first, so the scheduler's commit in between does not refuse it."""
    with solo.app_context():
        person = db.session.scalar(select(User).where(User.email == "writer@example.org"))
        token = issue_token(person, person, "probe", 30)
        db.session.commit()
    client = solo.test_client()
    with scheduler_commits_at_the_worst_moment(solo):
        with solo.app_context():
            response = client.get("/api/v1/calls", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    with solo.app_context():
        used = db.session.scalar(select(ApiToken.last_used_at).where(ApiToken.name == "probe"))
        assert used is not None


def test_pages_are_read_while_the_scheduler_writes(solo):
    """Reads begin DEFERRED and the log lets them proceed: a page does not wait for a
    scheduler transaction to end."""
    client = solo.test_client()
    with HeldWrite(solo) as scheduler:
        with solo.app_context():
            assert not begins_writing()
            response = client.get("/calls")
        assert response.status_code == 200
        assert not scheduler.committed.is_set()  # served while the write was still open


def test_write_intent_decides_outside_requests(solo):
    with solo.app_context():
        assert not begins_writing()
        with write_intent():
            assert begins_writing()
            with write_intent(False):
                assert not begins_writing()
    with solo.app_context(), click.Context(click.Command("users")):
        assert begins_writing()  # an operator's command
    with solo.test_request_context("/", method="GET"):
        assert not begins_writing()
    with solo.test_request_context("/calls/1", method="POST"):
        assert begins_writing()
    with solo.test_request_context("/login", method="POST"):
        assert request.endpoint == "security.login" and not begins_writing()  # a reader first
        writes_from_now()
        assert begins_writing()


class LockProbe:
    """An SMTP server that, while it receives an email, checks that it could take the
    database's write lock at once: the dispatcher holds no transaction across a send."""

    def __init__(self, database: str):
        self.database = database
        self.free: list[bool] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        probe = sqlite3.connect(self.database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            self.free.append(True)
        except sqlite3.OperationalError:
            self.free.append(False)
        finally:
            probe.close()
        return "250 Message accepted for delivery"


def test_the_outbox_sends_outside_any_transaction(solo):
    with solo.app_context():
        database = db.engine.url.database
        person = db.session.scalar(select(User).where(User.email == "writer@example.org"))
        db.session.add_all(
            Notification(
                dedupe_key=f"probe:{n}",
                rule="probe",
                category="applications",
                recipient_id=person.id,
                channel="email",
                entity_type="user",
                entity_id=person.id,
                subject="A probe",
                body="While this travels, the database is free.",
            )
            for n in range(3)
        )
        db.session.commit()
    probe = LockProbe(database)
    smtp = Controller(probe, hostname="127.0.0.1", port=free_port())
    smtp.start()
    mail = solo.extensions["mail"]
    saved = (solo.config["MAIL_SERVER"], mail.server, mail.port, mail.suppress)
    solo.config["MAIL_SERVER"] = mail.server = "127.0.0.1"
    mail.port, mail.suppress = smtp.port, False
    try:
        dispatch = next(job for job in JOBS if job.name == "dispatch")
        outcome = run_job(solo, dispatch)
    finally:
        smtp.stop()
        solo.config["MAIL_SERVER"], mail.server, mail.port, mail.suppress = saved
    assert outcome.error == "" and outcome.items == 3
    assert probe.free == [True, True, True]
    with solo.app_context():
        states = db.session.scalars(
            select(Notification.state).where(Notification.rule == "probe")
        ).all()
        assert states == ["sent"] * 3
