"""Claims on outbox rows belong to the leader's lease: a new leader frees a dead one's
rows at once, a leader cut off sends nothing more, an email caught in the crash window
goes again with the same Message-ID, and claims made outside the scheduler still expire
on their own. Time is controlled; nothing waits on the clock."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import select

from grants.extensions import db
from grants.models import Notification, SchedulerLease
from notifications import claims
from notifications.mailer import send_email
from notifications.outbox import MAX_ATTEMPTS, Message, compose, dispatch, message_id, write

T = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _emails(world, count: int) -> list[Notification]:
    """``count`` immediate emails to the applicant, written as the outbox writes them."""
    batch = [
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
            f"award_signed:lease-test-{n}",
        )
        for n in range(count)
    ]
    write(batch, T)
    db.session.commit()
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.channel == "email", Notification.rule == "award_signed")
            .order_by(Notification.id)
        )
    )


def _rows() -> list[Notification]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(Notification).where(Notification.channel == "email").order_by(Notification.id)
        )
    )


def test_a_new_leader_frees_a_dead_leaders_claims_at_once(world, mailbox):
    rows = _emails(world, 3)
    with time_machine.travel(T, tick=False):
        dead = claims.begin("host-a:1")
        assert claims.claim(T, 20, dead) == [r.id for r in rows]
        # The leader hands the first email to SMTP, which accepts it, then dies before
        # the row says so: the crash window.
        assert claims.start_attempt(rows[0].id, T, dead)
        send_email(**compose(rows[0]))
    taken_over = T + timedelta(seconds=1.3)
    with time_machine.travel(taken_over, tick=False):
        lease = claims.begin("host-b:2")
        assert db.session.get(SchedulerLease, dead).ended_at == taken_over
        interrupted, *untouched = _rows()
        assert all(r.claimed_by is None and r.next_attempt_at <= taken_over for r in _rows())
        assert interrupted.attempts == 1 and interrupted.last_error == claims.INTERRUPTED
        assert [(r.attempts, r.last_error) for r in untouched] == [(0, ""), (0, "")]

        assert dispatch(lease=lease) == (3, 0)
    assert [(r.state, r.claimed_by) for r in _rows()] == [("sent", None)] * 3
    assert _rows()[0].attempts == 2
    received = Counter(m["Message-ID"] for m in mailbox.to(world.applicant.email))
    assert received == {
        message_id(rows[0]): 2,
        message_id(rows[1]): 1,
        message_id(rows[2]): 1,
    }


def test_a_leader_cut_off_sends_nothing_more(world, mailbox):
    rows = _emails(world, 2)
    with time_machine.travel(T, tick=False):
        cut_off = claims.begin("host-a:1")
        assert claims.claim(T, 1, cut_off) == [rows[0].id]
    with time_machine.travel(T + timedelta(seconds=2), tick=False):
        lease = claims.begin("host-b:2")
        # The old process still runs and has not noticed: its claim and lease are gone.
        assert not claims.start_attempt(rows[0].id, T, cut_off)
        assert claims.claim(T, 20, cut_off) == []
        assert dispatch(lease=cut_off) == (0, 0)
        assert mailbox.messages == []
        assert dispatch(lease=lease) == (2, 0)
    assert sorted(m["Message-ID"] for m in mailbox.messages) == sorted(map(message_id, rows))


def test_a_leader_frees_what_an_earlier_run_of_its_own_left(world, mailbox):
    """Its database connection was cut after SMTP accepted the email: the row stayed
    claimed by a live lease. The leader's next run sends it again, same Message-ID."""
    [row] = _emails(world, 1)
    with time_machine.travel(T, tick=False):
        lease = claims.begin("host-a:1")
        claims.claim(T, 20, lease)
        claims.start_attempt(row.id, T, lease)
        send_email(**compose(row))
    later = T + timedelta(seconds=10)
    with time_machine.travel(later, tick=False):
        assert dispatch(lease=lease) == (1, 0)
    [row] = _rows()
    assert (row.state, row.attempts, row.sent_at) == ("sent", 2, later)
    assert [m["Message-ID"] for m in mailbox.messages] == [message_id(row)] * 2


def test_an_email_that_stops_every_dispatcher_ends_failed(world):
    [row] = _emails(world, 1)
    moment = T
    for _ in range(MAX_ATTEMPTS):
        with time_machine.travel(moment, tick=False):
            lease = claims.begin(f"host:{moment.second}")
            assert claims.claim(moment, 20, lease) == [row.id]
            assert claims.start_attempt(row.id, moment, lease)
        moment += timedelta(seconds=5)
    with time_machine.travel(moment, tick=False):
        claims.begin("host:last")
    [row] = _rows()
    assert (row.state, row.attempts, row.last_error) == (
        "failed",
        MAX_ATTEMPTS,
        claims.INTERRUPTED,
    )


def test_a_claim_made_outside_the_scheduler_expires_on_its_own(world, mailbox):
    """``flask scheduler once dispatch`` holds no lease: no leader can tell whether that
    process lives, so its claim is left alone until ``CLAIM_LEASE`` has passed."""
    rows = _emails(world, 2)
    with time_machine.travel(T, tick=False):
        assert claims.claim(T, 20) == [r.id for r in rows]
    with time_machine.travel(T + timedelta(seconds=1), tick=False):
        lease = claims.begin("host-b:2")
        assert dispatch(lease=lease) == (0, 0)
    with time_machine.travel(T + claims.CLAIM_LEASE, tick=False):
        assert dispatch(lease=lease) == (2, 0)
    assert len(mailbox.messages) == 2


def test_a_leader_stepping_down_frees_its_rows(world):
    rows = _emails(world, 2)
    with time_machine.travel(T, tick=False):
        lease = claims.begin("host-a:1")
        claims.claim(T, 20, lease)
        claims.end(lease)
    assert db.session.get(SchedulerLease, lease).ended_at == T
    assert [(r.claimed_by, r.attempts) for r in _rows()] == [(None, 0)] * len(rows)


def test_the_message_id_is_stable_and_names_the_senders_domain(world, app):
    first, second = _emails(world, 2)
    saved = app.config["MAIL_DEFAULT_SENDER"]
    try:
        app.config["MAIL_DEFAULT_SENDER"] = "Diaspora Grants <no-reply@grants.example.org>"
        stable = message_id(first)
        assert re.fullmatch(
            rf"<notification-{first.id}\.[0-9a-f]{{16}}@grants\.example\.org>", stable
        )
        db.session.expire_all()
        assert message_id(db.session.get(Notification, first.id)) == stable
        assert message_id(second) != stable
        app.config["MAIL_DEFAULT_SENDER"] = ("Diaspora Grants", "grants@ministry.example")
        assert message_id(first).endswith("@ministry.example>")
        app.config["MAIL_DEFAULT_SENDER"] = "Diaspora Grants"
        assert message_id(first).endswith("@grants.test>")  # BASE_URL's host
    finally:
        app.config["MAIL_DEFAULT_SENDER"] = saved
