"""The ranking says which applications still wait for their review to be completed and
completes the ticked ones: all or none, through the application's lifecycle."""

from __future__ import annotations

from decimal import Decimal

from grants.extensions import db
from grants.models import Review, Score
from grants.models.history import HistoryEntry as History
from tests.clients import text_of
from tests.fixtures.people import make_user
from tests.fixtures.programme import make_application, make_call


def _review(application, evaluator, state: str) -> Review:
    first, second = application.call.criteria
    scores = []
    if state == "submitted":
        scores = [
            Score(criterion_id=first.id, score=4, comment="x"),
            Score(criterion_id=second.id, score=3, comment="x"),
        ]
    review = Review(
        application=application,
        evaluator_id=evaluator.id,
        state=state,
        recommendation="fund" if state == "submitted" else None,
        scores=scores,
    )
    db.session.add(review)
    return review


def _call(world):
    """One application with two of its three reviews in, one with none in, one reviewed."""
    call = make_call(world, code="DONE-1", envelope=Decimal("70000"))
    evaluators = [make_user("evaluator") for _ in range(3)]
    waiting = make_application(world, call, state="in_review")
    for evaluator, state in zip(evaluators, ("submitted", "submitted", "assigned"), strict=True):
        _review(waiting, evaluator, state)
    empty = make_application(world, call, state="in_review")
    _review(empty, evaluators[0], "assigned")
    reviewed = make_application(world, call, state="reviewed")
    for evaluator in evaluators[:2]:
        _review(reviewed, evaluator, "submitted")
    db.session.flush()
    return call, waiting, empty, reviewed


def test_the_ranking_says_what_waits_and_offers_to_complete_it(world, login):
    call, waiting, empty, _reviewed = _call(world)
    officer = login(world.officer)
    page = officer.get(f"/office/calls/{call.code}/ranking/")
    text = text_of(page)
    assert "2 applications of this call are still in review" in text
    html = page.get_data(as_text=True)
    assert f'name="complete" value="{waiting.id}"' in html
    assert f'name="complete" value="{empty.id}"' not in html
    world.officer.locale = "fr"
    french = text_of(officer.get(f"/office/calls/{call.code}/ranking/"))
    world.officer.locale = "en"
    assert "2 demandes de cet appel sont encore en évaluation" in french


def test_one_refusal_completes_nothing_and_says_why_by_row(world, login):
    call, waiting, empty, _reviewed = _call(world)
    officer = login(world.officer)
    refused = officer.post(
        f"/office/calls/{call.code}/ranking/complete",
        data={"complete": [str(waiting.id), str(empty.id)]},
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert f'id="complete-error-{empty.id}"' in html
    assert "No review has been submitted yet." in text_of(refused)
    assert f'value="{waiting.id}" id="complete-{waiting.id}" checked' in html  # kept ticked
    db.session.refresh(waiting)
    assert waiting.state == "in_review"  # nothing half-done

    none = officer.post(f"/office/calls/{call.code}/ranking/complete", data={})
    assert none.status_code == 422
    assert "Choose the applications whose review to complete." in text_of(none)


def test_completing_moves_the_application_on_with_the_officer_in_its_history(world, login):
    call, waiting, _empty, _reviewed = _call(world)
    officer = login(world.officer)
    done = officer.post(
        f"/office/calls/{call.code}/ranking/complete", data={"complete": [str(waiting.id)]}
    )
    assert done.status_code == 303
    db.session.refresh(waiting)
    assert waiting.state == "reviewed"
    last = db.session.scalars(
        db.select(History)
        .where(History.entity_type == "application", History.entity_id == waiting.id)
        .order_by(History.id.desc())
    ).first()
    assert (last.transition, last.actor_id) == ("complete_review", world.officer.id)
    page = text_of(officer.get(done.headers["Location"]))
    assert "The review of 1 application is complete: decide it below." in page
    assert "1 application of this call is still in review" in page


def test_only_programme_officers_complete_reviews(world, login):
    call, waiting, _empty, _reviewed = _call(world)
    evaluator = login(make_user("evaluator"))
    answer = evaluator.post(
        f"/office/calls/{call.code}/ranking/complete", data={"complete": [str(waiting.id)]}
    )
    assert answer.status_code in (403, 404)
    db.session.refresh(waiting)
    assert waiting.state == "in_review"
