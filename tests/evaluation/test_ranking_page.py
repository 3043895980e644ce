"""The ranking page: the harsh evaluator's bias gone in the normalised order, the funding
line, disagreement flags, CSV, and a query count that does not grow with the call."""

from __future__ import annotations

from decimal import Decimal

from grants.extensions import db
from grants.models import Review, Score
from tests.clients import text_of
from tests.fixtures.people import make_user
from tests.fixtures.programme import make_application, make_call
from tests.queries import cost_of


def _review(application, evaluator, relevance: int, feasibility: int, recommendation="fund"):
    first, second = application.call.criteria
    review = Review(
        application=application,
        evaluator_id=evaluator.id,
        state="submitted",
        recommendation=recommendation,
        scores=[
            Score(criterion_id=first.id, score=relevance, comment="x"),
            Score(criterion_id=second.id, score=feasibility, comment="x"),
        ],
    )
    db.session.add(review)
    return review


def _call_with_reviews(world, count: int, code: str):
    call = make_call(world, code=code, envelope=Decimal("70000"))
    fair_a, fair_b, harsh = (make_user("evaluator") for _ in range(3))
    applications = []
    for index in range(count):
        application = make_application(world, call, state="in_review")
        quality = max(5 - index, 0)
        reviewers = [fair_a, fair_b] if index % 2 else [fair_a, harsh]
        for evaluator in reviewers:
            low = 3 if evaluator is harsh else 0
            _review(application, evaluator, max(quality - low, 0), max(quality - low, 0))
        applications.append(application)
    db.session.flush()
    return call, applications


def test_normalisation_removes_the_harsh_evaluators_bias(world, login):
    # Six applications of falling quality; the harsh evaluator (3 points lower on every
    # criterion) reads the 1st, 3rd and 5th, so the best one trails the 2nd in raw means.
    call, applications = _call_with_reviews(world, 6, "RANK-6")
    officer = login(world.officer)
    raw = text_of(officer.get(f"/office/calls/{call.code}/ranking/?by=raw"))
    normalised = text_of(officer.get(f"/office/calls/{call.code}/ranking/"))
    first = applications[0].reference  # best quality, read by the harsh evaluator
    assert raw.index(first) > raw.index(applications[1].reference)
    assert normalised.index(first) < normalised.index(applications[1].reference)
    assert "Funding line" in normalised
    assert "Totals range over" in normalised  # the harsh pair disagrees strongly
    csv = officer.get(f"/office/calls/{call.code}/ranking/?format=csv")
    assert csv.mimetype == "text/csv" and first in csv.get_data(as_text=True)
    assert "Totals range over" in csv.get_data(as_text=True)
    world.officer.locale = "fr"  # the reasons read in the officer's language
    french = text_of(officer.get(f"/office/calls/{call.code}/ranking/"))
    assert "Les totaux s" in french and "Totals range over" not in french
    world.officer.locale = "en"
    sheet = officer.get(f"/office/calls/{call.code}/ranking/?format=xlsx")
    import io
    import zipfile

    from grants.filetypes import sniff

    assert sniff(io.BytesIO(sheet.data)) == "xlsx"
    cells = zipfile.ZipFile(io.BytesIO(sheet.data)).read("xl/worksheets/sheet1.xml").decode()
    assert first in cells and "Normalised mean" in cells


def test_the_ranking_costs_the_same_queries_for_5_or_40_applications(world, login):
    officer = login(world.officer)

    def cost(count: int) -> int:
        call, _ = _call_with_reviews(world, count, f"RANK-{count}")
        return cost_of(officer, f"/office/calls/{call.code}/ranking/")

    assert cost(5) == cost(40)


def test_the_api_gives_the_same_ranking_as_the_page(world, client):
    """Raw and normalised orders, the funding line and the reasons of a disagreement,
    as data; for programme officers and admins only."""
    from grants.services.accounts import issue_token

    call, applications = _call_with_reviews(world, 6, "RANK-API")
    headers = {"Authorization": f"Bearer {issue_token(world.officer, world.officer, 'test', 30)}"}
    url = f"/api/v1/calls/{call.id}/ranking"
    normalised = client.get(url, headers=headers).get_json()
    raw = client.get(f"{url}?by=raw", headers=headers).get_json()
    order = [item["application_id"] for item in normalised["items"]]
    raw_order = [item["application_id"] for item in raw["items"]]
    first, second = applications[0].id, applications[1].id
    assert order.index(first) < order.index(second)
    assert raw_order.index(first) > raw_order.index(second)
    assert (normalised["currency"], normalised["envelope"]) == (call.currency, "70000.00")
    assert [item["rank"] for item in normalised["items"]] == list(range(1, 7))
    within = [item["within_envelope"] for item in normalised["items"]]
    assert within == sorted(within, reverse=True) and True in within  # one funding line
    disagreeing = [item for item in normalised["items"] if item["disagreement"]]
    assert disagreeing and all(item["disagreement_reasons"] for item in disagreeing)
    assert normalised["items"][0]["reviews_submitted"] == 2
    assert normalised["next"] is None and normalised["pages"] == 1
    for person in (world.applicant, world.evaluator, world.finance):
        refused = client.get(
            url, headers={"Authorization": f"Bearer {issue_token(person, person, 'test', 30)}"}
        )
        assert refused.status_code == 403, person.email
    bad = client.get(f"{url}?by=loudest", headers=headers)
    assert bad.status_code == 422 and "by" in bad.get_json()["errors"]


def test_the_demo_award_has_no_funding_line_above_it(app, login):
    """Last year's Senegal call of the demo: its one application was awarded after it was
    completed without reviews; it is funded, so no funding line is drawn above it."""
    from grants.models import User
    from grants.services.demo import PREVIOUS_CALL, seed

    seed()
    db.session.flush()
    officer = db.session.query(User).filter_by(email="officer@demo.example.org").one()
    page = login(officer, password="officer-mango-river-27")
    response = page.get(f"/office/calls/{PREVIOUS_CALL}/ranking/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and f"{PREVIOUS_CALL}-0001" in html
    assert 'class="funding-line"' not in html
    assert "beyond the envelope" not in text_of(response)
