"""A call's money: amounts as the officer writes them in their language, a currency in
use, grants within the envelope; through the pages and the API. Each refusal is named
next to its field and saves nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import Call
from grants.roles import PROGRAMME_OFFICER
from grants.services.calls import money_problems
from tests.api.test_api import assert_error, bearer
from tests.calls.test_calls import NEXT_YEAR, SENEGAL
from tests.clients import text_of
from tests.fixtures.people import make_user


def _count() -> int:
    return db.session.scalar(select(func.count(Call.id)))


def _saved() -> Call | None:
    return db.session.scalar(select(Call).where(Call.code == SENEGAL["code"]))


@pytest.fixture
def officer_in(login):
    """``officer_in("es")`` → a client of a programme officer who reads Spanish."""
    return lambda locale: login(make_user(PROGRAMME_OFFICER, locale=locale))


@pytest.mark.parametrize(
    ("locale", "envelope", "min_grant", "max_grant"),
    [
        ("en", "1,250,000.50", "10,000", "40,000"),
        ("es", "1.250.000,50", "10.000", "40.000"),
        ("fr", "1 250 000,50", "10 000", "40\u202f000"),
        ("ar", "1,250,000.50", "١٠٬٠٠٠", "40000"),
    ],
)
def test_an_officer_writes_amounts_in_their_language(
    officer_in, locale, envelope, min_grant, max_grant
):
    officer = officer_in(locale)
    response = officer.post(
        "/office/calls/new",
        data={**SENEGAL, "envelope": envelope, "min_grant": min_grant, "max_grant": max_grant},
    )
    assert response.status_code == 303, text_of(response)[:1500]
    call = _saved()
    assert (call.envelope, call.min_grant, call.max_grant) == (
        Decimal("1250000.50"),
        Decimal("10000"),
        Decimal("40000"),
    )


def test_the_call_form_shows_amounts_as_its_reader_writes_them(officer_in):
    officer_in("en").post("/office/calls/new", data={**SENEGAL, "envelope": "240000.50"})
    spanish = officer_in("es")
    page = spanish.get(f"/office/calls/{SENEGAL['code']}/edit").get_data(as_text=True)
    assert 'value="240.000,50"' in page and 'value="40.000"' in page
    # Saved again unchanged, the amounts read back as they were.
    fields = {**SENEGAL, "envelope": "240.000,50", "min_grant": "10.000", "max_grant": "40.000"}
    fields["version"] = str(_saved().version)
    response = spanish.post(f"/office/calls/{SENEGAL['code']}/edit", data=fields)
    assert response.status_code == 303, text_of(response)[:1500]
    assert _saved().envelope == Decimal("240000.50")


@pytest.mark.parametrize(
    ("locale", "field", "value", "message"),
    [
        ("en", "envelope", "240.000", "Did you mean 240,000.00?"),
        ("es", "envelope", "240,000", "¿Quiso decir 240.000,00?"),
        ("fr", "envelope", "240.000", "Vouliez-vous dire 240 000,00 ?"),
        ("en", "envelope", "NaN", "Give the amount as a number, such as 1,250.50."),
        ("en", "envelope", "Infinity", "Give the amount as a number, such as 1,250.50."),
        ("en", "envelope", "1e40", "Give the amount as a number, such as 1,250.50."),
        ("fr", "envelope", "Infinity", "Indiquez le montant en chiffres, par exemple 1 250,50."),
        ("en", "envelope", "10000000000000", "At most 999,999,999,999.99."),
        ("es", "envelope", "10000000000000", "Como máximo 999.999.999.999,99."),
        ("en", "max_grant", "40000.5055", "At most 2 decimals."),
        ("en", "min_grant", "-1", "Must not be negative."),
        ("en", "currency", "XXX", "Choose a currency in use, such as USD, EUR or XOF."),
        ("en", "currency", "XTS", "Choose a currency in use, such as USD, EUR or XOF."),
        ("es", "currency", "XAU", "Elija una moneda en uso, por ejemplo USD, EUR o XOF."),
        ("en", "max_grant", "250000", "The maximum grant must not be above the envelope."),
        ("en", "criteria-0-scale_max", "99999999999", "At most 100."),
        ("en", "criteria-0-weight", "0", "Must be above zero."),
        ("en", "tranches-0-percentage", "0", "Must be above zero."),
        # A row whose only cell is refused is not taken for an empty row and dropped.
        ("en", "tranches-2-percentage", "twenty", "Give the amount as a number"),
        ("es", "reports-1-months", "1e3", "Indique un número entero, por ejemplo 1.250."),
    ],
)  # text_of writes every kind of space (the French narrow one too) as a plain space
def test_a_bad_amount_or_currency_is_refused_next_to_its_field(
    officer_in, locale, field, value, message
):
    officer = officer_in(locale)
    before = _count()
    response = officer.post("/office/calls/new", data={**SENEGAL, field: value})
    assert response.status_code == 422
    assert message in text_of(response)
    html = response.get_data(as_text=True)
    if "-" in field:  # a cell of a table of rows: its message is in the cell
        assert f'<span class="error" id="{field}-error">{message}' in html
    else:
        assert f'id="{field}-error"' in html
    assert _count() == before


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"criteria-0-weight": ""}, "Each criterion needs a weight."),
        (
            {"criteria-0-scale_min": "5", "criteria-0-scale_max": "5"},
            "A criterion's lowest score must be below its highest.",
        ),
    ],
)
def test_a_criterion_the_database_could_not_hold_is_refused(officer_in, row, message):
    before = _count()
    response = officer_in("en").post("/office/calls/new", data={**SENEGAL, **row})
    assert response.status_code == 422
    assert message in text_of(response)
    assert 'id="criteria-error"' in response.get_data(as_text=True)
    assert _count() == before


def test_the_currency_and_the_order_of_amounts_are_the_services_rules():
    """The pages and the API both reach this rule; the call machine checks the same
    order again when the call is published."""
    problems = money_problems(
        {
            "currency": "XXX",
            "envelope": Decimal("100000"),
            "min_grant": Decimal("5000"),
            "max_grant": Decimal("150000"),
        }
    )
    assert problems == {
        "currency": ["Choose a currency in use, such as USD, EUR or XOF."],
        "max_grant": ["The maximum grant must not be above the envelope."],
    }
    unordered = {"currency": "XOF", "envelope": None, "min_grant": 9, "max_grant": 5}
    assert money_problems(unordered) == {
        "max_grant": ["The minimum grant must not be above the maximum grant."]
    }
    # An envelope of zero is not set yet: a draft may wait for it (publishing may not).
    assert money_problems({"currency": "XOF", "envelope": 0, "min_grant": 1, "max_grant": 5}) == {}


# --- the API: the machine grammar only -------------------------------------------------------

API_CALL = {
    "code": "SN-API-2099",
    "language": "en",
    "title": {"en": "A call through the API"},
    "description": {"en": "Grants for associations."},
    "sector": "employment",
    "countries": ["SN"],
    "currency": "XOF",
    "timezone": "Africa/Dakar",
    "opens_at": f"{NEXT_YEAR}-02-01T00:00",
    "closes_at": f"{NEXT_YEAR}-03-31T23:59",
    "criteria": [{"name": "Relevance", "weight": "100", "scale_min": 0, "scale_max": 5}],
}


def _api_calls() -> int:
    return db.session.query(Call).filter_by(code=API_CALL["code"]).count()


def test_the_api_takes_amounts_as_json_numbers_or_strings_with_a_point(world, client):
    body = {**API_CALL, "envelope": 1250000.5, "min_grant": "10000", "max_grant": "40000.00"}
    created = client.post(
        "/api/v1/calls", json=body, headers={**bearer(world.officer), "Accept-Language": "fr"}
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    assert created.get_json()["envelope"] == "1250000.50"
    call = db.session.get(Call, created.get_json()["id"])
    assert (call.envelope, call.max_grant) == (Decimal("1250000.50"), Decimal("40000.00"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("envelope", "1.250,50", "Give the number with digits and a point for decimals"),
        ("envelope", "1 250,50", "Give the number with digits and a point for decimals"),
        ("envelope", "1,250.50", "Give the number with digits and a point for decimals"),
        ("envelope", float("nan"), "Give the amount as a number"),
        ("envelope", float("inf"), "Give the amount as a number"),
        ("envelope", 1e40, "At most 999999999999.99."),
        ("envelope", "1e40", "Give the number with digits and a point for decimals"),
        ("max_grant", "40000.505", "At most 2 decimals."),
        ("max_grant", "2000000", "The maximum grant must not be above the envelope."),
        ("currency", "XXX", "Choose a currency in use, such as USD, EUR or XOF."),
    ],
)
def test_the_api_refuses_other_grammars_and_impossible_amounts(
    world, client, field, value, message
):
    body = {**API_CALL, "envelope": "1250000", "max_grant": "40000", field: value}
    refused = assert_error(
        client.post("/api/v1/calls", json=body, headers=bearer(world.officer)), 422, "invalid"
    )
    assert any(message in text for text in refused["errors"][field]), refused
    assert _api_calls() == 0
