"""People choose per category: an email each time, a daily digest, or in-app only; the
security and money categories always email. And the admin's view of the outbox."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from grants.extensions import db
from grants.models import JobRun, Notification, NotificationPreference, ScheduledJob
from grants.services.workflow import fire
from notifications import outbox
from notifications.outbox import MAX_ATTEMPTS, dispatch, send_digests, set_preferences
from tests.clients import text_of
from tests.fixtures.people import give_verification_documents
from tests.fixtures.programme import NOW, make_application, make_call


def _rows(rule: str, channel: str) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(Notification.rule == rule, Notification.channel == channel)
        )
    )


def test_in_app_only_writes_no_email(world):
    set_preferences(world.applicant, {"applications": "in_app"})
    application = make_application(world, make_call(world), state="submitted")
    fire(application, "mark_eligible", world.officer, now=NOW)
    assert _rows("application_eligible", "email") == []
    assert len(_rows("application_eligible", "in_app")) == 1


def test_required_categories_always_email(world):
    # Even a preference written around the form does not silence money or security.
    db.session.add(
        NotificationPreference(user_id=world.applicant.id, category="account", mode="in_app")
    )
    set_preferences(world.applicant, {"money": "in_app"})
    assert {p.category for p in outbox.user_preferences(world.applicant.id)} == {"account"}
    association = world.association
    association.state = "pending"
    give_verification_documents(association)
    fire(association, "verify", world.officer, now=NOW)
    [email] = _rows("association_verified", "email")
    assert email.state == "pending"


def test_a_digest_bundles_the_day_once_after_the_digest_hour(world, mailbox, app):
    world.applicant.timezone = "Africa/Dakar"  # UTC+0
    set_preferences(world.applicant, {"decisions": "digest", "applications": "digest"})
    call = make_call(world)
    first = make_application(world, call, state="submitted")
    second = make_application(world, call, state="reviewed")
    fire(first, "mark_ineligible", world.officer, comment="Late.", now=NOW)
    fire(second, "reject", world.officer, comment="Below the line.", now=NOW, decision=1)
    held = db.session.scalars(
        select(Notification).where(
            Notification.recipient_id == world.applicant.id, Notification.state == "held"
        )
    ).all()
    assert len(held) == 2
    assert dispatch(now=NOW) == (0, 0)  # nothing goes out one by one
    morning = NOW.replace(hour=6)
    assert send_digests(morning + timedelta(days=1), hour=7) == 0  # before 07:00 local
    later = NOW.replace(hour=8) + timedelta(days=1)
    assert send_digests(later, hour=7) == 1
    assert send_digests(later + timedelta(hours=3), hour=7) == 0  # once a day
    assert dispatch(now=later) == (1, 0)
    [message] = mailbox.to(world.applicant.email)
    assert message["Subject"] == "Your daily summary: 2 notifications"
    body = mailbox.body(message)
    assert f"{first.reference} is not eligible: Late." in body
    assert f"{second.reference} is not funded: Below the line." in body
    assert message.get_body(preferencelist=("html",)) is not None
    assert {row.state for row in held} == {"sent"}


def test_the_preferences_page_saves_and_refuses_unknown_choices(world, login):
    client = login(world.applicant)
    page = text_of(client.get("/account/notifications"))
    assert "Applications and deadlines" in page
    assert "Awards, bank details and payments" in page  # listed as always by email
    response = client.post(
        "/account/notifications",
        data={"applications": "carrier pigeon", "evaluation": "digest", "decisions": "in_app"},
    )
    assert response.status_code == 200
    assert "Not a valid choice" in text_of(response)
    assert outbox.user_preferences(world.applicant.id) == []  # nothing half-saved
    response = client.post(
        "/account/notifications",
        data={
            "applications": "digest",
            "evaluation": "immediate",
            "decisions": "in_app",
            "reports": "immediate",
            "conversations": "in_app",
        },
    )
    assert response.status_code == 302
    chosen = {p.category: p.mode for p in outbox.user_preferences(world.applicant.id)}
    assert chosen == {
        "applications": "digest",
        "evaluation": "immediate",
        "decisions": "in_app",
        "reports": "immediate",
        "conversations": "in_app",
    }


def test_admins_see_failed_emails_and_retry_them(world, login, mailbox, smtp_server, app):
    application = make_application(world, make_call(world), state="submitted")
    fire(application, "mark_eligible", world.officer)
    app.extensions["mail"].port = 1
    moment = NOW
    for _ in range(MAX_ATTEMPTS):
        dispatch(now=moment)
        moment += timedelta(days=1)
    [row] = _rows("application_eligible", "email")
    assert row.state == "failed"
    db.session.add(JobRun(job="dispatch", host="web-1:42", started_at=NOW, items=3, error=""))
    db.session.add(ScheduledJob(name="sweep", description="Sweep", next_run_at=NOW, leader="h:1"))
    db.session.flush()
    client = login(world.admin)
    page = text_of(client.get("/admin/scheduler"))
    assert "Failed 1" in " ".join(page.split())
    assert world.applicant.email in page and "Connection refused" in page
    assert "web-1:42" in page and "h:1" in page
    assert "report_due" in page  # the rules table
    retried = client.post(f"/admin/outbox/{row.id}/retry")
    assert retried.status_code == 303
    db.session.refresh(row)
    assert row.state == "pending" and row.attempts == 0
    again = client.post(f"/admin/outbox/{row.id}/retry", follow_redirects=True)
    assert "Only a failed notification can be retried." in text_of(again)
    app.extensions["mail"].port = smtp_server.port
    assert dispatch(now=moment) == (1, 0)
    assert len(mailbox.to(world.applicant.email)) == 1
