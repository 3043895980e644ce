"""One policy decides who sees which record: the pages, the API's items and the API's
lists give the same answer as ``grants.policy`` for every role and every kind of record,
including the records of another association and an evaluator's conflicted review."""

from __future__ import annotations

import pytest

from grants import policy
from grants.extensions import db
from grants.models import ConflictDeclaration
from grants.roles import ROLE_NAMES
from grants.services.accounts import issue_token
from tests.fixtures.people import make_association, make_user
from tests.fixtures.programme import (
    make_application,
    make_award,
    make_call,
    make_report,
    make_review,
    make_tranche,
)


@pytest.fixture
def records(world):
    """One of each kind for the world's association, the same for an outsider's, a
    draft call, and a review the evaluator has declared a conflict on."""
    call = make_call(world)
    draft_call = make_call(world, state="draft")
    own = make_application(world, call, state="in_review")
    other_association = make_association(world.outsider, state="verified")
    other = make_application(world, call, state="in_review", association=other_association)
    review = make_review(world, own, state="submitted")
    conflicted = make_review(world, other, state="conflicted")
    db.session.add(
        ConflictDeclaration(
            evaluator_id=world.evaluator.id,
            association_id=other_association.id,
            reason="My cousin leads it",
        )
    )
    award = make_award(world, state="active")
    tranche = make_tranche(world, state="requested")
    report = make_report(world)
    db.session.flush()
    return {
        "calls": [call, draft_call],
        "associations": [world.association, other_association],
        "applications": [own, other],
        "reviews": [review, conflicted],
        "awards": [award, tranche.award],
        "tranches": [tranche],
        "reports": [report],
    }


PAGES = {
    "associations": lambda record: f"/associations/{record.id}",
    "applications": lambda record: f"/applications/{record.id}",
    "awards": lambda record: f"/grants/{record.id}",
}


@pytest.mark.parametrize("role", ROLE_NAMES)
def test_pages_and_api_show_exactly_what_the_policy_allows(world, client, login, records, role):
    person = world.person(role)
    headers = {"Authorization": f"Bearer {issue_token(person, person, 'test', 30)}"}
    browser = login(person)
    for collection, found in records.items():
        rule = policy.visibility_of(type(found[0]))
        listed = {
            item["id"]
            for item in client.get(
                f"/api/v1/{collection}?per_page=100", headers=headers
            ).get_json()["items"]
        }
        for record in found:
            allowed = rule.allows(person, record)
            where = f"{role} / {collection} {record.id}"
            item = client.get(f"/api/v1/{collection}/{record.id}", headers=headers)
            assert item.status_code == (200 if allowed else 404), where
            assert (record.id in listed) is allowed, where
            page = PAGES.get(collection)
            if page is not None:
                status = browser.get(page(record)).status_code
                assert (status == 200) is allowed, f"{where}: page {status}"
                assert status in (200, 404), f"{where}: page {status}"


def test_what_each_role_sees(world, records):
    """The rules in words: members their association's records, programme staff every
    application and review, all staff every award, an evaluator their own reviews but
    not one they are conflicted on, and drafts of calls only for those who run calls."""
    seen = {
        role: {
            collection: [policy.visibility_of(type(r)).allows(world.person(role), r) for r in found]
            for collection, found in records.items()
        }
        for role in ROLE_NAMES
    }
    assert seen["applicant"] == {
        "calls": [True, False],
        "associations": [True, False],
        "applications": [True, False],
        "reviews": [False, False],
        "awards": [True, True],
        "tranches": [True],
        "reports": [True],
    }
    assert seen["evaluator"]["reviews"] == [True, False]
    assert seen["evaluator"]["applications"] == [False, False]
    assert seen["evaluator"]["calls"] == [True, False]
    for role in ("programme_officer", "admin"):
        assert all(all(row) for row in seen[role].values()), role
    assert seen["finance_officer"]["applications"] == [False, False]
    assert seen["finance_officer"]["reviews"] == [False, False]
    assert all(
        seen["finance_officer"][kind] == [True] * len(records[kind])
        for kind in ("associations", "awards", "tranches", "reports")
    )


def test_a_person_of_no_association_sees_only_published_calls(world, records):
    nobody = make_user("applicant")
    for collection, found in records.items():
        rule = policy.visibility_of(type(found[0]))
        expected = (
            [record.state != "draft" for record in found]
            if collection == "calls"
            else [False] * len(found)
        )
        assert [rule.allows(nobody, record) for record in found] == expected, collection
