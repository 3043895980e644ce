"""The scheduler: one leader at a time, every run recorded, web workers never schedule,
and two real scheduler processes against PostgreSQL handle each item exactly once, even
when the leader is killed in the middle of a sweep."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text

from grants.extensions import db
from grants.models import JobRun, Notification, Reminder, Report
from grants.orm import utcnow
from notifications.scheduler import (
    FileLeadership,
    Job,
    PostgresLeadership,
    run_job,
)
from tests.conftest import TEST_SECRET_KEY
from tests.fixtures.programme import make_award
from tests.fixtures.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_a_file_lock_lets_one_scheduler_lead(tmp_path):
    first, second = FileLeadership(tmp_path / "s.lock"), FileLeadership(tmp_path / "s.lock")
    assert first.try_acquire()
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire() and second.still_held()
    second.release()


def test_an_advisory_lock_lets_one_scheduler_lead(app, backend):
    if backend != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    first, second = PostgresLeadership(url), PostgresLeadership(url)
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        assert first.still_held()
        pid = first.connection.execute(text("SELECT pg_backend_pid()")).scalar()
        first.connection.close()  # the leader's connection dies with its process
        first.connection = None
        # The server frees the lock once that backend has exited, a moment after the
        # socket closed: wait for it server-side (at most 10 s; a no-op once it is gone).
        second.connection.execute(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": pid})
        assert second.try_acquire()
    finally:
        first.release()
        second.release()


def test_every_run_is_recorded_with_its_count_or_its_error(app):
    counted = Job("counted", "", lambda app, now: 7, lambda app: None)
    broken = Job("broken", "", lambda app, now: 1 / 0, lambda app: None)
    assert run_job(app, counted, host="h:1").items == 7
    outcome = run_job(app, broken, host="h:1")
    assert outcome.items == 0 and "ZeroDivisionError" in outcome.error
    runs = db.session.scalars(select(JobRun).order_by(JobRun.id)).all()
    assert [(r.job, r.items, bool(r.error), r.finished_at is not None) for r in runs] == [
        ("counted", 7, False, True),
        ("broken", 0, True, True),
    ]


def test_web_workers_never_start_a_scheduler(client):
    client.get("/")
    assert not [t for t in threading.enumerate() if t.name == "scheduler"]


# --- two real processes ------------------------------------------------------------------


def _start(app, smtp_port: int, tmp_path: Path, name: str) -> subprocess.Popen:
    env = dict(
        os.environ,
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        SECRET_KEY=TEST_SECRET_KEY,
        INSTANCE_PATH=str(tmp_path / name),
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp_port),
        BASE_URL="http://grants.test",
        SCHEDULER_LEADER_POLL_SECONDS="1",
        SCHEDULER_DISPATCH_SECONDS="1",
        SCHEDULER_SWEEP_SECONDS="2",
        LOG_LEVEL="warning",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / f"{name}.log", "w"),  # noqa: SIM115
    )


def _wait_for(condition, seconds: float, what: str) -> None:
    """Poll the database until ``condition`` holds; the processes run on real time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.rollback()  # a fresh snapshot each time
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def _due_reports(award_id: int, count: int) -> None:
    due = date.today() + timedelta(days=10)  # inside the 14-day window, real time
    db.session.execute(
        insert(Report),
        [
            dict(award_id=award_id, kind="interim", due_date=due, state="scheduled", version=1)
            for _ in range(count)
        ],
    )
    db.session.commit()


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _emails_pending() -> int:
    return _count(Notification, Notification.channel == "email", Notification.state != "sent")


def test_two_scheduler_processes_handle_everything_once(committed, smtp_server, tmp_path):
    with committed.app_context():
        _two_schedulers(committed, smtp_server, tmp_path)


def _two_schedulers(committed, smtp_server, tmp_path) -> None:
    from tests.fixtures.programme import make_world

    world = make_world()
    award = make_award(world, state="active", with_schedule=False)
    db.session.commit()
    award_id, member = award.id, world.applicant.email
    smtp_server.handler.messages.clear()
    processes = [_start(committed, smtp_server.port, tmp_path, n) for n in ("one", "two")]
    try:
        # Side by side: work arrives while both run; one leads, nothing is done twice.
        _wait_for(lambda: _count(JobRun, JobRun.job == "sweep") >= 1, 60, "a first sweep")
        _due_reports(award_id, 150)
        _wait_for(
            lambda: _count(Reminder) == 150 and _emails_pending() == 0,
            60,
            "the first 150 reminders sent",
        )
        hosts = set(db.session.scalars(select(JobRun.host).distinct()))
        assert len(hosts) == 1, hosts
        [leader_host] = hosts
        leader = next(p for p in processes if leader_host.endswith(f":{p.pid}"))
        follower = next(p for p in processes if p is not leader)

        # Kill the leader in the middle of a sweep: the other takes over.
        _due_reports(award_id, 600)
        started = utcnow()
        _wait_for(
            lambda: (
                _count(
                    JobRun,
                    JobRun.job == "sweep",
                    JobRun.finished_at.is_(None),
                    JobRun.started_at >= started,
                )
                >= 1
            ),
            60,
            "a sweep in progress",
        )
        leader.send_signal(signal.SIGKILL)
        leader.wait(10)
        _wait_for(
            lambda: _count(Reminder) == 750 and _emails_pending() == 0,
            90,
            "the follower to finish the work",
        )
        assert _count(JobRun, JobRun.host.endswith(f":{follower.pid}")) >= 1
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()

    messages = [m for m in smtp_server.handler.messages if member in str(m["To"])]
    ids = Counter(m["Message-ID"] for m in messages)
    assert len(ids) == 750, f"{len(ids)} distinct emails for 750 reminders"
    assert max(ids.values()) == 1, [i for i, n in ids.items() if n > 1][:5]
    assert _count(Notification, Notification.channel == "email") == 750


def test_serve_runs_the_site_with_a_scheduler_beside_it(tmp_path):
    """What ``make run`` starts: the development server, and in the same process a
    scheduler that takes the file lock and runs the outbox at once."""
    import sqlite3
    import urllib.request

    env = dict(os.environ, INSTANCE_PATH=str(tmp_path), SECRET_KEY=TEST_SECRET_KEY)
    env.pop("DATABASE_URL", None)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        [*flask, "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        status, runs = None, 0
        while time.monotonic() < deadline and not (status == 200 and runs):
            time.sleep(0.1)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    status = r.status
            except OSError:
                continue
            with sqlite3.connect(tmp_path / "diaspora_grants.db") as database:
                runs = database.execute("SELECT count(*) FROM job_runs").fetchone()[0]
        assert status == 200 and runs >= 1
        assert (tmp_path / "diaspora_grants.scheduler-lock").exists()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(10)
