"""The outbox: rows written with the change, none after a rollback, each email delivered
once over real SMTP, retried with backoff while the server is down, and an in-app inbox."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from grants.extensions import db
from grants.models import Notification
from grants.orm import utcnow
from grants.services.workflow import fire
from notifications.outbox import MAX_ATTEMPTS, dispatch
from tests.clients import text_of
from tests.fixtures.programme import NOW, make_application, make_call


def _count(**filters) -> int:
    statement = select(func.count(Notification.id))
    for name, value in filters.items():
        statement = statement.where(getattr(Notification, name) == value)
    return db.session.scalar(statement)


def test_submitting_notifies_members_and_officers_in_the_same_transaction(world):
    application = make_application(world, make_call(world))
    fire(application, "submit", world.applicant, now=NOW)
    recipients = set(
        db.session.scalars(
            select(Notification.recipient_id).where(Notification.rule == "application_submitted")
        )
    )
    assert recipients == {world.applicant.id, world.officer.id}
    assert _count(channel="email", state="pending") == 2
    assert _count(channel="in_app") == 2


def test_a_rolled_back_change_leaves_no_notification(world):
    application = make_application(world, make_call(world))
    with db.session.begin_nested() as savepoint:
        fire(application, "submit", world.applicant, now=NOW)
        assert _count() == 4
        savepoint.rollback()
    assert _count() == 0


def test_each_email_is_delivered_once_with_the_reason(world, mailbox):
    application = make_application(world, make_call(world), state="submitted")
    fire(application, "mark_ineligible", world.officer, comment="Co-financing is 9 %.")
    assert dispatch() == (1, 0)
    assert dispatch() == (0, 0)
    [message] = mailbox.to(world.applicant.email)
    assert "is not eligible: Co-financing is 9 %." in mailbox.body(message)
    assert message["Message-ID"].startswith("<notification-")


def test_smtp_down_rows_wait_then_go_once(world, mailbox, smtp_server, app):
    application = make_application(world, make_call(world), state="submitted")
    fire(application, "mark_eligible", world.officer)
    state = app.extensions["mail"]
    state.port = 1  # nothing listens there
    now = utcnow()
    assert dispatch(now=now) == (0, 1)
    [row] = db.session.scalars(select(Notification).where(Notification.channel == "email"))
    assert row.state == "pending" and row.attempts == 1 and row.next_attempt_at > now
    assert dispatch(now=now) == (0, 0)  # not due yet
    state.port = smtp_server.port
    assert dispatch(now=row.next_attempt_at) == (1, 0)
    assert len(mailbox.to(world.applicant.email)) == 1


def test_after_the_last_attempt_a_row_is_failed_not_lost(world, mailbox, app):
    application = make_application(world, make_call(world), state="submitted")
    fire(application, "mark_eligible", world.officer)
    app.extensions["mail"].port = 1
    moment = utcnow()
    for _ in range(MAX_ATTEMPTS):
        dispatch(now=moment)
        moment += timedelta(days=1)
    [row] = db.session.scalars(select(Notification).where(Notification.channel == "email"))
    assert row.state == "failed" and row.attempts == MAX_ATTEMPTS and row.last_error


def test_the_inbox_shows_unread_notifications(world, login):
    application = make_application(world, make_call(world), state="submitted")
    fire(application, "mark_ineligible", world.officer, comment="Too late.")
    client = login(world.applicant)
    home = client.get("/").get_data(as_text=True)
    assert 'class="badge">1' in home
    page = text_of(client.get("/notifications/"))
    assert f"Application {application.reference} is not eligible" in page
    client.post("/notifications/read")
    assert 'class="badge"' not in client.get("/").get_data(as_text=True)
