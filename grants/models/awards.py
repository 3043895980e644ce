"""Awards, their tranches (disbursements) with approvals, and their reports."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from grants.extensions import db
from grants.models.accounts import User
from grants.models.applications import Application
from grants.models.calls import Money
from grants.orm import utcnow
from workflows.award import AwardLifecycle
from workflows.bank_change import BankChangeLifecycle
from workflows.base import state_check
from workflows.report import ReportLifecycle
from workflows.tranche import TrancheLifecycle

IN_FLIGHT = ("requested", "approved", "payment_failed")
#: Reports the association still owes: what the reminder sweep reads, through a partial index.
REPORT_OPEN = ("scheduled", "changes_requested")
_REPORT_OPEN_SQL = text("state IN ('scheduled', 'changes_requested')")


class Award(db.Model):
    __tablename__ = "awards"
    __table_args__ = (
        CheckConstraint(state_check(AwardLifecycle), name="state_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
        # The ledger's trigger keeps paid_total; the database refuses paying past the award.
        CheckConstraint("paid_total >= 0 AND paid_total <= amount", name="paid_within_award"),
    )

    lifecycle = AwardLifecycle

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), unique=True)
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    #: Units of the budget currency per unit of the programme currency, fixed at award.
    exchange_rate: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    exchange_rate_date: Mapped[date | None]
    conditions: Mapped[str] = mapped_column(Text, default="")
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None]
    signatory_name: Mapped[str] = mapped_column(String(200), default="")
    signatory_role: Mapped[str] = mapped_column(String(200), default="")
    #: Where the acceptance came from, and the letter accepted (``IssuedLetter.sha256``).
    acceptance_address: Mapped[str] = mapped_column(String(64), default="", server_default="")
    acceptance_user_agent: Mapped[str] = mapped_column(String(300), default="", server_default="")
    accepted_letter_sha256: Mapped[str] = mapped_column(String(64), default="", server_default="")
    account_holder: Mapped[str] = mapped_column(String(200), default="")
    iban: Mapped[str] = mapped_column(String(40), default="")
    account_number: Mapped[str] = mapped_column(String(60), default="")
    bank_name: Mapped[str] = mapped_column(String(200), default="")
    bic: Mapped[str] = mapped_column(String(11), default="")
    #: A change of bank details waits for a finance officer's decision; no tranche is
    #: approved or paid meanwhile. Kept by the change's machine, under the award's lock.
    bank_change_pending: Mapped[bool] = mapped_column(default=False)
    #: Payments minus refunds, kept by a trigger on the ledger (never written by the ORM).
    paid_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"), server_default="0")
    state: Mapped[str] = mapped_column(String(20), default="offered", index=True)
    version: Mapped[int] = mapped_column(default=1)

    application: Mapped[Application] = relationship()
    tranches: Mapped[list[Tranche]] = relationship(
        back_populates="award",
        order_by="Tranche.position",
        lazy="selectin",
        cascade="all, delete-orphan",
    )
    reports: Mapped[list[Report]] = relationship(
        back_populates="award",
        order_by="Report.due_date",
        lazy="selectin",
        cascade="all, delete-orphan",
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def balance(self) -> Decimal:
        """Committed minus paid: what the programme still owes on this award."""
        return self.amount - self.paid_total

    @property
    def budget_currency(self) -> str:
        return self.application.budget_currency or self.currency

    def in_budget_currency(self, amount: Decimal) -> Decimal | None:
        """An amount in the application's budget currency, at the rate fixed at award."""
        if self.exchange_rate is None or self.budget_currency == self.currency:
            return None
        return (amount * self.exchange_rate).quantize(Decimal("0.01"))

    def remaining_for(self, tranche: Tranche) -> Decimal:
        """What is left of the award for ``tranche``: minus what was paid and the other
        tranches in flight (requested, approved or failing)."""
        in_flight = sum(
            (t.amount for t in self.tranches if t is not tranche and t.state in IN_FLIGHT),
            Decimal("0"),
        )
        return self.amount - self.paid_total - in_flight


class Tranche(db.Model):
    __tablename__ = "tranches"
    __table_args__ = (
        CheckConstraint(state_check(TrancheLifecycle), name="state_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
        UniqueConstraint("award_id", "position"),
    )

    lifecycle = TrancheLifecycle

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    percentage: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    amount: Mapped[Decimal] = mapped_column(Money)
    #: The report that must be accepted before this tranche can be requested.
    condition_report_id: Mapped[int | None] = mapped_column(
        ForeignKey("reports.id", ondelete="SET NULL")
    )
    #: Incremented when the tranche is returned: approvals of earlier rounds stop counting.
    cycle: Mapped[int] = mapped_column(default=1)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime | None]
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    paid_at: Mapped[datetime | None]
    payment_date: Mapped[date | None]
    bank_reference: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(20), default="planned", index=True)
    version: Mapped[int] = mapped_column(default=1)

    award: Mapped[Award] = relationship(back_populates="tranches")
    condition_report: Mapped[Report | None] = relationship(foreign_keys=[condition_report_id])
    approvals: Mapped[list[TrancheApproval]] = relationship(
        back_populates="tranche", lazy="selectin", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def payment_reference(self) -> str:
        """What the association reads on its statement: the grant and the tranche."""
        return f"{self.award.application.reference or self.award.id} T{self.position}"

    @property
    def current_approver_ids(self) -> set[int]:
        return {a.approver_id for a in self.approvals if a.cycle == self.cycle}

    def add_approval(self, approver_id: int, when: datetime) -> None:
        self.approvals.append(
            TrancheApproval(approver_id=approver_id, cycle=self.cycle, approved_at=when)
        )


class TrancheApproval(db.Model):
    """One finance officer's approval of a tranche, in one round (cycle)."""

    __tablename__ = "tranche_approvals"
    __table_args__ = (UniqueConstraint("tranche_id", "cycle", "approver_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tranche_id: Mapped[int] = mapped_column(ForeignKey("tranches.id", ondelete="CASCADE"))
    cycle: Mapped[int]
    approver_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime] = mapped_column(default=utcnow)

    tranche: Mapped[Tranche] = relationship(back_populates="approvals")


class Report(db.Model):
    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint(state_check(ReportLifecycle), name="state_known"),
        CheckConstraint("kind IN ('interim', 'final')", name="kind_known"),
        Index(
            "ix_reports_open_due",
            "due_date",
            postgresql_where=_REPORT_OPEN_SQL,
            sqlite_where=_REPORT_OPEN_SQL,
        ),
    )

    lifecycle = ReportLifecycle

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    due_date: Mapped[date]
    activities: Mapped[str] = mapped_column(Text, default="")
    results: Mapped[str] = mapped_column(Text, default="")
    difficulties: Mapped[str] = mapped_column(Text, default="")
    next_steps: Mapped[str] = mapped_column(Text, default="")
    #: Spending per budget line: [{"budget_line_id", "actual", "explanation"}], in the
    #: application's budget currency.
    spending: Mapped[list[dict]] = mapped_column(JSON, default=list, server_default="[]")
    #: The call's indicators: {code: {"value": n} or {"women": n, "men": n}}.
    indicator_values: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    #: Co-financing actually received: {co_financing_id: amount}.
    cofinancing_received: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    #: The officer's comments per section when asking for changes.
    review_comments: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    submitted_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(20), default="scheduled", index=True)
    version: Mapped[int] = mapped_column(default=1)

    award: Mapped[Award] = relationship(back_populates="reports")

    __mapper_args__ = {"version_id_col": version}

    @property
    def association_id(self) -> int:
        return self.award.association_id


LEDGER_KINDS = ("commitment", "payment", "refund")


class LedgerEntry(db.Model):
    """Money on an award, append-only: the commitment at acceptance, each payment, each
    refund. A trigger refuses UPDATE and DELETE, and keeps ``awards.paid_total``."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("kind IN ('commitment', 'payment', 'refund')", name="kind_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id"), index=True)
    tranche_id: Mapped[int | None] = mapped_column(ForeignKey("tranches.id"))
    kind: Mapped[str] = mapped_column(String(12))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    exchange_rate: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    #: The rate the bank applied to a payment converted into the budget currency, read
    #: from its statement, beside the award's locked ``exchange_rate``.
    bank_exchange_rate: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    value_date: Mapped[date]
    reference: Mapped[str] = mapped_column(String(100), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tranche: Mapped[Tranche | None] = relationship()
    #: The actor's pseudonym once they were anonymised, read in the same statement.
    actor_pseudonym: Mapped[str | None] = column_property(
        select(User.full_name)
        .where(User.id == actor_id, User.anonymised_at.isnot(None))
        .correlate_except(User)
        .scalar_subquery()
    )

    @property
    def exchange_difference(self) -> Decimal | None:
        """In the budget currency: what the bank's rate gave minus what the locked rate
        promised (positive: the association received more)."""
        if self.bank_exchange_rate is None or self.exchange_rate is None:
            return None
        return (self.amount * (self.bank_exchange_rate - self.exchange_rate)).quantize(
            Decimal("0.01")
        )

    @property
    def shown_actor(self) -> str:
        """The actor as shown: the entry keeps the name written at the time (the ledger is
        append-only), but an anonymised actor is shown by pseudonym."""
        return self.actor_pseudonym or self.actor_label


#: Changes of bank details that hold the grant's payments (``new`` lasts one transaction).
CHANGE_WAITING = ("new", "requested")
_CHANGE_WAITING_SQL = text("state IN ('new', 'requested')")


class BankDetailsChange(db.Model):
    """New bank details asked for by the association after activation: no payment uses
    them, and no tranche is approved or paid, until a finance officer other than the
    person who asked approves them (``workflows.bank_change``)."""

    __tablename__ = "bank_details_changes"
    __table_args__ = (
        CheckConstraint(state_check(BankChangeLifecycle), name="state_known"),
        # One change at a time per grant, whatever the code does.
        Index(
            "uq_bank_details_changes_one_waiting",
            "award_id",
            unique=True,
            postgresql_where=_CHANGE_WAITING_SQL,
            sqlite_where=_CHANGE_WAITING_SQL,
        ),
    )

    lifecycle = BankChangeLifecycle

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id"), index=True)
    account_holder: Mapped[str] = mapped_column(String(200))
    iban: Mapped[str] = mapped_column(String(40), default="")
    account_number: Mapped[str] = mapped_column(String(60), default="")
    bank_name: Mapped[str] = mapped_column(String(200))
    bic: Mapped[str] = mapped_column(String(11))
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(10), default="new")
    #: Who approved, refused or withdrew it, when, and why.
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None]
    decision_comment: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    award: Mapped[Award] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def association_id(self) -> int:
        return self.award.association_id
