"""A call's ranking is computed when its reviews change, not on every view: a kept ranking
is reused under the call's stamp, every change that can move it gives a new stamp, and the
page shows it a hundred rows at a time."""

from __future__ import annotations

from sqlalchemy import select

from grants.extensions import db
from grants.models import Call, Score
from tests.clients import text_of
from tests.evaluation.test_ranking_page import _call_with_reviews
from tests.fixtures.programme import make_application, make_call
from tests.queries import cost_of


def _stamp(call) -> str:
    return db.session.scalar(select(Call.ranking_stamp).where(Call.id == call.id))


def test_a_kept_ranking_is_reused_until_a_score_changes(world, login):
    officer = login(world.officer)
    call, applications = _call_with_reviews(world, 6, "KEPT-6")
    url = f"/office/calls/{call.code}/ranking/?by=raw"
    computed = cost_of(officer, url)
    assert cost_of(officer, url) <= computed - 3  # scores, amounts and counts not read again
    before = text_of(officer.get(url))
    assert before.index(applications[0].reference) < before.index(applications[5].reference)

    stamp = _stamp(call)
    last = applications[5]
    for review in last.reviews:  # the weakest application now scores 5 everywhere
        for score in db.session.scalars(select(Score).where(Score.review_id == review.id)):
            score.score = 5
    db.session.flush()
    assert _stamp(call) != stamp
    after = text_of(officer.get(url))
    assert after.index(last.reference) < after.index(applications[0].reference)


def test_a_draft_saved_does_not_restamp_its_call_but_a_decision_does(world):
    call, applications = _call_with_reviews(world, 2, "KEPT-2")
    stamp = _stamp(call)
    draft = make_application(world, call, state="draft")
    stamp = _stamp(call)
    draft.title = "A new title, typed during the review"
    db.session.flush()
    assert _stamp(call) == stamp
    applications[0].state = "awarded"
    db.session.flush()
    assert _stamp(call) != stamp


def test_the_call_itself_changed_restamps_it(world):
    call, _ = _call_with_reviews(world, 2, "KEPT-ENV")
    stamp = _stamp(call)
    call.envelope = call.envelope + 1000
    db.session.flush()
    assert _stamp(call) != stamp


def test_the_ranking_page_shows_a_hundred_rows_at_a_time(world, login):
    officer = login(world.officer)
    call, applications = _call_with_reviews(world, 130, "PAGED")
    first = officer.get(f"/office/calls/{call.code}/ranking/")
    body = first.get_data(as_text=True)
    assert body.count('href="/applications/') == 100
    assert "Page 1 of 2" in text_of(first)
    second = officer.get(f"/office/calls/{call.code}/ranking/?page=2")
    assert second.get_data(as_text=True).count('href="/applications/') == 30
    assert "<td>130</td>" in second.get_data(as_text=True)
    beyond = officer.get(f"/office/calls/{call.code}/ranking/?page=99")
    assert "Page 2 of 2" in text_of(beyond)
    exported = officer.get(f"/office/calls/{call.code}/ranking/?format=csv")
    assert all(a.reference in exported.get_data(as_text=True) for a in applications)


def test_an_association_renamed_shows_on_the_kept_page(world, login):
    """The page's rows are kept rendered under the call's stamp: renaming an association
    whose application it ranks gives the call a new one."""
    officer = login(world.officer)
    call, _ = _call_with_reviews(world, 3, "KEPT-NAME")
    url = f"/office/calls/{call.code}/ranking/"
    assert world.association.name in text_of(officer.get(url))
    stamp = _stamp(call)
    world.association.name = "Bokk Jom Lyon, renamed"
    db.session.flush()
    assert _stamp(call) != stamp
    assert "Bokk Jom Lyon, renamed" in text_of(officer.get(url))


def test_a_refused_form_keeps_its_values_to_itself(world, login):
    """After a refused meeting the page shows the typed values beside their rows; the
    next view shows the rows as they are, not the refused values."""
    officer = login(world.officer)
    call = make_call(world, code="KEPT-FORM")
    reviewed = make_application(world, call, state="reviewed")
    url = f"/office/calls/{call.code}/ranking/"
    officer.get(url)
    refused = officer.post(
        url + "decisions",
        data={"meeting_date": "", f"outcome-{reviewed.id}": "award", f"amount-{reviewed.id}": "7"},
    )
    assert refused.status_code == 422
    assert 'value="7"' in refused.get_data(as_text=True)
    assert 'value="7"' not in officer.get(url).get_data(as_text=True)
