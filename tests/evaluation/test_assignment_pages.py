"""The officer's assignment page: by hand, from the automatic proposal, start review."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from grants.extensions import db
from grants.models import Membership, Review
from grants.services import evaluation
from tests.clients import text_of
from tests.fixtures.people import make_user
from tests.fixtures.programme import make_application, make_call


@pytest.fixture
def call_with_eligible(world):
    call = make_call(world, evaluators_per_application=2)
    applications = [make_application(world, call, state="eligible") for _ in range(3)]
    return call, applications


def test_propose_then_save_then_start_the_review(world, login, call_with_eligible):
    call, applications = call_with_eligible
    people = [make_user("evaluator", languages=["en", "fr"]) for _ in range(3)]
    world.evaluator.languages = ["es"]  # reads no application's language
    member = people[0]
    db.session.add(Membership(user_id=member.id, association_id=applications[0].association_id))
    db.session.flush()
    db.session.expire(member, ["memberships"])
    officer = login(world.officer)
    page = officer.get(f"/office/calls/{call.code}/assignments/?propose=1")
    html = page.get_data(as_text=True)
    pairs = sorted(set(__import__("re").findall(r'name="pair" value="(\d+:\d+)"', html)))
    assert pairs, text_of(page)
    assert all(not p.endswith(f":{world.evaluator.id}") for p in pairs)
    assert all(
        not (p.startswith(f"{a.id}:") and p.endswith(f":{member.id}"))
        for a in applications
        for p in pairs
    )
    response = officer.post(f"/office/calls/{call.code}/assignments/proposal", data={"pair": pairs})
    assert response.status_code == 303
    reviews = db.session.scalars(select(Review)).all()
    assert len(reviews) == len(pairs)
    assert all(len(a.reviews) <= 2 for a in applications)
    officer.post(f"/office/calls/{call.code}/assignments/start")
    assert {a.state for a in applications if a.reviews} == {"in_review"}


def test_assigning_by_hand_says_why_it_is_refused(world, login, call_with_eligible):
    call, applications = call_with_eligible
    officer = login(world.officer)
    target = applications[0]
    ok = officer.post(
        f"/office/calls/{call.code}/assignments/",
        data={"application_id": target.id, "evaluator_id": world.evaluator.id},
    )
    assert ok.status_code == 303 and len(target.reviews) == 1
    again = officer.post(
        f"/office/calls/{call.code}/assignments/",
        data={"application_id": target.id, "evaluator_id": world.evaluator.id},
    )
    assert "already assigned" in text_of(officer.get(again.location))
    assert len(target.reviews) == 1
    [review] = target.reviews
    officer.post(f"/office/calls/{call.code}/assignments/{review.id}/remove")
    db.session.expire(target, ["reviews"])
    assert target.reviews == []


def test_a_submitted_review_cannot_be_removed(world, login, call_with_eligible):
    call, applications = call_with_eligible
    review = evaluation.assign(world.officer, applications[0], world.evaluator)
    review.state = "submitted"
    db.session.flush()
    officer = login(world.officer)
    refused = officer.post(f"/office/calls/{call.code}/assignments/{review.id}/remove")
    assert refused.status_code == 409 and "reopen it instead" in text_of(refused)
    assert db.session.get(Review, review.id) is not None


def _options(html: str, application_id: int) -> dict[str, list[str]]:
    """The evaluator list of one application: who can be chosen, and the disabled rows."""
    import re

    select_html = re.search(
        rf'<select id="evaluator-{application_id}"[^>]*>(.*?)</select>', html, flags=re.S
    )
    assert select_html, f"no evaluator list for application {application_id}"
    found: dict[str, list[str]] = {"enabled": [], "disabled": []}
    for value, disabled, label in re.findall(
        r'<option value="(\d+)"( disabled)?>([^<]*)</option>', select_html.group(1)
    ):
        found["disabled" if disabled else "enabled"].append(value)
        if disabled:
            found.setdefault("reasons", []).append(label)
    return found


def test_the_list_offers_no_evaluator_already_assigned_or_in_conflict(
    world, login, call_with_eligible
):
    from grants.models import ConflictDeclaration
    from tests.fixtures.people import make_association

    call, (first, second, _third) = call_with_eligible
    third = make_application(world, call, state="eligible", association=make_association())
    assigned = make_user("evaluator", full_name="Aminata Assigned")
    conflicted = make_user("evaluator", full_name="Bakary Conflicted")
    member = make_user("evaluator", full_name="Coumba Member")
    free = make_user("evaluator", full_name="Djibril Free")
    evaluation.assign(world.officer, first, assigned)
    withdrawn = evaluation.assign(world.officer, second, conflicted)
    withdrawn.state = "conflicted"
    db.session.add(
        ConflictDeclaration(
            evaluator_id=conflicted.id, association_id=third.association_id, reason="Cousin."
        )
    )
    db.session.add(Membership(user_id=member.id, association_id=third.association_id))
    world.officer.locale = "fr"
    db.session.flush()
    db.session.expire(member, ["memberships"])

    html = (
        login(world.officer).get(f"/office/calls/{call.code}/assignments/").get_data(as_text=True)
    )
    lists = {a.id: _options(html, a.id) for a in (first, second, third)}
    assert str(assigned.id) not in lists[first.id]["enabled"]
    assert str(assigned.id) in lists[first.id]["disabled"]
    assert "Cette candidature est déjà confiée à Aminata Assigned." in lists[first.id]["reasons"]
    assert str(conflicted.id) not in lists[second.id]["enabled"]
    assert (
        "Bakary Conflicted a déclaré un conflit d’intérêts avec cette candidature."
        in lists[second.id]["reasons"]
    )
    assert str(conflicted.id) not in lists[third.id]["enabled"]
    assert str(member.id) not in lists[third.id]["enabled"]
    assert any("Coumba Member" in r for r in lists[third.id]["reasons"])
    for application in (first, second, third):
        assert str(free.id) in lists[application.id]["enabled"]
    assert str(assigned.id) in lists[second.id]["enabled"]
    assert str(conflicted.id) in lists[first.id]["enabled"]
