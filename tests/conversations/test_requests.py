"""Writing in a thread: a request for information answered with a document while the
application stays where it is, the reminders of the request, the notifications in each
recipient's language, the audit rows, and bad input refused with its reason and nothing
written (on the pages and through the API)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest
import time_machine
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import AuditRow, Document, Message, Notification, Thread
from grants.services import conversations
from grants.services.errors import Forbidden, InvalidInput
from notifications.reminders import REMINDERS, sweep_rule
from tests.clients import text_of
from tests.conversations.conftest import bearer
from tests.documents.test_filetypes import pdf_bytes, windows_exe_bytes
from tests.fixtures.programme import make_application, make_award, make_call

TODAY = datetime(2027, 4, 6, 9, 0, tzinfo=UTC)
RULE = next(rule for rule in REMINDERS if rule.name == "information_due")


def counts() -> tuple[int, int, int, int]:
    """Threads, messages, their documents and audit rows: what a refusal must not add."""
    return (
        db.session.scalar(select(func.count()).select_from(Thread)),
        db.session.scalar(select(func.count()).select_from(Message)),
        db.session.scalar(
            select(func.count()).select_from(Document).where(Document.message_id.is_not(None))
        ),
        db.session.scalar(select(func.count()).select_from(AuditRow)),
    )


@pytest.fixture
def submitted(world):
    return make_application(world, make_call(world), state="submitted")


def test_a_request_is_answered_with_a_document_and_the_application_stays_put(
    world, submitted, login
):
    with time_machine.travel(TODAY, tick=False):
        officer, member = login(world.officer), login(world.applicant)
        asked = officer.post(
            f"/applications/{submitted.id}/thread/request",
            data={"body": "Please send the letter of the partner, signed.", "due_on": "2027-04-20"},
        )
        assert asked.status_code == 303
        request = db.session.scalars(select(Message).where(Message.kind == "request")).one()
        assert request.due_on == date(2027, 4, 20) and request.is_open
        page = text_of(member.get(f"/applications/{submitted.id}"))
        assert "Open requests for information" in page
        assert "Please send the letter of the partner, signed." in page
        answered = member.post(
            f"/applications/{submitted.id}/thread",
            data={
                "body": "Here is the letter.",
                "in_answer_to": str(request.id),
                "file": (io.BytesIO(pdf_bytes()), "letter.pdf"),
            },
            content_type="multipart/form-data",
        )
        assert answered.status_code == 303
        closed = officer.post(f"/thread/requests/{request.id}/close", data={})
        assert closed.status_code == 303
    answer = db.session.scalars(select(Message).where(Message.in_answer_to_id == request.id)).one()
    assert [d.filename for d in answer.attachments] == ["letter.pdf"]
    db.session.refresh(submitted)
    assert submitted.state == "submitted"
    db.session.refresh(request)
    assert not request.is_open and request.closed_by_id == world.officer.id
    kinds = db.session.scalars(select(AuditRow.kind).order_by(AuditRow.id)).all()
    for kind in ("request.sent", "message.posted", "message.attached", "request.closed"):
        assert kind in kinds
    # The application's own trail, beside its history, shows them to the officer.
    from grants.services import audit

    card = audit.record_trail(world.officer, "application", submitted.id)
    assert {"request.sent", "message.posted", "message.attached", "request.closed"} <= {
        row.kind for row in card
    }
    # Closed, it can be answered no more.
    with pytest.raises(InvalidInput, match="closed"):
        conversations.post(
            world.applicant,
            conversations.Subject("application", submitted),
            "Another answer",
            in_answer_to=request.id,
        )


def test_members_and_officers_are_told_in_their_language(world, submitted):
    world.applicant.locale = "fr"
    db.session.flush()
    subject = conversations.Subject("application", submitted)
    conversations.post(
        world.officer, subject, "Le budget ?", kind="request", due_on=date(2099, 1, 1)
    )
    told = db.session.scalars(
        select(Notification).where(
            Notification.recipient_id == world.applicant.id, Notification.channel == "in_app"
        )
    ).one()
    assert told.category == "conversations" and submitted.reference in told.subject
    assert told.subject.startswith("Informations demandées")
    assert "1 janvier 2099" in told.subject
    conversations.post(world.applicant, subject, "Le voici.")
    officers = db.session.scalars(
        select(Notification.recipient_id).where(Notification.rule == "thread_message")
    ).all()
    assert world.officer.id in officers and world.applicant.id not in officers


def test_an_internal_note_tells_no_one(world, submitted):
    conversations.post(
        world.officer, conversations.Subject("application", submitted), "Note", kind="note"
    )
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0


def test_notification_preferences_are_followed(world, submitted):
    from notifications.outbox import set_preferences

    set_preferences(world.applicant, {"conversations": "in_app"})
    conversations.post(world.officer, conversations.Subject("application", submitted), "Hi")
    channels = db.session.scalars(
        select(Notification.channel).where(Notification.recipient_id == world.applicant.id)
    ).all()
    assert channels == ["in_app"]


def test_the_request_is_reminded_before_it_is_due_and_once_overdue(world, submitted, app):
    subject = conversations.Subject("application", submitted)
    with time_machine.travel(TODAY, tick=False):
        request = conversations.post(
            world.officer, subject, "The budget?", kind="request", due_on=date(2027, 4, 10)
        )
    settings = app.config

    def reminded(moment: datetime) -> int:
        return sweep_rule(RULE, moment, settings)

    assert reminded(TODAY) == 0  # four days ahead: not yet
    assert reminded(datetime(2027, 4, 7, 9, tzinfo=UTC)) == 1  # three days: "3d"
    assert reminded(datetime(2027, 4, 7, 10, tzinfo=UTC)) == 0  # once
    assert reminded(datetime(2027, 4, 9, 9, tzinfo=UTC)) == 1  # the day before: "1d"
    assert reminded(datetime(2027, 4, 12, 9, tzinfo=UTC)) == 1  # overdue, once
    assert reminded(datetime(2027, 4, 19, 9, tzinfo=UTC)) == 0
    subjects = db.session.scalars(
        select(Notification.subject).where(
            Notification.rule == "information_due", Notification.channel == "in_app"
        )
    ).all()
    assert len(subjects) == 3 and all(submitted.reference in s for s in subjects)
    # Answered, it is reminded no more, whatever comes due.
    other = conversations.post(
        world.officer, subject, "And the letter?", kind="request", due_on=date(2027, 4, 20)
    )
    conversations.post(world.applicant, subject, "Attached.", in_answer_to=other.id)
    assert reminded(datetime(2027, 4, 19, 9, tzinfo=UTC)) == 0
    assert request.id != other.id


# --- bad input ------------------------------------------------------------------------------


def test_an_empty_message_is_refused_and_nothing_is_written(world, submitted, login):
    member = login(world.applicant)
    before = counts()
    response = member.post(
        f"/applications/{submitted.id}/thread", data={"body": "   "}, follow_redirects=True
    )
    assert "Write a message before sending it." in text_of(response)
    assert counts() == before


def test_an_attachment_refused_by_its_content_leaves_no_message(world, submitted, login):
    member = login(world.applicant)
    before = counts()
    response = member.post(
        f"/applications/{submitted.id}/thread",
        data={
            "body": "Our budget, attached.",
            "file": (io.BytesIO(windows_exe_bytes()), "budget.pdf"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    text = text_of(response)
    assert "whatever its name says" in text
    # The message typed is offered again.
    assert "Our budget, attached." in response.get_data(as_text=True)
    assert counts() == before


def test_a_request_due_in_the_past_is_refused_and_nothing_is_written(world, submitted, login):
    with time_machine.travel(TODAY, tick=False):
        officer = login(world.officer)
        before = counts()
        response = officer.post(
            f"/applications/{submitted.id}/thread/request",
            data={"body": "The letter, please.", "due_on": "2027-04-05"},
            follow_redirects=True,
        )
    assert "The due date is in the past: choose today or a later day." in text_of(response)
    assert counts() == before


def test_a_member_cannot_write_a_note_nor_ask_for_information(world, submitted):
    subject = conversations.Subject("application", submitted)
    before = counts()
    with pytest.raises(Forbidden):
        conversations.post(world.applicant, subject, "Hidden?", kind="note")
    with pytest.raises(Forbidden):
        conversations.post(
            world.applicant, subject, "Asking", kind="request", due_on=date(2099, 1, 1)
        )
    with pytest.raises(Forbidden):
        conversations.post(
            world.finance,
            conversations.Subject("award", make_award(world)),
            "?",
            kind="request",
            due_on=date(2099, 1, 1),
        )
    assert counts()[:3] == before[:3]


# --- the API --------------------------------------------------------------------------------


def test_the_api_posts_attaches_and_closes(world, submitted, client):
    officer, member = bearer(world.officer), bearer(world.applicant)
    path = f"/api/v1/applications/{submitted.id}/thread"
    asked = client.post(
        f"{path}/messages",
        json={"body": "The letter?", "kind": "request", "due_on": "2099-01-01"},
        headers=officer,
    )
    assert asked.status_code == 201, asked.get_json()
    request_id = asked.get_json()["id"]
    attached = client.post(
        f"{path}/attachments",
        data={
            "body": "Here it is",
            "in_answer_to": str(request_id),
            "file": (io.BytesIO(pdf_bytes()), "letter.pdf"),
        },
        headers=member,
        content_type="multipart/form-data",
        csrf=False,
    )
    assert attached.status_code == 201, attached.get_json()
    assert attached.get_json()["attachments"][0]["filename"] == "letter.pdf"
    assert (
        client.post(
            f"/api/v1/thread/requests/{request_id}/close", json={}, headers=member
        ).status_code
        == 403
    )
    closed = client.post(f"/api/v1/thread/requests/{request_id}/close", json={}, headers=officer)
    assert closed.status_code == 200 and closed.get_json()["is_open"] is False
    read = client.get(path, headers=member).get_json()
    assert [m["kind"] for m in read["messages"]] == ["request", "message"]


def test_the_api_refuses_bad_input_with_field_errors_and_writes_nothing(world, submitted, client):
    officer = bearer(world.officer)
    path = f"/api/v1/applications/{submitted.id}/thread"
    with time_machine.travel(TODAY, tick=False):
        officer_then = bearer(world.officer)
    before = counts()
    empty = client.post(f"{path}/messages", json={"body": ""}, headers=officer)
    assert empty.status_code == 422
    assert empty.get_json()["errors"]["body"] == ["Write a message before sending it."]
    with time_machine.travel(TODAY, tick=False):
        past = client.post(
            f"{path}/messages",
            json={"body": "Budget?", "kind": "request", "due_on": "2027-01-01"},
            headers=officer_then,
        )
    assert past.status_code == 422 and "due_on" in past.get_json()["errors"]
    refused = client.post(
        f"{path}/attachments",
        data={"body": "File", "file": (io.BytesIO(windows_exe_bytes()), "budget.pdf")},
        headers=officer,
        content_type="multipart/form-data",
        csrf=False,
    )
    assert refused.status_code == 422 and "file" in refused.get_json()["errors"]
    assert counts() == before
