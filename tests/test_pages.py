"""Each role's home page, the public list of open calls, and the language switcher."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from grants.extensions import db
from grants.models.calls import Call
from tests.clients import text_of
from tests.fixtures.people import make_association


def _call(**fields) -> Call:
    values = dict(
        code=f"T-{len(fields)}-{id(fields)}",
        language="en",
        title={"en": "Youth jobs", "fr": "Emplois des jeunes"},
        description={"en": "Jobs for young people"},
        sector="employment",
        countries=["SN"],
        currency="USD",
        envelope=Decimal("240000"),
        min_grant=Decimal("10000"),
        max_grant=Decimal("40000"),
        timezone="Africa/Dakar",
        state="open",
        opens_at=datetime.now(UTC) - timedelta(days=1),
        closes_at=datetime.now(UTC) + timedelta(days=10),
    )
    values.update(fields)
    call = Call(**values)
    db.session.add(call)
    db.session.flush()
    return call


def test_anonymous_visitors_see_open_calls_only(client):
    _call(code="OPEN-1")
    _call(code="DRAFT-1", state="draft", title={"en": "Secret draft"})
    _call(
        code="PAST-1",
        title={"en": "Deadline passed"},
        closes_at=datetime.now(UTC) - timedelta(hours=1),
    )
    page = text_of(client.get("/calls"))
    assert "Youth jobs" in page
    assert "Secret draft" not in page and "Deadline passed" not in page
    assert "Africa/Dakar" in page and "left" in page


def test_the_call_title_follows_the_reader_language(client):
    _call(code="FR-1")
    client.post("/language", data={"locale": "fr", "next": "/calls"})
    page = client.get("/calls").get_data(as_text=True)
    assert "Emplois des jeunes" in page
    assert '<html lang="fr" dir="ltr">' in page


def test_arabic_pages_are_right_to_left(client):
    client.post("/language", data={"locale": "ar", "next": "/"})
    assert '<html lang="ar" dir="rtl">' in client.get("/").get_data(as_text=True)


def test_the_language_switcher_never_redirects_elsewhere(client):
    response = client.post("/language", data={"locale": "es", "next": "https://evil.example"})
    assert response.location == "/"


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("applicant", "Your association"),
        ("evaluator", "Your evaluations"),
        ("programme_officer", "Your calls"),
        ("finance_officer", "Disbursements"),
        ("admin", "Administration"),
    ],
)
def test_each_role_sees_what_it_can_do(as_role, role, expected):
    user, client = as_role(role)
    if role == "applicant":
        make_association(user, name="Lyon Test Association")
    page = text_of(client.get("/"))
    assert expected in page
    if role == "applicant":
        assert "Lyon Test Association" in page and "Open calls" in page
