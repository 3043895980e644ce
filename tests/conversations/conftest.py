"""What the conversation tests share: an application and a grant, each with a thread
holding a message, an internal note, and a note shared with the evaluators."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from grants.extensions import db
from grants.models import Application, Award, Message
from grants.services import conversations
from grants.services.accounts import issue_token
from grants.services.evaluation import attest_no_conflict
from tests.fixtures.programme import make_application, make_award, make_call, make_review

MESSAGE = "Could you confirm the start date of the training?"
NOTE = "Internal: the partner letter looks weak, check with the embassy."
SHARED = "Shared: the budget was revised after screening."
GRANT_MESSAGE = "Your interim report is expected in December."
GRANT_NOTE = "Internal: the bank changed its BIC last month."


@dataclass
class Threads:
    application: Application
    award: Award
    message: Message
    note: Message
    shared: Message
    grant_message: Message
    grant_note: Message


def bearer(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(user, user, 'test', 30)}"}


def write(person, kind: str, record, body: str, message_kind: str = "message") -> Message:
    subject = conversations.Subject(kind, record)
    return conversations.post(person, subject, body, kind=message_kind)


def threads_on(world, blind: bool = False) -> Threads:
    call = make_call(world, blind_review=blind)
    application = make_application(world, call, state="in_review")
    review = make_review(world, application, scored=False)
    attest_no_conflict(world.evaluator, review)
    message = write(world.officer, "application", application, MESSAGE)
    note = write(world.officer, "application", application, NOTE, "note")
    shared = write(world.officer, "application", application, SHARED, "note")
    shared.shared_with_evaluators = True  # as an officer may outside a blind call
    award = make_award(world, state="active")
    grant_message = write(world.officer, "award", award, GRANT_MESSAGE)
    grant_note = write(world.finance, "award", award, GRANT_NOTE, "note")
    db.session.flush()
    return Threads(application, award, message, note, shared, grant_message, grant_note)


@pytest.fixture
def threads(world) -> Threads:
    return threads_on(world)
