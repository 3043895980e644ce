"""The programme and the finance dashboards show the same money for the same call, and
it is the ledger's: what accepted awards commit, what was paid less what came back.

The programme dashboard once summed the applications' ``amount_awarded`` (missing on
awards recorded outside a decision, set on offers never accepted) while the finance
dashboard read the ledger: "Awarded $0.00" beside "Paid $12,000" on one page and
$30,000 committed on the other."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import func, select

from grants.extensions import db
from grants.models import Application, Award, LedgerEntry
from grants.services import disbursements, finance_dashboard, programme_dashboard
from grants.services.dashboards import Filters
from grants.services.workflow import fire
from tests.fixtures.programme import NOW, make_award


def _ledger_per_call() -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """(call code, currency) → (committed, paid) summed straight from the ledger rows."""
    totals: dict[tuple[str, str], list[Decimal]] = defaultdict(
        lambda: [Decimal("0.00"), Decimal("0.00")]
    )
    for entry in db.session.scalars(select(LedgerEntry)):
        award = db.session.get(Award, entry.award_id)
        key = (award.application.call.code, entry.currency)
        if entry.kind == "commitment":
            totals[key][0] += entry.amount
        elif entry.kind == "payment":
            totals[key][1] += entry.amount
        else:
            totals[key][1] -= entry.amount
    return {key: (committed, paid) for key, (committed, paid) in totals.items()}


def _programme_per_call(calls) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """(call code, currency) → (committed, paid) as the programme dashboard shows one
    call: the sum of its rows (one per sector)."""
    found = {}
    for call in calls:
        chart = programme_dashboard.amounts(Filters(call_id=call.id))
        per_currency: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
        for row in chart.rows:
            _requested, committed, paid = row.values
            per_currency[row.currency][0] += committed
            per_currency[row.currency][1] += paid
        for currency, (committed, paid) in per_currency.items():
            if committed or paid:
                found[(call.code, currency)] = (committed, paid)
    return found


def _finance_per_call() -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    chart = finance_dashboard.committed_and_paid()
    return {(row.label, row.currency): tuple(row.values) for row in chart.rows}


def test_both_dashboards_show_the_ledgers_committed_and_paid_per_call(app, world):
    # A grant accepted through its machine (the ledger's commitment), whose application
    # carries no amount_awarded, as the demo's earlier call did; tranche 1 paid under
    # four eyes and part of it refunded.
    accepted = make_award(world, amount=Decimal("30000"))
    accepted.application.amount_awarded = None
    fire(accepted, "accept", world.applicant, now=NOW, letter_read=True)
    first = accepted.tranches[0]
    disbursements.act(world.officer, first.id, "request", now=NOW)
    disbursements.act(world.finance, first.id, "approve", now=NOW)
    disbursements.act(world.finance_b, first.id, "approve", now=NOW)
    disbursements.act(
        world.finance,
        first.id,
        "pay",
        payment_date=NOW.date(),
        bank_reference="BANK-1",
        amount=first.amount,
        now=NOW,
    )
    disbursements.record_refund(
        world.finance, accepted.id, Decimal("500"), NOW.date(), "BACK-1", now=NOW
    )
    # An offer not accepted: decided, but it commits nothing yet.
    offered = make_award(world, amount=Decimal("20000"))
    db.session.flush()

    with app.test_request_context():
        ledger = _ledger_per_call()
        programme = _programme_per_call([accepted.application.call, offered.application.call])
        finance = _finance_per_call()

    code = accepted.application.call.code
    assert ledger == {(code, "USD"): (Decimal("30000.00"), Decimal("11500.00"))}
    assert programme == ledger
    assert {key: value for key, value in finance.items() if value != (0, 0)} == ledger
    # The decision's amount is still on the offered application; the money is not.
    assert db.session.scalar(
        select(func.sum(Application.amount_awarded)).where(Application.id == offered.application_id)
    ) == Decimal("20000")
