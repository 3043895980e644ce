"""The public "Can we apply?" check of a call: every reason, the member's record, no
account and no JavaScript needed, bad input refused."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import Application, AuditRow
from grants.orm import utcnow
from tests.clients import text_of
from tests.fixtures.people import make_association, make_user
from tests.fixtures.programme import make_award, make_call

QUESTION = {"key": "party", "text": {"en": "Is the association a political party?"}}


@pytest.fixture
def call(world):
    now = utcnow()
    return make_call(
        world,
        opens_at=now - timedelta(days=10),
        closes_at=now + timedelta(days=10),
        registration_countries=["FR", "ES"],
        eligibility_questions=[{**QUESTION, "excludes": "yes"}],
    )


GOOD = {
    "project_country": "SN",
    "registration_country": "FR",
    "amount": "30000",
    "cofinancing_share": "20",
    "question_party": "no",
}


def _check(client, call, **answers):
    return client.get(f"/calls/{call.code}/eligibility", query_string=answers)


def _counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(Application.id))),
        db.session.scalar(select(func.count(AuditRow.id))),
    )


def test_an_eligible_association_is_told_it_may_apply(client, call):
    page = text_of(_check(client, call, **GOOD))
    assert "Yes: the association may apply to this call." in page
    assert "may not apply" not in page
    # What only the association's record can say is named, not assumed.
    assert "The association must be verified by the programme." in page
    assert "No report may be overdue on an earlier grant." in page
    assert "Log in to apply" in page


def test_the_check_refuses_with_every_reason(client, call):
    response = _check(
        client,
        call,
        project_country="ML",
        registration_country="BE",
        amount="50000",
        cofinancing_share="5",
        question_party="yes",
    )
    assert response.status_code == 200
    page = text_of(response)
    assert "No: the association may not apply to this call." in page
    for reason in (
        "The call funds projects in Senegal only, not in Mali.",
        "The association must be registered in France, Spain; it is registered in Belgium.",
        "The amount requested, 50,000.00 USD, must be between 10,000.00 and 40,000.00 USD.",
        "Co-financing is 5.0 % of the project; the call asks for at least 15 %.",
        "The call excludes associations that answer “Yes” to: "
        "Is the association a political party?",
    ):
        assert reason in page, reason
    assert page.count("✗") == 5


def test_a_member_sees_the_check_filled_in_from_the_record(world, login, call):
    """The registration country, verification and overdue reports come from the
    association's record: the member is not asked them, and cannot answer around them."""
    member = make_user("applicant")
    association = make_association(member, registration_country="BE", state="pending")
    world.association = association
    award = make_award(world, state="active")
    award.reports[0].due_date = utcnow().date() - timedelta(days=20)
    db.session.flush()
    client = login(member)
    blank = text_of(client.get(f"/calls/{call.code}/eligibility"))
    assert f"From the record of {association.name}" in blank
    assert "Registered in Belgium" in blank
    assert "Overdue reports on earlier grants 1" in blank
    assert "Country where the association is registered" not in blank
    answers = {**GOOD, "registration_country": "FR", "association_id": str(association.id)}
    page = text_of(_check(client, call, **answers))
    assert "No: the association may not apply to this call." in page
    assert "it is registered in Belgium" in page
    assert "The association must be verified by the programme before it can submit." in page
    assert "1 overdue report on an earlier grant" in page
    assert "The programme also checks" not in page


def test_a_verified_member_may_apply_and_starts_the_draft_with_the_answers(world, login, call):
    client = login(world.applicant)
    page = _check(client, call, **GOOD, association_id=str(world.association.id))
    assert "Yes: the association may apply to this call." in text_of(page)
    html = page.get_data(as_text=True)
    assert 'name="question_party" value="no"' in html
    response = client.post(
        f"/calls/{call.code}/eligibility/apply",
        data={
            "association_id": str(world.association.id),
            "project_country": "SN",
            "amount": "30000",
            "question_party": "no",
        },
    )
    assert response.status_code == 303
    application = db.session.get(Application, int(response.location.rsplit("/", 1)[-1]))
    assert application.eligibility_answers == {"party": "no"}
    assert application.country == "SN"
    assert application.amount_requested == Decimal("30000")
    assert application.association_id == world.association.id


def test_starting_from_the_check_without_every_answer_is_refused(world, login, call):
    client = login(world.applicant)
    before = _counts()
    response = client.post(
        f"/calls/{call.code}/eligibility/apply",
        data={"association_id": str(world.association.id), "question_party": "maybe"},
    )
    assert response.status_code == 422
    assert "Answer every eligibility question, yes or no." in text_of(response)
    assert _counts() == before


def test_the_page_needs_no_account_and_no_javascript(client, call):
    """A plain GET form: the answer is the server's, a page like any other."""
    html = client.get(f"/calls/{call.code}/eligibility").get_data(as_text=True)
    form = re.search(r"<form method=\"get\" action=\"([^\"]+)\" novalidate>", html)
    assert form and form.group(1) == f"/calls/{call.code}/eligibility"
    assert '<button type="submit">Check</button>' in html
    assert 'type="radio" value="yes"' in html.replace('name="question_party" ', "")
    assert "data-autosave" not in html


def test_the_check_reads_in_arabic_right_to_left(client, call):
    client.post("/language", data={"locale": "ar", "next": "/"})
    html = _check(client, call, **GOOD).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in html
    assert "Can we apply?" not in html


def test_bad_input_gets_a_clear_error_and_changes_nothing(client, call):
    before = _counts()
    response = _check(client, call, project_country="", amount="lots", cofinancing_share="150")
    assert response.status_code == 422
    page = text_of(response)
    assert "Please correct the following" in page
    assert "Choose a country from the list." in page
    assert "Choose the country where the association is registered." in page
    assert "Answer yes or no." in page
    assert "Yes: the association" not in page and "No: the association" not in page
    assert _counts() == before


def test_a_draft_call_is_not_found_by_visitors(client, world):
    draft = make_call(world, state="draft")
    assert client.get(f"/calls/{draft.code}/eligibility").status_code == 404


def test_the_call_page_links_the_check(client, call):
    html = client.get(f"/calls/{call.code}").get_data(as_text=True)
    link = html.index(f'href="/calls/{call.code}/eligibility"')
    assert link < html.index("Log in to apply")
