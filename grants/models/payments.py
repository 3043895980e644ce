"""The programme's bank side: its debtor accounts, the payment files sent to the bank
(ISO 20022 pain.001) and the statements the bank sends back (camt.053)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.extensions import db
from grants.models.accounts import User
from grants.models.awards import Tranche
from grants.models.calls import Money
from grants.orm import utcnow

PAYMENT_FILE_STATES = ("generated", "cancelled")
#: What became of a statement line: it paid a tranche, it paid one already paid (the same
#: payment read again), it matched a tranche the lifecycle refused to mark paid, or it
#: matched nothing.
LINE_OUTCOMES = ("matched", "already_paid", "refused", "unmatched")
_ITEM_ACTIVE_SQL = text("active")


class DebtorAccount(db.Model):
    """An account the programme pays from; a payment file is drawn on exactly one."""

    __tablename__ = "debtor_accounts"
    __table_args__ = (UniqueConstraint("iban", "currency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(70))
    iban: Mapped[str] = mapped_column(String(40))
    bic: Mapped[str] = mapped_column(String(11))
    currency: Mapped[str] = mapped_column(String(3))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class PaymentFile(db.Model):
    """One pain.001 credit-transfer file, generated once and kept in the document store."""

    __tablename__ = "payment_files"
    __table_args__ = (
        CheckConstraint("state IN ('generated', 'cancelled')", name="state_known"),
        CheckConstraint("total > 0 AND count > 0", name="not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_account_id: Mapped[int] = mapped_column(ForeignKey("debtor_accounts.id"), index=True)
    message_id: Mapped[str] = mapped_column(String(35), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Money)
    count: Mapped[int]
    execution_date: Mapped[date]
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10), default="generated", index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(default=1)

    debtor_account: Mapped[DebtorAccount] = relationship(lazy="joined")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    items: Mapped[list[PaymentFileItem]] = relationship(
        back_populates="payment_file", order_by="PaymentFileItem.id"
    )

    __mapper_args__ = {"version_id_col": version}


class PaymentFileItem(db.Model):
    """One credit transfer of a file, as it was written: the tranche and the creditor's
    account at the time. A tranche is in at most one file that is not cancelled."""

    __tablename__ = "payment_file_items"
    __table_args__ = (
        Index(
            "uq_payment_file_items_one_active",
            "tranche_id",
            unique=True,
            postgresql_where=_ITEM_ACTIVE_SQL,
            sqlite_where=_ITEM_ACTIVE_SQL,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_file_id: Mapped[int] = mapped_column(
        ForeignKey("payment_files.id", ondelete="CASCADE"), index=True
    )
    tranche_id: Mapped[int] = mapped_column(ForeignKey("tranches.id"), index=True)
    end_to_end_id: Mapped[str] = mapped_column(String(35), unique=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    creditor_name: Mapped[str] = mapped_column(String(140))
    iban: Mapped[str] = mapped_column(String(40), default="")
    account_number: Mapped[str] = mapped_column(String(60), default="")
    bic: Mapped[str] = mapped_column(String(11), default="")
    remittance: Mapped[str] = mapped_column(String(140))
    #: False once the file is cancelled: the tranche may go in another file.
    active: Mapped[bool] = mapped_column(default=True)

    payment_file: Mapped[PaymentFile] = relationship(back_populates="items")
    tranche: Mapped[Tranche] = relationship()


class BankStatement(db.Model):
    """A camt.053 statement of one of the programme's accounts, imported once."""

    __tablename__ = "bank_statements"
    __table_args__ = (UniqueConstraint("debtor_account_id", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    debtor_account_id: Mapped[int] = mapped_column(ForeignKey("debtor_accounts.id"), index=True)
    #: The statement's own identification (Stmt/Id): the same statement twice is one.
    reference: Mapped[str] = mapped_column(String(35))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    filename: Mapped[str] = mapped_column(String(200))
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    size: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    created_on: Mapped[date | None]
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)

    debtor_account: Mapped[DebtorAccount] = relationship(lazy="joined")
    lines: Mapped[list[StatementLine]] = relationship(
        back_populates="statement", order_by="StatementLine.id"
    )


class StatementLine(db.Model):
    """One debit of a statement and what the reconciliation made of it."""

    __tablename__ = "statement_lines"
    __table_args__ = (
        CheckConstraint(
            "outcome IN ('matched', 'already_paid', 'refused', 'unmatched')", name="outcome_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("bank_statements.id", ondelete="CASCADE"), index=True
    )
    bank_reference: Mapped[str] = mapped_column(String(100))
    end_to_end_id: Mapped[str] = mapped_column(String(35), default="")
    amount: Mapped[Decimal] = mapped_column(Money)
    value_date: Mapped[date]
    remittance: Mapped[str] = mapped_column(String(140), default="")
    creditor_name: Mapped[str] = mapped_column(String(140), default="")
    #: The bank's rate for a payment converted to another currency, and that currency.
    exchange_rate: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    target_currency: Mapped[str] = mapped_column(String(3), default="")
    outcome: Mapped[str] = mapped_column(String(12))
    tranche_id: Mapped[int | None] = mapped_column(ForeignKey("tranches.id"), index=True)

    statement: Mapped[BankStatement] = relationship(back_populates="lines")
    tranche: Mapped[Tranche | None] = relationship()
