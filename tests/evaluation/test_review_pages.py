"""The evaluator's pages: the conflict step, scoring, blind review, and losing access."""

from __future__ import annotations

import pytest

from grants.extensions import db
from grants.models import Document
from grants.services import evaluation
from tests.clients import text_of
from tests.fixtures.programme import make_application, make_call


@pytest.fixture
def assigned(world):
    call = make_call(world)
    application = make_application(world, call, state="eligible")
    review = evaluation.assign(world.officer, application, world.evaluator)
    application.state = "in_review"
    db.session.flush()
    return review


def test_the_evaluator_attests_then_scores_and_submits(world, login, assigned):
    client = login(world.evaluator)
    queue = text_of(client.get("/reviews/"))
    assert assigned.application.reference in queue and "conflict check first" in queue
    first = text_of(client.get(f"/reviews/{assigned.id}"))
    assert "Before you read this application" in first
    assert assigned.application.summary not in first
    client.post(f"/reviews/{assigned.id}/attest")
    page = text_of(client.get(f"/reviews/{assigned.id}"))
    assert assigned.application.summary in page
    relevance, feasibility = assigned.application.call.criteria
    extreme = client.post(
        f"/reviews/{assigned.id}",
        data={
            f"score-{relevance.id}": "5",
            f"score-{feasibility.id}": "3",
            "recommendation": "fund",
            "submit": "1",
        },
    )
    assert extreme.status_code == 422
    assert "Explain the lowest and highest scores" in text_of(extreme)
    assert assigned.state == "assigned"
    done = client.post(
        f"/reviews/{assigned.id}",
        data={
            f"score-{relevance.id}": "5",
            f"comment-{relevance.id}": "Exactly the need in Thiès.",
            f"score-{feasibility.id}": "3",
            "recommendation": "fund",
            "submit": "1",
        },
    )
    assert done.status_code == 303 and assigned.state == "submitted"
    # The only review expected is in: the system completes the application's review.
    assert assigned.application.state == "reviewed"
    assert "disabled" in client.get(f"/reviews/{assigned.id}").get_data(as_text=True)


def test_after_declaring_a_conflict_the_application_and_documents_are_gone(world, login, assigned):
    client = login(world.evaluator)
    [document] = assigned.application.current_documents
    client.post(f"/reviews/{assigned.id}/attest")
    assert client.get(f"/reviews/{assigned.id}/documents/{document.id}").status_code == 302
    refused = client.post(f"/reviews/{assigned.id}/conflict", data={"reason": " "})
    assert "A reason is required." in text_of(client.get(refused.location))
    client.post(f"/reviews/{assigned.id}/conflict", data={"reason": "I sit on its board."})
    assert assigned.state == "conflicted"
    assert client.get(f"/reviews/{assigned.id}").status_code == 404
    assert client.get(f"/reviews/{assigned.id}/documents/{document.id}").status_code == 404
    assert client.get(f"/documents/{document.id}").status_code == 404
    assert client.get(f"/applications/{assigned.application_id}").status_code == 404
    assert assigned.application.reference not in text_of(client.get("/reviews/"))


def test_blind_review_never_shows_the_association(world, login, assigned):
    call = assigned.application.call
    call.blind_review = True
    identifying = call.document_types[0]
    identifying.identifying = True
    db.session.flush()
    name = assigned.application.association.name
    client = login(world.evaluator)
    pages = [client.get("/reviews/"), client.get(f"/reviews/{assigned.id}")]
    client.post(f"/reviews/{assigned.id}/attest")
    pages.append(client.get(f"/reviews/{assigned.id}"))
    for page in pages:
        assert name not in page.get_data(as_text=True)
    [document] = db.session.query(Document).filter_by(application_id=assigned.application_id).all()
    assert client.get(f"/reviews/{assigned.id}/documents/{document.id}").status_code == 404


def test_another_evaluators_review_is_not_found(world, login, assigned):
    from tests.fixtures.people import make_user

    stranger = login(make_user("evaluator"))
    assert stranger.get(f"/reviews/{assigned.id}").status_code == 404
    assert stranger.post(f"/reviews/{assigned.id}/attest").status_code == 404


def test_the_officer_reopens_a_submitted_review_with_a_comment(world, login, assigned):
    assigned.state = "submitted"
    db.session.flush()
    officer = login(world.officer)
    page = officer.get(f"/applications/{assigned.application_id}").get_data(as_text=True)
    assert f"/transitions/review/{assigned.id}/reopen" in page
    refused = officer.post(f"/transitions/review/{assigned.id}/reopen", data={"comment": ""})
    assert "A comment is required." in text_of(officer.get(refused.location))
    assert assigned.state == "submitted"
    officer.post(
        f"/transitions/review/{assigned.id}/reopen",
        data={"comment": "Please score feasibility again."},
    )
    assert assigned.state == "assigned"
    evaluator = login(world.evaluator)
    assert (
        evaluator.post(
            f"/transitions/review/{assigned.id}/reopen", data={"comment": "x"}
        ).status_code
        == 403
    )


def test_other_scores_only_after_ones_own_and_only_if_the_call_allows(world, login, assigned):
    from tests.fixtures.people import make_user
    from tests.fixtures.programme import make_review

    colleague = make_user("evaluator")
    make_review(world, assigned.application, state="submitted", evaluator=colleague)
    client = login(world.evaluator)
    client.post(f"/reviews/{assigned.id}/attest")
    assert "The other evaluators" not in text_of(client.get(f"/reviews/{assigned.id}"))
    assigned.state = "submitted"
    db.session.flush()
    assert "The other evaluators" not in text_of(client.get(f"/reviews/{assigned.id}"))
    assigned.application.call.hide_other_scores = False
    db.session.flush()
    page = text_of(client.get(f"/reviews/{assigned.id}"))
    assert "The other evaluators" in page and "Evaluator 1: 60.00 / 100, Fund" in page
    assert colleague.display_name not in page
