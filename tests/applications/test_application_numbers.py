"""Numbers of an application as its writer writes them: counts of people within what
the database holds, amounts in the applicant's language on the page and in the machine
grammar through the API. A refused number is named and nothing is saved."""

from __future__ import annotations

from decimal import Decimal

import pytest

from grants.extensions import db
from tests.api.test_api import assert_error, bearer
from tests.applications.test_applications import _save, _start
from tests.applications.test_applications import call as call  # noqa: F401 (fixture)
from tests.clients import text_of
from tests.fixtures.programme import make_application, make_call


def _state(application) -> tuple:
    db.session.expire_all()
    return (
        application.version,
        application.beneficiaries_count,
        application.amount_requested,
        [line.unit_cost for line in application.budget_lines],
    )


@pytest.fixture
def writer(world, login):
    """``writer("es")`` → a client of the association's member, reading that language."""

    def _writer(locale: str):
        world.applicant.locale = locale
        db.session.flush()
        return login(world.applicant)

    return _writer


@pytest.mark.parametrize(
    ("locale", "count", "message"),
    [
        ("en", "99999999999999999999", "At most 10,000,000."),
        ("en", "2147483648", "At most 10,000,000."),
        ("es", "2147483648", "Como máximo 10.000.000."),
        ("en", "12.5", "Give a whole number."),
        ("en", "-3", "Must not be negative."),
        ("fr", "NaN", "Indiquez un nombre entier, par exemple 1 250."),
    ],
)
def test_a_count_of_people_beyond_what_is_possible_is_refused(writer, call, locale, count, message):
    client = writer(locale)
    application = _start(client, call)
    assert _save(client, application).status_code == 303
    before = _state(application)
    response = _save(
        client, application, beneficiaries_count=count, beneficiaries_women="", beneficiaries_men=""
    )
    assert response.status_code == 422
    assert message in text_of(response)
    assert 'id="beneficiaries_count-error"' in response.get_data(as_text=True)
    assert _state(application) == before


@pytest.mark.parametrize(
    ("locale", "typed"),
    [
        ("es", {"beneficiaries_count": "1.500", "amount": "32.000,50", "unit_cost": "1.200.000"}),
        ("fr", {"beneficiaries_count": "1 500", "amount": "32 000,50", "unit_cost": "1 200 000"}),
        ("en", {"beneficiaries_count": "1,500", "amount": "32,000.50", "unit_cost": "1,200,000"}),
    ],
)
def test_an_applicant_writes_numbers_in_their_language(writer, call, locale, typed):
    client = writer(locale)
    application = _start(client, call)
    response = _save(
        client,
        application,
        beneficiaries_count=typed["beneficiaries_count"],
        beneficiaries_women="",
        beneficiaries_men="",
        amount_requested=typed["amount"],
        **{"budget_lines-0-unit_cost": typed["unit_cost"]},
    )
    assert response.status_code == 303, text_of(response)[:1500]
    db.session.expire_all()
    assert application.beneficiaries_count == 1500
    assert application.amount_requested == Decimal("32000.50")
    assert application.budget_lines[0].unit_cost == Decimal("1200000")


def test_an_ambiguous_amount_proposes_the_reading_in_the_writers_language(writer, call):
    client = writer("es")
    application = _start(client, call)
    assert _save(client, application).status_code == 303
    before = _state(application)
    response = _save(client, application, amount_requested="32,000")
    assert response.status_code == 422
    assert "¿Quiso decir 32.000,00?" in text_of(response)
    assert _state(application) == before
    # The page keeps what was typed, so the writer corrects it rather than retypes it.
    assert 'value="32,000"' in response.get_data(as_text=True)


def test_a_budget_line_of_words_is_refused_not_dropped(writer, call):
    client = writer("en")
    application = _start(client, call)
    assert _save(client, application).status_code == 303
    before = _state(application)
    response = _save(
        client,
        application,
        **{
            "budget_lines-0-description": "",
            "budget_lines-0-quantity": "ten",
            "budget_lines-0-unit_cost": "a lot",
        },
    )
    assert response.status_code == 422
    assert "Give the amount as a number, such as 1,250.50." in text_of(response)
    assert _state(application) == before


# --- the API ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("beneficiaries_count", 10**12, "less than or equal to 10000000"),
        ("beneficiaries_count", 2**31, "less than or equal to 10000000"),
        ("amount_requested", "1.250,50", "Give the number with digits and a point"),
        ("amount_requested", "NaN", "Give the number with digits and a point"),
        ("amount_requested", float("inf"), "Give the amount as a number"),
        ("amount_requested", 1e30, "At most 999999999999.99."),
        ("amount_requested", "32000.505", "At most 2 decimals."),
    ],
)
def test_the_api_refuses_impossible_numbers_in_a_draft(world, client, field, value, message):
    application = make_application(world, make_call(world))
    before = _state(application)
    refused = assert_error(
        client.patch(
            f"/api/v1/applications/{application.id}",
            json={"version": application.version, field: value},
            headers=bearer(world.applicant),
        ),
        422,
        "invalid",
    )
    assert any(message in text for text in refused["errors"][field]), refused
    assert _state(application) == before


def test_the_api_takes_numbers_in_the_machine_grammar(world, client):
    application = make_application(world, make_call(world))
    saved = client.patch(
        f"/api/v1/applications/{application.id}",
        json={
            "version": application.version,
            "beneficiaries_count": 1500,
            "amount_requested": 32000.5,
            "budget_lines": [{"category": "staff", "quantity": "2", "unit_cost": "1250.50"}],
        },
        headers={**bearer(world.applicant), "Accept-Language": "es"},
    )
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.get_json()["amount_requested"] == "32000.50"
    assert saved.get_json()["budget_total"] == "2501.00"
    assert application.beneficiaries_count == 1500
