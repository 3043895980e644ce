"""The check's rules are the submission's guards: the checklist of a draft shows them,
the submission obeys them, and the draft keeps its answers to the call's questions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from grants.extensions import db
from grants.orm import utcnow
from tests.clients import text_of
from tests.fixtures.programme import make_application, make_award, make_call
from workflows import eligibility
from workflows.application import ApplicationLifecycle

QUESTION = {
    "key": "party",
    "text": {"en": "Is the association a political party?", "fr": "Êtes-vous un parti ?"},
    "excludes": "yes",
}


@pytest.fixture
def call(world):
    now = utcnow()
    return make_call(
        world,
        opens_at=now - timedelta(days=10),
        closes_at=now + timedelta(days=10),
        eligibility_questions=[QUESTION],
    )


@pytest.fixture
def draft(world, call):
    return make_application(world, call)


def _submit(client, application):
    return client.post(
        f"/applications/{application.id}/submit", data={"version": str(application.version)}
    )


def _answer(client, application, answer: str, version: int | None = None):
    return client.post(
        f"/applications/{application.id}/eligibility",
        data={"version": str(version or application.version), "question_party": answer},
    )


@pytest.mark.parametrize("event", ["submit", "submit_concept", "submit_proposal"])
def test_every_eligibility_rule_guards_every_submission(event):
    """Declared once: the guards are the check's own rules, not copies."""
    rules = {
        getattr(guard, "eligibility_rule", None)
        for guard in ApplicationLifecycle.rules[event].guards
    }
    who_may_apply = {
        eligibility.project_country_allowed,
        eligibility.registration_country_allowed,
        eligibility.association_may_submit,
        eligibility.no_overdue_report,
        eligibility.eligibility_questions_answered,
    }
    assert who_may_apply <= rules
    if event != "submit_concept":
        assert set(eligibility.RULES) <= rules


def test_an_unanswered_question_is_in_the_checklist_and_refuses_submission(world, login, draft):
    client = login(world.applicant)
    page = text_of(client.get(f"/applications/{draft.id}"))
    assert "Answer the eligibility questions: Is the association a political party?" in page
    assert 'href="#eligibility"' in client.get(f"/applications/{draft.id}").get_data(as_text=True)
    response = _submit(client, draft)
    assert response.status_code == 422
    assert "Answer the eligibility questions" in text_of(response)
    assert draft.state == "draft" and draft.submitted_at is None


def test_the_answer_that_excludes_refuses_submission_and_the_other_lets_it_through(
    world, login, draft
):
    client = login(world.applicant)
    assert _answer(client, draft, "yes").status_code == 303
    assert draft.eligibility_answers == {"party": "yes"}
    reason = "The call excludes associations that answer “Yes” to: Is the association"
    assert reason in text_of(client.get(f"/applications/{draft.id}"))
    refused = _submit(client, draft)
    assert refused.status_code == 422 and reason in text_of(refused)
    assert draft.state == "draft"
    assert _answer(client, draft, "no").status_code == 303
    assert _submit(client, draft).status_code == 303
    assert draft.state == "submitted"


def test_registration_country_and_overdue_reports_refuse_submission(world, login, call, draft):
    call.eligibility_questions = []
    call.registration_countries = ["BE"]
    award = make_award(world, state="active")
    award.reports[0].due_date = utcnow().date() - timedelta(days=3)
    db.session.flush()
    client = login(world.applicant)
    checklist = text_of(client.get(f"/applications/{draft.id}"))
    registered = "The association must be registered in Belgium; it is registered in France."
    overdue = "The association has 1 overdue report on an earlier grant"
    assert registered in checklist and overdue in checklist
    refused = _submit(client, draft)
    assert refused.status_code == 422
    assert registered in text_of(refused) and overdue in text_of(refused)
    assert draft.state == "draft"
    call.no_overdue_reports = False
    call.registration_countries = ["BE", "FR"]
    db.session.flush()
    assert _submit(client, draft).status_code == 303


def test_a_bad_answer_is_refused_next_to_the_question_and_nothing_changes(world, login, draft):
    client = login(world.applicant)
    _answer(client, draft, "no")
    version = draft.version
    response = _answer(client, draft, "perhaps")
    assert response.status_code == 422
    page = text_of(response)
    assert "Please correct the following" in page and "Not a valid choice" in page
    assert draft.eligibility_answers == {"party": "no"} and draft.version == version
    stale = _answer(client, draft, "yes", version=version - 1)
    assert stale.status_code == 409
    assert draft.eligibility_answers == {"party": "no"}


def test_officers_read_the_answers_and_cannot_change_them(world, login, draft):
    draft.eligibility_answers = {"party": "no"}
    draft.state = "submitted"
    db.session.flush()
    officer = login(world.officer)
    page = text_of(officer.get(f"/applications/{draft.id}"))
    assert "Eligibility questions" in page
    assert "Is the association a political party? No" in page
    assert _answer(officer, draft, "yes").status_code == 403
    assert draft.eligibility_answers == {"party": "no"}


def test_an_applicant_reads_the_question_in_their_language(world, login, draft):
    client = login(world.applicant)
    client.post("/language", data={"locale": "fr", "next": "/"})
    page = text_of(client.get(f"/applications/{draft.id}"))
    assert "Êtes-vous un parti ?" in page
