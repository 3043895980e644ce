"""Comments hold their limits: an evaluator's comments on a review, and the reason given
with a transition; longer text is refused with its length, and nothing is saved."""

from __future__ import annotations

from sqlalchemy import func, select

from grants.extensions import db
from grants.models import HistoryEntry
from grants.services import evaluation
from tests.clients import text_of
from tests.fixtures.programme import make_application, make_call


def test_a_review_comment_too_long_is_refused_next_to_it_in_french(world, login):
    application = make_application(world, make_call(world), state="eligible")
    review = evaluation.assign(world.officer, application, world.evaluator)
    application.state = "in_review"
    world.evaluator.locale = "fr"
    db.session.flush()
    client = login(world.evaluator)
    client.post(f"/reviews/{review.id}/attest")
    relevance, feasibility = application.call.criteria
    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert 'data-characters="10000"' in page and "10\u202f000 caractères au plus." in page
    refused = client.post(
        f"/reviews/{review.id}",
        data={
            f"score-{relevance.id}": "4",
            f"comment-{relevance.id}": "Bien.",
            f"score-{feasibility.id}": "3",
            "overall_comment": "o" * 10_001,
        },
    )
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert (
        '<p class="error" id="overall_comment-error">Le commentaire général ne peut dépasser '
        "10\u202f000 caractères ; ce texte en compte 10\u202f001.</p>"
    ) in html
    assert 'aria-describedby="overall_comment-count overall_comment-error"' in html
    db.session.expire_all()
    assert review.scores == [] and review.overall_comment in ("", None)


def test_a_transition_comment_too_long_is_refused_and_nothing_moves(world, login):
    application = make_application(world, make_call(world), state="submitted")
    officer = login(world.officer)
    url = f"/transitions/application/{application.id}/mark_ineligible"
    count = select(func.count()).select_from(HistoryEntry)
    before = db.session.scalar(count)
    refused = officer.post(url, data={"comment": "r" * 5_001}, follow_redirects=True)
    assert "The comment can be at most 5,000 characters; it has 5,001." in text_of(refused)
    db.session.expire_all()
    assert application.state == "submitted" and db.session.scalar(count) == before
    assert officer.post(url, data={"comment": "Not registered."}).status_code == 303
    assert application.state == "ineligible"


def test_the_committees_minutes_and_feedback_hold_their_limits(world, login):
    call = make_call(world)
    first, second = (make_application(world, call, state="reviewed") for _ in range(2))
    officer = login(world.officer)
    response = officer.post(
        f"/office/calls/{call.code}/ranking/decisions",
        data={
            "meeting_date": "2027-05-20",
            "minutes": "m" * 20_001,
            f"outcome-{first.id}": "award",
            f"amount-{first.id}": "32000",
            f"outcome-{second.id}": "reject",
            f"text-{second.id}": "f" * 5_001,
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert (
        '<p class="error" id="minutes-error">'
        "The minutes can be at most 20,000 characters; it has 20,001.</p>"
    ) in html
    assert (
        f'<p class="error" id="decision-error-{second.id}">'
        "The conditions or feedback can be at most 5,000 characters; it has 5,001.</p>"
    ) in html
    db.session.expire_all()
    assert first.state == "reviewed" and second.state == "reviewed"
