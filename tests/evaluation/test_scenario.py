"""The scenario's scoring and award steps through the pages: a conflicted evaluator is
replaced, the harsh evaluator's bias is gone in the normalised ranking, the envelope holds,
and the waiting list and the rejections carry feedback."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import select

from grants.extensions import db
from grants.models import Application, Award
from tests.clients import text_of
from tests.fixtures.people import make_user
from tests.fixtures.programme import make_application, make_call

QUALITY = [5, 4, 3, 2, 1, 0]  # the first application is the best


def _pairs(html: str) -> list[str]:
    return sorted(set(re.findall(r'name="pair" value="(\d+:\d+)"', html)))


def test_scoring_and_award_through_the_pages(world, login):
    call = make_call(world, evaluators_per_application=2, envelope=Decimal("70000"))
    applications = [make_application(world, call, state="eligible") for _ in QUALITY]
    for application in applications:
        application.amount_requested = Decimal("30000")
    fatou = make_user("evaluator", full_name="Fatou Sow", languages=["en"])
    fair_a, fair_b, harsh = (make_user("evaluator", languages=["en"]) for _ in range(3))
    world.evaluator.languages = []  # reads no application's language: never proposed
    officer = login(world.officer)
    base = f"/office/calls/{call.code}/assignments"

    # Fatou is assigned first, then declares that she sits on the association's board.
    officer.post(f"{base}/", data={"application_id": applications[0].id, "evaluator_id": fatou.id})
    officer.post(
        f"{base}/proposal",
        data={"pair": _pairs(officer.get(f"{base}/?propose=1").get_data(as_text=True))},
    )
    officer.post(f"{base}/start")
    assert {a.state for a in applications} == {"in_review"}
    fatou_client = login(fatou)
    for review in list(db.session.get(Application, applications[0].id).reviews):
        if review.evaluator_id == fatou.id:
            fatou_client.post(
                f"/reviews/{review.id}/conflict",
                data={"reason": "I sit on the association's board."},
            )
    assert "Fatou Sow — conflict of interest declared" in text_of(officer.get(f"{base}/"))
    # The proposal now replaces her, with other evaluators only.
    replacement = _pairs(officer.get(f"{base}/?propose=1").get_data(as_text=True))
    assert replacement and all(not p.endswith(f":{fatou.id}") for p in replacement)
    officer.post(f"{base}/proposal", data={"pair": replacement})

    # Everyone scores; the harsh evaluator three points lower on every criterion.
    for person in (fair_a, fair_b, harsh):
        client = login(person)
        for application, quality in zip(applications, QUALITY, strict=True):
            review = next(
                (
                    r
                    for r in application.reviews
                    if r.evaluator_id == person.id and r.state == "assigned"
                ),
                None,
            )
            if review is None:
                continue
            client.post(f"/reviews/{review.id}/attest")
            score = max(quality - (3 if person is harsh else 0), 0)
            first, second = call.criteria
            response = client.post(
                f"/reviews/{review.id}",
                data={
                    f"score-{first.id}": str(score),
                    f"comment-{first.id}": "Explained.",
                    f"score-{second.id}": str(score),
                    f"comment-{second.id}": "Explained.",
                    "recommendation": "fund" if score >= 3 else "do_not_fund",
                    "submit": "1",
                },
            )
            assert response.status_code == 303, text_of(response)[:500]
    db.session.expire_all()
    assert {a.state for a in applications} == {"reviewed"}

    # The normalised ranking follows quality at the top, whoever read which application
    # (below, the harsh evaluator's zeros no longer tell the weakest ones apart).
    ranking = officer.get(f"/office/calls/{call.code}/ranking/").get_data(as_text=True)
    positions = [ranking.index(a.reference) for a in applications[:4]]
    assert positions == sorted(positions)

    # Award the two best within the envelope; one waits; the rest are rejected with reasons.
    best, second_best, third, *rest = applications
    decide = {
        "meeting_date": "2027-05-20",
        "present": "Committee",
        "minutes": "Agreed.",
        f"outcome-{best.id}": "award",
        f"amount-{best.id}": "30000",
        f"outcome-{second_best.id}": "award",
        f"amount-{second_best.id}": "30000",
        f"outcome-{third.id}": "waitlist",
        f"text-{third.id}": "Strong; funded if money is freed.",
    }
    for application in rest:
        decide |= {
            f"outcome-{application.id}": "reject",
            f"text-{application.id}": "Feasibility is not shown.",
        }
    over = officer.post(
        f"/office/calls/{call.code}/ranking/decisions",
        data={**decide, f"outcome-{third.id}": "award", f"amount-{third.id}": "30000"},
    )
    assert over.status_code == 422 and "by 20,000.00 USD" in text_of(over)
    assert {a.state for a in applications} == {"reviewed"}
    recorded = officer.post(f"/office/calls/{call.code}/ranking/decisions", data=decide)
    assert recorded.status_code == 303, text_of(recorded)[:1500]
    assert [a.state for a in applications] == [
        "awarded",
        "awarded",
        "waitlisted",
        "rejected",
        "rejected",
        "rejected",
    ]
    assert len(db.session.scalars(select(Award)).all()) == 2
    association_view = text_of(login(world.applicant).get(f"/applications/{rest[0].id}"))
    assert "Feasibility is not shown." in association_view
