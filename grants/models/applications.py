"""Applications to a call, with their budget lines and co-financing."""

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
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.extensions import db
from grants.models.associations import Association
from grants.models.calls import Call, Money
from grants.orm import utcnow
from workflows.application import ApplicationLifecycle
from workflows.base import state_check

COFINANCING_SOURCES = ("association_cash", "in_kind", "local_authority", "other_donor")


class Application(db.Model):
    __tablename__ = "applications"
    __table_args__ = (
        CheckConstraint(state_check(ApplicationLifecycle), name="state_known"),
        CheckConstraint(
            "amount_requested IS NULL OR amount_requested >= 0",
            name="amount_requested_not_negative",
        ),
        CheckConstraint(
            "amount_awarded IS NULL OR amount_awarded >= 0", name="amount_awarded_not_negative"
        ),
        UniqueConstraint("call_id", "reference"),
        # A call's applications by state: lists count them from the index alone.
        Index("ix_applications_call_id_state", "call_id", "state"),
        # An association's applications, newest first: its home page and timeline.
        Index("ix_applications_association_id_created_at", "association_id", "created_at"),
    )

    lifecycle = ApplicationLifecycle

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"))
    association_id: Mapped[int] = mapped_column(ForeignKey("associations.id"))
    #: Human reference such as SN-EMP-2027-0007, unique per call; given at first save.
    reference: Mapped[str | None] = mapped_column(String(60))
    language: Mapped[str] = mapped_column(String(8), default="en")
    title: Mapped[str] = mapped_column(String(300), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    objectives: Mapped[str] = mapped_column(Text, default="")
    sector: Mapped[str | None] = mapped_column(String(40))
    country: Mapped[str | None] = mapped_column(String(2))
    locality: Mapped[str] = mapped_column(String(200), default="")
    start_date: Mapped[date | None]
    duration_months: Mapped[int | None]
    beneficiaries_count: Mapped[int | None]
    beneficiaries_women: Mapped[int | None]
    beneficiaries_men: Mapped[int | None]
    beneficiaries_description: Mapped[str] = mapped_column(Text, default="")
    #: JSONB on PostgreSQL: the programme dashboard unnests it on every application.
    sdg_targets: Mapped[list[str]] = mapped_column(
        JSON().with_variant(JSONB(), "postgresql"), default=list
    )
    #: Currency of the budget lines and co-financing (ISO 4217); may differ from the call's.
    budget_currency: Mapped[str] = mapped_column(String(3), default="USD")
    #: The grant asked for, in the call's currency.
    amount_requested: Mapped[Decimal | None] = mapped_column(Money)
    amount_awarded: Mapped[Decimal | None] = mapped_column(Money)
    #: Answers to the call's eligibility questions, by question key: "yes" or "no".
    eligibility_answers: Mapped[dict[str, str]] = mapped_column(
        JSON, default=dict, server_default="{}"
    )
    state: Mapped[str] = mapped_column(String(30), default="draft", index=True)
    version: Mapped[int] = mapped_column(default=1)
    #: The one-time key of the "Start an application" that made this draft: the same key
    #: sent again (a second tap, a reload of the answer) opens this draft, not a new one.
    start_key: Mapped[str | None] = mapped_column(String(32), unique=True, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    submitted_at: Mapped[datetime | None]
    #: The first decision (award, waiting list or rejection), for the time to decision.
    decided_at: Mapped[datetime | None]
    #: When the retention job deleted its documents and personal data (never awarded,
    #: its call closed more than ``RETENTION_YEARS_UNAWARDED`` years before).
    personal_data_deleted_at: Mapped[datetime | None]
    #: The version of the call's own questions this application answers.
    question_set_id: Mapped[int | None] = mapped_column(
        ForeignKey("question_sets.id", ondelete="SET NULL")
    )

    call: Mapped[Call] = relationship(lazy="joined", innerjoin=True)
    association: Mapped[Association] = relationship(lazy="joined", innerjoin=True)
    budget_lines: Mapped[list[BudgetLine]] = relationship(
        back_populates="application",
        cascade="all, delete-orphan",
        order_by="BudgetLine.position",
    )
    cofinancing: Mapped[list[CoFinancing]] = relationship(
        back_populates="application",
        cascade="all, delete-orphan",
    )
    documents: Mapped[list[Document]] = relationship(  # noqa: F821
        back_populates="application",
        primaryjoin="Application.id == Document.application_id",
    )
    reviews: Mapped[list[Review]] = relationship(  # noqa: F821
        back_populates="application"
    )
    partners: Mapped[list[Partner]] = relationship(
        back_populates="application",
        cascade="all, delete-orphan",
        order_by="Partner.position",
    )
    team: Mapped[list[TeamMember]] = relationship(
        back_populates="application",
        cascade="all, delete-orphan",
        order_by="TeamMember.position",
    )
    answers: Mapped[list[Answer]] = relationship(  # noqa: F821
        cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def budget_total(self) -> Decimal:
        return sum((line.total for line in self.budget_lines), Decimal("0"))

    @property
    def cofinancing_total(self) -> Decimal:
        return sum((item.amount for item in self.cofinancing), Decimal("0"))

    @property
    def cofinancing_share(self) -> Decimal:
        """Co-financing as a percentage of the project's total budget."""
        return cofinancing_share(self.cofinancing_total, self.budget_total)

    def missing_answers(self, cached=None) -> list[str]:
        """The call's own required questions still unanswered (the submission guard);
        ``cached`` shares the call's questions among the applications of one page."""
        from grants.services.questions import missing_answers

        return missing_answers(self, cached)

    @property
    def current_documents(self) -> list[Document]:  # noqa: F821
        return [document for document in self.documents if document.replaced_by_id is None]


def cofinancing_share(brought: Decimal, budget: Decimal) -> Decimal:
    """What co-financing brings as a percentage of the budget (0 without a budget); also
    for lists that sum both in the database rather than load every line."""
    if budget <= 0:
        return Decimal("0")
    return (brought * 100 / budget).quantize(Decimal("0.01"))


class BudgetLine(db.Model):
    __tablename__ = "budget_lines"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        CheckConstraint("unit_cost >= 0", name="unit_cost_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)
    category: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(String(500), default="")
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    unit_cost: Mapped[Decimal] = mapped_column(Money)

    application: Mapped[Application] = relationship(back_populates="budget_lines")

    @property
    def total(self) -> Decimal:
        return (self.quantity * self.unit_cost).quantize(Decimal("0.01"))


class CoFinancing(db.Model):
    """Money or in-kind value the association or others bring, per source."""

    __tablename__ = "cofinancing"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint(
            "source IN ('association_cash', 'in_kind', 'local_authority', 'other_donor')",
            name="source_known",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(String(300), default="")
    amount: Mapped[Decimal] = mapped_column(Money)

    application: Mapped[Application] = relationship(back_populates="cofinancing")


class Partner(db.Model):
    """A local partner of the project; its letter of commitment is a document of the
    application whose purpose names the partner's position (``partner-1``)."""

    __tablename__ = "partners"
    __table_args__ = (UniqueConstraint("application_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    role: Mapped[str] = mapped_column(String(500), default="")

    application: Mapped[Application] = relationship(back_populates="partners")

    @property
    def letter_purpose(self) -> str:
        return f"partner-{self.position}"


class TeamMember(db.Model):
    """Someone who carries out the project, with their role in it."""

    __tablename__ = "team_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(300), default="")

    application: Mapped[Application] = relationship(back_populates="team")
