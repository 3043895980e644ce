"""Money on awards: the ledger, its trigger and constraint, four eyes under concurrency,
and refunds. Each refusal says why and changes nothing."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from grants.extensions import db
from grants.models import Award, HistoryEntry, LedgerEntry, Tranche, TrancheApproval
from grants.services import disbursements
from grants.services.errors import Conflict, DomainError, InvalidInput
from grants.services.workflow import fire
from tests.fixtures.programme import NOW, make_award
from workflows.errors import GuardFailed, NotPermitted


def _accept(award, world):
    award.state = "offered"
    fire(award, "accept", world.applicant, now=NOW, letter_read=True)


def _pay(tranche, person, reference="BANK-1"):
    return disbursements.act(
        person,
        tranche.id,
        "pay",
        payment_date=NOW.date(),
        bank_reference=reference,
        amount=tranche.amount,
        now=NOW,
    )


def _entries(award, kind=None) -> list[LedgerEntry]:
    statement = select(LedgerEntry).where(LedgerEntry.award_id == award.id)
    if kind:
        statement = statement.where(LedgerEntry.kind == kind)
    return list(db.session.scalars(statement.order_by(LedgerEntry.id)))


def test_accepting_commits_and_paying_writes_the_ledger(world):
    award = make_award(world)
    _accept(award, world)
    [commitment] = _entries(award, "commitment")
    assert (commitment.amount, commitment.currency) == (Decimal("32000"), "USD")
    first = award.tranches[0]
    disbursements.act(world.officer, first.id, "request", now=NOW)
    disbursements.act(world.finance, first.id, "approve", now=NOW)
    disbursements.act(world.finance_b, first.id, "approve", now=NOW)
    _pay(first, world.finance_b, "SN-2027-0611-001")
    [payment] = _entries(award, "payment")
    assert (payment.amount, payment.reference, payment.tranche_id) == (
        Decimal("12800.00"),
        "SN-2027-0611-001",
        first.id,
    )
    assert award.paid_total == Decimal("12800.00")
    assert award.balance == Decimal("19200.00")


def test_the_ledger_is_append_only(world):
    award = make_award(world)
    _accept(award, world)
    with pytest.raises(DBAPIError), db.session.begin_nested():
        db.session.execute(text("UPDATE ledger_entries SET amount = 1"))
    with pytest.raises(DBAPIError), db.session.begin_nested():
        db.session.execute(text("DELETE FROM ledger_entries"))
    assert len(_entries(award)) == 1


def test_the_database_refuses_paying_past_the_award(world):
    """Even written around the services, a payment above the award fails."""
    award = make_award(world, state="active")
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(
            LedgerEntry(
                award_id=award.id,
                kind="payment",
                amount=Decimal("32000.01"),
                currency="USD",
                value_date=NOW.date(),
            )
        )
        db.session.flush()
    db.session.refresh(award)
    assert award.paid_total == 0 and _entries(award) == []


def test_a_requester_is_refused_with_the_reason_and_nothing_changes(world):
    award = make_award(world, state="active")
    tranche = award.tranches[0]
    world.finance.roles.append(world.officer.roles[0])  # a finance officer who is also officer
    disbursements.act(world.finance, tranche.id, "request", now=NOW)
    with pytest.raises(NotPermitted) as refused:
        disbursements.act(world.finance, tranche.id, "approve", now=NOW)
    assert (
        refused.value.message == "You requested this tranche; another finance officer must do this."
    )
    assert refused.value.status == 403
    assert tranche.state == "requested" and tranche.current_approver_ids == set()


def test_nobody_approves_twice(world):
    award = make_award(world, state="active")
    tranche = award.tranches[0]  # 12,800: two approvals
    disbursements.act(world.officer, tranche.id, "request", now=NOW)
    disbursements.act(world.finance, tranche.id, "approve", now=NOW)
    with pytest.raises(NotPermitted) as refused:
        disbursements.act(world.finance, tranche.id, "approve", now=NOW)
    assert "already approved" in refused.value.message
    assert tranche.state == "requested" and len(tranche.approvals) == 1


def test_a_payment_of_another_amount_is_refused(world):
    award = make_award(world, state="active")
    tranche = award.tranches[2]  # 6,400: one approval
    tranche.condition_report_id = None
    disbursements.act(world.officer, tranche.id, "request", now=NOW)
    disbursements.act(world.finance, tranche.id, "approve", now=NOW)
    with pytest.raises(GuardFailed) as refused:
        disbursements.act(
            world.finance_b,
            tranche.id,
            "pay",
            payment_date=NOW.date(),
            bank_reference="X",
            amount=Decimal("6399.99"),
            now=NOW,
        )
    assert "The amount paid must equal the approved amount, 6,400.00 USD." in refused.value.reasons
    assert tranche.state == "approved" and _entries(award, "payment") == []


def test_a_tranche_waits_for_its_report(world):
    award = make_award(world, state="active")
    second = award.tranches[1]
    with pytest.raises(GuardFailed) as refused:
        disbursements.act(world.officer, second.id, "request", now=NOW)
    assert "This tranche waits for the interim report to be accepted." in refused.value.reasons
    assert second.state == "planned"


def test_a_request_above_the_remaining_balance_is_refused(world):
    award = make_award(world, state="active")
    for tranche in award.tranches:
        tranche.condition_report_id = None
    award.tranches[0].amount = Decimal("20000")
    award.tranches[1].amount = Decimal("13000")
    disbursements.act(world.officer, award.tranches[0].id, "request", now=NOW)
    with pytest.raises(GuardFailed) as refused:
        disbursements.act(world.officer, award.tranches[1].id, "request", now=NOW)
    assert (
        "The tranche, 13,000.00 USD, is above what remains of the award, 12,000.00 USD."
        in refused.value.reasons
    )


def test_no_payment_while_new_bank_details_wait(world):
    award = make_award(world, state="active")
    tranche = award.tranches[2]
    tranche.condition_report_id = None
    disbursements.act(world.officer, tranche.id, "request", now=NOW)
    disbursements.act(world.finance, tranche.id, "approve", now=NOW)
    award.bank_change_pending = True
    with pytest.raises(GuardFailed) as refused:
        _pay(tranche, world.finance_b)
    assert any("wait for a finance officer's decision" in r for r in refused.value.reasons)
    assert tranche.state == "approved" and _entries(award, "payment") == []


def test_refunds_lower_the_paid_total_and_cannot_exceed_it(world):
    award = make_award(world, state="active")
    tranche = award.tranches[2]
    tranche.condition_report_id = None
    disbursements.act(world.officer, tranche.id, "request", now=NOW)
    disbursements.act(world.finance, tranche.id, "approve", now=NOW)
    _pay(tranche, world.finance_b)
    with pytest.raises(InvalidInput) as refused:
        disbursements.record_refund(
            world.finance, award.id, "7000", NOW.date() + timedelta(days=1), "", now=NOW
        )
    assert set(refused.value.errors) == {"amount", "value_date", "reference"}
    assert _entries(award, "refund") == []
    disbursements.record_refund(world.finance, award.id, "400.00", NOW.date(), "RET-9", now=NOW)
    assert award.paid_total == Decimal("6000.00")
    assert disbursements.ledger_paid_total(award.id) == Decimal("6000.00")


# --- concurrency (PostgreSQL) ------------------------------------------------------------


def _in_threads(app, count, work):
    barrier = threading.Barrier(count)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(index):
        with app.app_context():
            barrier.wait()
            try:
                work(index)
                db.session.commit()
                result = "ok"
            except DomainError as error:
                db.session.rollback()
                result = type(error).__name__
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


@pytest.mark.usefixtures("committed")
def test_twenty_finance_officers_approving_at_once(app):
    from tests.fixtures.people import make_user
    from tests.fixtures.programme import make_world

    with app.app_context():
        world = make_world()
        approvers = [make_user("finance_officer") for _ in range(20)]
        award = make_award(world, state="active")
        tranche = award.tranches[0]  # 12,800: two approvals needed
        disbursements.act(world.officer, tranche.id, "request", now=NOW)
        db.session.commit()
        tranche_id, ids = tranche.id, [a.id for a in approvers]

    def approve(index):
        from grants.models import User

        person = db.session.get(User, ids[index])
        disbursements.act(person, tranche_id, "approve", now=NOW)

    outcomes = _in_threads(app, 20, approve)
    with app.app_context():
        tranche = db.session.get(Tranche, tranche_id)
        approvals = db.session.scalars(
            select(TrancheApproval).where(TrancheApproval.tranche_id == tranche_id)
        ).all()
        history = db.session.scalars(
            select(HistoryEntry.to_state).where(
                HistoryEntry.entity_type == "tranche",
                HistoryEntry.entity_id == tranche_id,
                HistoryEntry.transition == "approve",
            )
        ).all()
    assert outcomes.count("ok") == 2, outcomes
    assert tranche.state == "approved" and len(approvals) == 2
    assert sorted(history) == ["approved", "requested"]  # one history row per approval


@pytest.mark.usefixtures("committed")
def test_ten_payments_at_once_pay_once(app):
    from tests.fixtures.programme import make_world

    with app.app_context():
        world = make_world()
        award = make_award(world, state="active")
        tranche = award.tranches[0]
        disbursements.act(world.officer, tranche.id, "request", now=NOW)
        disbursements.act(world.finance, tranche.id, "approve", now=NOW)
        disbursements.act(world.finance_b, tranche.id, "approve", now=NOW)
        db.session.commit()
        tranche_id, payer_id, award_id = tranche.id, world.finance_b.id, award.id

    def pay(index):
        from grants.models import User

        person = db.session.get(User, payer_id)
        tranche = db.session.get(Tranche, tranche_id)
        _pay(tranche, person, f"BANK-{index}")

    outcomes = _in_threads(app, 10, pay)
    with app.app_context():
        entries = db.session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.award_id == award_id, LedgerEntry.kind == "payment"
            )
        ).all()
        paid = db.session.get(Award, award_id).paid_total
    assert outcomes.count("ok") == 1, outcomes
    assert set(outcomes) <= {"ok", "TransitionNotAllowed"}
    assert len(entries) == 1 and paid == Decimal("12800.00")


# --- the ledger always sums to the paid total --------------------------------------------

ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["request", "approve", "approve_b", "pay", "fail", "return", "refund"]),
        st.integers(min_value=0, max_value=2),
    ),
    max_size=25,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=ACTIONS)
def test_the_ledger_always_sums_to_the_paid_total(world, steps):
    with db.session.begin_nested() as outer:
        award = make_award(world, state="active")
        for tranche in award.tranches:
            tranche.condition_report_id = None
        for action, position in steps:
            tranche = award.tranches[position]
            try:
                with db.session.begin_nested():
                    if action == "request":
                        disbursements.act(world.officer, tranche.id, "request", now=NOW)
                    elif action in ("approve", "approve_b"):
                        person = world.finance if action == "approve" else world.finance_b
                        disbursements.act(person, tranche.id, "approve", now=NOW)
                    elif action == "pay":
                        _pay(tranche, world.finance_b)
                    elif action == "fail":
                        disbursements.act(
                            world.finance, tranche.id, "fail", comment="Bank refused", now=NOW
                        )
                    elif action == "return":
                        disbursements.act(
                            world.officer, tranche.id, "return", comment="Wrong amount", now=NOW
                        )
                    else:
                        disbursements.record_refund(
                            world.finance, award.id, "100", date(2027, 3, 1), "R", now=NOW
                        )
            except (DomainError, Conflict):
                pass
            db.session.refresh(award)
            paid = sum((t.amount for t in award.tranches if t.state == "paid"), Decimal("0"))
            refunds = db.session.scalar(
                select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                    LedgerEntry.award_id == award.id, LedgerEntry.kind == "refund"
                )
            )
            assert award.paid_total == disbursements.ledger_paid_total(award.id)
            assert award.paid_total == paid - Decimal(str(refunds))
            assert Decimal("0") <= award.paid_total <= award.amount
        outer.rollback()
