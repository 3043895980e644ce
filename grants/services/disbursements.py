"""Money on awards: tranches through the four-eyes machine, the ledger, refunds.

Every tranche action goes through ``act``: it locks the award row first (SELECT … FOR
UPDATE on PostgreSQL; SQLite serialises writers), reloads the award's tranches and
approvals, then fires the transition, whose guards re-check the rules and the remaining
balance on fresh data. Two finance officers approving at once therefore queue on the
lock, and the second sees the first's approval.

The ledger is written by a listener, in the transaction of the transition: the award's
commitment at acceptance, each payment. A database trigger keeps ``awards.paid_total``
from it and a CHECK refuses a paid total above the award, whatever the code does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, case, exists, func, select

from grants.extensions import db
from grants.models.accounts import User
from grants.models.applications import Application
from grants.models.awards import Award, LedgerEntry, Tranche, TrancheApproval
from grants.models.calls import Call
from grants.models.payments import PaymentFileItem
from grants.numbers import (
    MACHINE,
    NumberRefused,
    money_text,
    money_value,
    read_number,
    reader_locale,
)
from grants.orm import utcnow
from grants.roles import FINANCE_OFFICER
from grants.services.errors import Forbidden, InvalidInput, NotFound
from grants.services.workflow import DomainEvent, fire, transition_fired
from workflows.base import SYSTEM

TRANCHE_ACTIONS = ("request", "approve", "pay", "fail", "return", "cancel")


# --- locking ---------------------------------------------------------------------------


def lock_award(award_id: int) -> Award:
    """Lock the award row for this transaction and reload it with its tranches."""
    db.session.execute(select(Award.id).where(Award.id == award_id).with_for_update())
    award = db.session.scalars(
        select(Award).where(Award.id == award_id).execution_options(populate_existing=True)
    ).one_or_none()
    if award is None:
        raise NotFound(_("No such award."))
    db.session.scalars(
        select(Tranche)
        .where(Tranche.award_id == award_id)
        .execution_options(populate_existing=True)
    ).all()
    return award


def act(
    actor: User,
    tranche_id: int,
    transition: str,
    comment: str | None = None,
    now: datetime | None = None,
    **data: Any,
) -> Tranche:
    """Fire a tranche transition under the award's lock (see the module docstring)."""
    if transition not in TRANCHE_ACTIONS:
        raise NotFound(_("No such action."))
    award_id = db.session.scalar(select(Tranche.award_id).where(Tranche.id == tranche_id))
    if award_id is None:
        raise NotFound(_("No such tranche."))
    award = lock_award(award_id)
    tranche = next(t for t in award.tranches if t.id == tranche_id)
    db.session.refresh(tranche, ["approvals"])  # what others approved before our lock
    fire(tranche, transition, actor, comment=comment, now=now, **data)
    return tranche


# --- the ledger -------------------------------------------------------------------------


def _entry(award: Award, kind: str, amount: Decimal, value_date: date, **fields) -> LedgerEntry:
    entry = LedgerEntry(
        award_id=award.id,
        kind=kind,
        amount=amount,
        currency=award.currency,
        exchange_rate=award.exchange_rate,
        value_date=value_date,
        **fields,
    )
    db.session.add(entry)
    db.session.flush()
    db.session.expire(award, ["paid_total"])  # the trigger moved it
    return entry


def _actor_label(actor_id: int | None) -> str:
    if actor_id is None:
        return SYSTEM
    person = db.session.get(User, actor_id)
    return person.display_name if person else ""


def record_money(sender: str, event: DomainEvent, record: Any = None) -> None:
    """Ledger entries for the events that move money, in their transaction."""
    if event.entity_type == "award" and event.transition == "accept":
        _entry(
            record,
            "commitment",
            record.amount,
            event.at.date(),
            actor_id=event.actor_id,
            actor_label=_actor_label(event.actor_id),
            created_at=event.at,
        )
    elif event.entity_type == "tranche" and event.transition == "pay":
        _entry(
            record.award,
            "payment",
            record.amount,
            record.payment_date,
            tranche_id=record.id,
            reference=record.bank_reference,
            bank_exchange_rate=event.data.get("bank_exchange_rate"),
            actor_id=event.actor_id,
            actor_label=_actor_label(event.actor_id),
            created_at=event.at,
        )


transition_fired.connect(record_money)


def ledger(award: Award) -> list[LedgerEntry]:
    return list(
        db.session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.award_id == award.id)
            .order_by(LedgerEntry.created_at, LedgerEntry.id)
        )
    )


#: What a ledger entry adds to the money committed: an accepted award its amount.
COMMITTED = case((LedgerEntry.kind == "commitment", LedgerEntry.amount), else_=0)
#: What a ledger entry adds to the money paid: a payment its amount, a refund less.
PAID = case(
    (LedgerEntry.kind == "payment", LedgerEntry.amount),
    (LedgerEntry.kind == "refund", -LedgerEntry.amount),
    else_=0,
)


def ledger_paid_total(award_id: int) -> Decimal:
    """Payments minus refunds, summed from the ledger (what the trigger keeps)."""
    total = db.session.scalar(select(func.sum(PAID)).where(LedgerEntry.award_id == award_id))
    return money_value(total)


def parse_amount(raw: Any, field: str = "amount") -> Decimal:
    """A sum of money above zero: a Decimal from a form, or the machine grammar (1250.50)."""
    try:
        return read_number(raw, MACHINE, positive=True)
    except NumberRefused as refused:
        raise InvalidInput(refused.message, {field: [refused.message]}) from None


def record_refund(
    actor: User,
    award_id: int,
    amount: Any,
    value_date: date,
    reference: str,
    now: datetime | None = None,
) -> LedgerEntry:
    """Money the association returns (unspent funds): a refund entry on the ledger."""
    if FINANCE_OFFICER not in actor.role_names:
        raise Forbidden(_("Only a finance officer records refunds."))
    now = now or utcnow()
    award = lock_award(award_id)
    amount = parse_amount(amount)
    errors: dict[str, list[str]] = {}
    if amount > award.paid_total:
        errors["amount"] = [
            _(
                "The refund, %(amount)s, is above what was paid, %(paid)s.",
                amount=money_text(amount, award.currency, reader_locale()),
                paid=money_text(award.paid_total, award.currency, reader_locale()),
            )
        ]
    if value_date > now.date():
        errors["value_date"] = [_("The date cannot be in the future.")]
    if not (reference or "").strip():
        errors["reference"] = [_("Give the bank reference of the refund.")]
    if errors:
        raise InvalidInput(_("The refund was not recorded."), errors)
    return _entry(
        award,
        "refund",
        amount,
        value_date,
        reference=reference.strip(),
        actor_id=actor.id,
        actor_label=actor.display_name,
        created_at=now,
    )


# --- the finance officer's queue -------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    tranche: Tranche
    award: Award
    reference: str
    association: str
    condition: str | None
    waiting_since: datetime | None


QUEUES = ("approve", "pay", "failed")


def _queue_statement(kind: str, person: User) -> Select:
    statement = select(Tranche)
    if kind == "approve":
        mine = exists().where(
            TrancheApproval.tranche_id == Tranche.id,
            TrancheApproval.cycle == Tranche.cycle,
            TrancheApproval.approver_id == person.id,
        )
        statement = statement.where(
            Tranche.state == "requested",
            Tranche.requested_by_id != person.id,
            ~mine,
        )
    elif kind == "pay":
        statement = statement.where(Tranche.state == "approved")
    else:
        statement = statement.where(Tranche.state == "payment_failed")
    return statement


def queue(kind: str, person: User, page: int = 1, per_page: int = 25):
    """One page of a queue, oldest first, in a handful of queries whatever its size."""
    from sqlalchemy.orm import selectinload

    if kind not in QUEUES:
        raise NotFound(_("No such queue."))
    statement = (
        _queue_statement(kind, person)
        .options(
            selectinload(Tranche.award)
            .selectinload(Award.application)
            .selectinload(Application.association),
            selectinload(Tranche.condition_report),
            selectinload(Tranche.approvals),
        )
        .order_by(Tranche.requested_at, Tranche.id)
    )
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


def queue_rows(pagination) -> list[QueueRow]:
    rows = []
    for tranche in pagination.items:
        award = tranche.award
        approvals = [a.approved_at for a in tranche.approvals if a.cycle == tranche.cycle]
        rows.append(
            QueueRow(
                tranche,
                award,
                award.application.reference or "",
                award.application.association.name,
                tranche.condition_report.state if tranche.condition_report else None,
                max([tranche.requested_at, *approvals]) if tranche.requested_at else None,
            )
        )
    return rows


def queue_totals(kind: str, person: User) -> list[tuple[str, Decimal, int]]:
    """Per currency: the amount and the number of tranches in a queue."""
    ids = _queue_statement(kind, person).with_only_columns(Tranche.id).scalar_subquery()
    rows = db.session.execute(
        select(Award.currency, func.sum(Tranche.amount), func.count(Tranche.id))
        .join(Award, Award.id == Tranche.award_id)
        .where(Tranche.id.in_(ids))
        .group_by(Award.currency)
        .order_by(Award.currency)
    )
    return [(currency, Decimal(str(total)), count) for currency, total, count in rows]


# --- programme totals --------------------------------------------------------------------


def programme_totals(by: str) -> list[tuple[str, str, Decimal, Decimal]]:
    """Committed and paid per call, sector or country, and currency, from the ledger."""
    keys = {"call": Call.code, "sector": Call.sector, "country": Application.country}
    if by not in keys:
        raise NotFound(_("No such grouping."))
    key = keys[by]
    rows = db.session.execute(
        select(key, LedgerEntry.currency, func.sum(COMMITTED), func.sum(PAID))
        .join(Award, Award.id == LedgerEntry.award_id)
        .join(Application, Application.id == Award.application_id)
        .join(Call, Call.id == Application.call_id)
        .group_by(key, LedgerEntry.currency)
        .order_by(key, LedgerEntry.currency)
    )
    return [
        (group or "—", currency, money_value(c), money_value(p)) for group, currency, c, p in rows
    ]


def approved_for_run(person: User, ids: Sequence[int] | None) -> list[Tranche]:
    """Approved tranches a finance officer may pay (not ones they requested), oldest
    first, with what the bank needs loaded in the same few queries."""
    from sqlalchemy.orm import selectinload

    in_a_file = exists().where(PaymentFileItem.tranche_id == Tranche.id, PaymentFileItem.active)
    statement = (
        select(Tranche)
        .where(Tranche.state == "approved", Tranche.requested_by_id != person.id, ~in_a_file)
        .options(
            selectinload(Tranche.award)
            .selectinload(Award.application)
            .selectinload(Application.association)
        )
        .order_by(Tranche.requested_at, Tranche.id)
        .limit(RUN_LIMIT)
    )
    if ids is not None:
        statement = statement.where(Tranche.id.in_(list(ids)))
    return list(db.session.scalars(statement))


#: The most tranches one payment run shows; a bank file of more is split in runs.
RUN_LIMIT = 200
