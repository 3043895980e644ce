"""A real scheduler process killed in the middle of sending the outbox, on PostgreSQL,
with a real SMTP server: the next leader takes over the dead one's claims at once, every
email arrives, and only the one caught between SMTP's acceptance and the row's update
arrives twice, both times with the same Message-ID."""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter

from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import JobRun, Notification, SchedulerLease
from notifications.claims import INTERRUPTED
from notifications.outbox import CLAIM_BATCH, Message, message_id, write
from tests.notifications.test_scheduler import _start, _wait_for

EMAILS = 30
#: Well below the ten minutes a dead leader's claims used to wait.
TAKEOVER_BOUND = 30
STARTUP_BOUND = 60


def _emails(world, count: int) -> None:
    write(
        [
            (
                Message(
                    "award_signed",
                    "money",
                    "Grant agreement %(n)s signed",
                    "Your grant agreement is signed.",
                    "award",
                    n,
                    f"/grants/{n}",
                    {"n": str(n)},
                ),
                [world.applicant],
                f"award_signed:crash-test-{n}",
            )
            for n in range(count)
        ]
    )
    db.session.commit()


def _count(*where) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(*where))


def test_a_killed_leaders_mail_is_taken_over_at_once_and_sent_once(
    committed, smtp_server, tmp_path
):
    smtp_server.handler.messages.clear()
    smtp_server.handler.hold_after_acceptance()
    try:
        with committed.app_context():
            _kill_mid_dispatch(committed, smtp_server, tmp_path)
    finally:
        smtp_server.handler.release()


def _kill_mid_dispatch(app, server: Controller, tmp_path) -> None:
    from tests.fixtures.programme import make_world

    handler = server.handler
    world = make_world()
    _emails(world, EMAILS)
    emails = Notification.channel == "email"
    processes: list[subprocess.Popen] = []
    try:
        first = _start(app, server.port, tmp_path, "first")
        processes.append(first)
        assert handler.holding.wait(60), "the first scheduler never sent an email"

        # The first email is accepted and its sender held: the leader holds a batch.
        db.session.rollback()
        [lease] = db.session.scalars(select(SchedulerLease)).all()
        assert lease.holder.endswith(f":{first.pid}") and lease.ended_at is None
        assert _count(emails, Notification.claimed_by == lease.id) == CLAIM_BATCH
        [in_flight] = db.session.scalars(
            select(Notification).where(emails, Notification.attempted_at.is_not(None))
        ).all()
        assert (in_flight.state, in_flight.claimed_by) == ("pending", lease.id)
        assert len(handler.messages) == 1

        first.send_signal(signal.SIGKILL)
        first.wait(10)
        handler.release()

        second = _start(app, server.port, tmp_path, "second")
        processes.append(second)
        # Starting Python and the app takes seconds on a busy machine; the bound is on
        # what follows the moment the second process leads.
        _wait_for(
            lambda: db.session.scalar(select(func.count(SchedulerLease.id))) == 2,
            STARTUP_BOUND,
            "the second scheduler to lead",
        )
        leading = time.monotonic()
        _wait_for(
            lambda: _count(emails, Notification.state == "sent") == EMAILS,
            TAKEOVER_BOUND,
            f"the second leader to send all {EMAILS} emails",
        )
        took = time.monotonic() - leading
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()

    db.session.rollback()
    assert took < TAKEOVER_BOUND
    leases = db.session.scalars(select(SchedulerLease).order_by(SchedulerLease.id)).all()
    sent_at = db.session.scalar(select(func.max(Notification.sent_at)).where(emails))
    print(
        f"\nall {EMAILS} emails sent {took:.1f} s after the second process led; its "
        f"dispatch run began {(sent_at - leases[1].acquired_at).total_seconds():.2f} s "
        "after it took the lead"
    )
    assert leases[0].ended_at is not None  # the new leader ended the dead one's lease
    assert leases[1].holder.endswith(f":{second.pid}")
    assert db.session.scalar(
        select(func.count(JobRun.id)).where(JobRun.host.endswith(f":{second.pid}"))
    )

    rows = db.session.scalars(select(Notification).where(emails)).all()
    assert {(r.state, r.claimed_by) for r in rows} == {("sent", None)}
    with handler.lock:
        received = Counter(m["Message-ID"] for m in handler.messages)
    assert set(received) == {message_id(r) for r in rows}, "every notification delivered"
    resent = db.session.get(Notification, in_flight.id)
    assert {mid: n for mid, n in received.items() if n > 1} == {message_id(resent): 2}
    assert (resent.attempts, resent.last_error) == (2, INTERRUPTED)
    assert all(r.attempts == 1 for r in rows if r.id != resent.id)
