"""An evaluator sees, on every page, how many of their reviews still wait for scores:
one count query, asked of evaluators only, whatever the number of reviews."""

from __future__ import annotations

import re

from tests.fixtures.programme import make_application, make_call, make_review
from tests.queries import cost_of

REVIEWS_LINK = re.compile(r'<a href="/reviews/"[^>]*>Reviews(.*?)</a>', re.S)


def _badge(html: str) -> str | None:
    found = REVIEWS_LINK.search(html)
    assert found, "the header has no Reviews entry"
    count = re.search(r'class="badge">(\d+)<', found.group(1))
    return count.group(1) if count else None


def test_the_header_counts_the_reviews_still_to_do(world, login):
    evaluator = login(world.evaluator)
    call = make_call(world)
    assert _badge(evaluator.get("/").get_data(as_text=True)) is None  # nothing to do
    for _ in range(2):
        make_review(world, make_application(world, call, state="in_review"), scored=False)
    make_review(world, make_application(world, call, state="in_review"), state="submitted")
    make_review(world, make_application(world, call, state="in_review"), state="conflicted")
    page = evaluator.get("/calls").get_data(as_text=True)
    assert _badge(page) == "2"  # submitted and conflicted ones are not to do
    assert '2<span class="visually-hidden"> to do</span>' in page


def test_people_who_are_not_evaluators_have_no_reviews_entry(world, login):
    for person in (world.officer, world.applicant, world.finance):
        page = login(person).get("/calls").get_data(as_text=True)
        assert 'href="/reviews/"' not in page


def test_the_count_costs_one_query_however_many_reviews(world, login):
    evaluator = login(world.evaluator)
    call = make_call(world)
    make_review(world, make_application(world, call, state="in_review"), scored=False)
    evaluator.get("/calls")
    few = cost_of(evaluator, "/calls")
    for _ in range(6):
        make_review(world, make_application(world, call, state="in_review"), scored=False)
    assert cost_of(evaluator, "/calls") == few
    officer = login(world.officer)
    officer.get("/calls")
    # The header asks all its counts in one statement: an evaluator's adds no query.
    assert cost_of(officer, "/calls") == few
