"""Money typed on a grant: refunds and payments by finance officers, spending in a report
by the association, in their language on the pages and in the machine grammar through
the API. An impossible amount is named and the ledger does not move."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import LedgerEntry
from grants.services import disbursements
from grants.services.errors import InvalidInput
from tests.api.test_api import assert_error, bearer
from tests.awards.test_pages import _report_form
from tests.clients import text_of
from tests.fixtures.programme import NOW, make_award


def _paid_award(world):
    """An active award whose third tranche (6,400) is paid."""
    award = make_award(world, state="active")
    tranche = award.tranches[2]
    tranche.condition_report_id = None
    disbursements.act(world.officer, tranche.id, "request", now=NOW)
    disbursements.act(world.finance, tranche.id, "approve", now=NOW)
    disbursements.act(
        world.finance_b,
        tranche.id,
        "pay",
        payment_date=NOW.date(),
        bank_reference="BANK-1",
        amount=tranche.amount,
        now=NOW,
    )
    return award


def _ledger(award) -> tuple:
    db.session.expire_all()
    count = db.session.scalar(
        select(func.count(LedgerEntry.id)).where(LedgerEntry.award_id == award.id)
    )
    return count, award.paid_total


@pytest.fixture
def finance_in(world, login):
    """``finance_in("es")`` → a client of a finance officer reading that language."""

    def _finance(locale: str):
        world.finance.locale = locale
        db.session.flush()
        return login(world.finance)

    return _finance


@pytest.mark.parametrize(
    ("locale", "amount", "message"),
    [
        ("en", "1e30", "Give the amount as a number, such as 1,250.50."),
        ("en", "1" + "0" * 30, "At most 999,999,999,999.99."),
        ("en", "NaN", "Give the amount as a number, such as 1,250.50."),
        ("en", "0", "Must be above zero."),
        ("en", "1.250", "Did you mean 1,250.00?"),
        ("es", "1,250", "¿Quiso decir 1.250,00?"),
        ("fr", "Infinity", "Indiquez le montant en chiffres, par exemple 1 250,50."),
    ],
)
def test_an_impossible_refund_is_refused_and_the_ledger_does_not_move(
    world, finance_in, locale, amount, message
):
    award = _paid_award(world)
    before = _ledger(award)
    response = finance_in(locale).post(
        f"/grants/{award.id}/refund",
        data={"amount": amount, "value_date": date.today().isoformat(), "reference": "RET-1"},
    )
    assert response.status_code == 422
    assert message in text_of(response)
    assert _ledger(award) == before


def test_a_refund_written_in_spanish_is_read_as_spanish(world, finance_in):
    award = _paid_award(world)
    paid = award.paid_total
    response = finance_in("es").post(
        f"/grants/{award.id}/refund",
        data={"amount": "1.250,50", "value_date": date.today().isoformat(), "reference": "RET-2"},
    )
    assert response.status_code == 303, text_of(response)[:1500]
    db.session.expire_all()
    assert award.paid_total == paid - Decimal("1250.50")


@pytest.mark.parametrize("amount", ["1e30", Decimal("1E+30"), "NaN", "1.250,50", 1e30])
def test_the_refund_service_refuses_what_no_column_holds(world, amount):
    award = _paid_award(world)
    before = _ledger(award)
    with pytest.raises(InvalidInput) as refused:
        disbursements.record_refund(world.finance, award.id, amount, NOW.date(), "R", now=NOW)
    assert set(refused.value.errors) == {"amount"}
    assert _ledger(award) == before


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (1e30, "At most 999999999999.99."),
        ("NaN", "Give the number with digits and a point for decimals, such as 1250.50."),
        (float("nan"), "Give the amount as a number, such as 1250.50."),
        ("6.400,00", "Give the number with digits and a point for decimals, such as 1250.50."),
    ],
)
def test_a_payment_through_the_api_refuses_impossible_amounts(world, client, amount, message):
    award = make_award(world, state="active")
    tranche = award.tranches[2]
    tranche.condition_report_id = None
    disbursements.act(world.officer, tranche.id, "request", now=NOW)
    disbursements.act(world.finance, tranche.id, "approve", now=NOW)
    before = _ledger(award)
    refused = assert_error(
        client.post(
            f"/api/v1/tranches/{tranche.id}/transitions",
            json={
                "name": "pay",
                "payment_date": NOW.date().isoformat(),
                "bank_reference": "B-1",
                "amount": amount,
            },
            headers=bearer(world.finance_b),
        ),
        422,
        "invalid",
    )
    assert refused["errors"] == {"amount": [message]}
    assert tranche.state == "approved" and _ledger(award) == before


@pytest.mark.parametrize(
    ("locale", "typed", "outcome"),
    [
        ("es", "1.250", "1250.00"),
        ("fr", "1 250,50", "1250.50"),
        ("en", "1,250.50", "1250.50"),
        ("en", "1.250", "Did you mean 1,250.00?"),
        ("es", "1e40", "Indique el importe en cifras, por ejemplo 1.250,50."),
    ],
)
def test_spending_in_a_report_is_read_as_the_association_writes_it(
    world, login, locale, typed, outcome
):
    award = make_award(world, state="active")
    interim = next(r for r in award.reports if r.kind == "interim")
    line = award.application.budget_lines[0]
    world.applicant.locale = locale
    db.session.flush()
    before = (list(interim.spending or []), interim.activities, interim.version)
    response = login(world.applicant).post(
        f"/grants/{award.id}/reports/{interim.id}",
        data=_report_form(award, **{f"actual-{line.id}": typed}),
    )
    db.session.expire_all()
    if outcome[0].isdigit():
        assert response.status_code == 303, text_of(response)[:1500]
        assert interim.spending[0]["actual"] == outcome
    else:
        assert response.status_code == 422
        assert outcome in text_of(response)
        assert (interim.spending, interim.activities, interim.version) == before


def test_a_refund_above_what_was_paid_names_both_amounts_in_the_readers_way(world, finance_in):
    award = _paid_award(world)
    before = _ledger(award)
    response = finance_in("fr").post(
        f"/grants/{award.id}/refund",
        data={"amount": "7 000", "value_date": date.today().isoformat(), "reference": "RET-3"},
    )
    assert response.status_code == 422
    assert "Le remboursement (7 000,00 $US) dépasse le montant versé (6 400,00 $US)." in text_of(
        response
    )
    assert _ledger(award) == before
