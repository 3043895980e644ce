"""Calls for proposals, with their rubric and the documents they require.

Texts an officer writes (titles, descriptions, criterion names) are kept per language,
as a mapping from language code to text, and shown in the reader's language with the
call's main language as the fallback.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Numeric,
    String,
    false,
    func,
    select,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from grants.extensions import db
from grants.models.accounts import User
from grants.orm import utcnow
from workflows.base import state_check
from workflows.call import CallLifecycle

SECTORS = ("employment", "education", "health", "human_rights_social_security")
CALL_STATES = CallLifecycle.state_values()

Money = Numeric(14, 2)


class Translated:
    """Models whose texts are kept per language, with ``language`` as the fallback."""

    def text(self, field: str, locale: str) -> str:
        """The field in ``locale``, else in the main language, else in any language."""
        values: dict[str, str] = getattr(self, field) or {}
        return values.get(locale) or values.get(self.language) or next(iter(values.values()), "")


def new_ranking_stamp() -> str:
    return uuid.uuid4().hex


class Call(Translated, db.Model):
    __tablename__ = "calls"
    __table_args__ = (
        CheckConstraint(state_check(CallLifecycle), name="state_known"),
        CheckConstraint(
            "sector IN ('employment', 'education', 'health', 'human_rights_social_security')",
            name="sector_known",
        ),
        CheckConstraint("envelope >= 0", name="envelope_not_negative"),
        CheckConstraint("min_grant >= 0 AND max_grant >= 0", name="grants_not_negative"),
        CheckConstraint(
            "min_cofinancing_share >= 0 AND min_cofinancing_share <= 100",
            name="cofinancing_share_percent",
        ),
    )

    lifecycle = CallLifecycle

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short code used in application references, e.g. SN-EMP-2027.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    language: Mapped[str] = mapped_column(String(8), default="en")
    title: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    description: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    sector: Mapped[str] = mapped_column(String(40))
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    sdg_targets: Mapped[list[str]] = mapped_column(JSON, default=list)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    envelope: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    min_grant: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    max_grant: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    #: Minimum co-financing the association brings, in percent of the project total.
    min_cofinancing_share: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    #: Deadline of full proposals in a two-stage call (none: no second deadline).
    proposal_closes_at: Mapped[datetime | None]
    #: IANA time zone in which the deadline is announced.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    two_stage: Mapped[bool] = mapped_column(default=False)
    #: Indicators grantees report on: [{"name": {lang: text}, "unit": str, "by_sex": bool}].
    indicators: Mapped[list[dict]] = mapped_column(JSON, default=list, server_default="[]")
    #: Tranches of every award: [{"percentage": "40", "after_report": null|"interim"|"final"}].
    tranche_schedule: Mapped[list[dict]] = mapped_column(JSON, default=list, server_default="[]")
    #: Reports of every award: [{"kind": "interim"|"final", "months": int}] after the start.
    report_schedule: Mapped[list[dict]] = mapped_column(JSON, default=list, server_default="[]")
    #: Evaluation settings: evaluators per application, the most reviews one evaluator
    #: takes in this call, blind review, hiding others' scores until one's own is in, the
    #: spread of totals that flags a disagreement, and when reviews are due.
    evaluators_per_application: Mapped[int] = mapped_column(default=3, server_default="3")
    max_reviews_per_evaluator: Mapped[int | None]
    blind_review: Mapped[bool] = mapped_column(default=False, server_default=false())
    hide_other_scores: Mapped[bool] = mapped_column(default=True, server_default=true())
    disagreement_threshold: Mapped[Decimal] = mapped_column(
        Numeric(5, 2), default=Decimal("25"), server_default="25"
    )
    review_deadline: Mapped[datetime | None]
    require_verified_association: Mapped[bool] = mapped_column(default=True, server_default=true())
    #: Eligibility (``workflows/eligibility.py``): countries where the association must be
    #: registered (none: any), whether an overdue report on an earlier grant excludes it,
    #: and yes/no questions: [{"key": str, "text": {lang: text}, "excludes": "yes"|"no"}].
    registration_countries: Mapped[list[str]] = mapped_column(
        JSON, default=list, server_default="[]"
    )
    no_overdue_reports: Mapped[bool] = mapped_column(default=True, server_default=true())
    eligibility_questions: Mapped[list[dict]] = mapped_column(
        JSON, default=list, server_default="[]"
    )
    state: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    version: Mapped[int] = mapped_column(default=1)
    #: Changes whenever the call's ranking can change (see ``services/ranking.py``).
    ranking_stamp: Mapped[str] = mapped_column(String(32), default=new_ranking_stamp)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    created_by: Mapped[User | None] = relationship()
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="call",
        cascade="all, delete-orphan",
        order_by="Criterion.position",
    )
    document_types: Mapped[list[DocumentType]] = relationship(
        back_populates="call",
        cascade="all, delete-orphan",
        order_by="DocumentType.position",
    )

    __mapper_args__ = {"version_id_col": version}

    def awarded_total(self) -> Decimal:
        """What the call has awarded so far, in its currency."""
        from grants.models.applications import Application

        total = object_session(self).scalar(
            select(func.coalesce(func.sum(Application.amount_awarded), 0)).where(
                Application.call_id == self.id, Application.state == "awarded"
            )
        )
        return Decimal(total)


class Criterion(Translated, db.Model):
    """One line of the rubric: a weight (percent) and a scale."""

    __tablename__ = "criteria"
    __table_args__ = (
        CheckConstraint("weight > 0 AND weight <= 100", name="weight_percent"),
        CheckConstraint("scale_min < scale_max", name="scale_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    description: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    weight: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    scale_min: Mapped[int] = mapped_column(default=0)
    scale_max: Mapped[int] = mapped_column(default=5)
    #: Keys of the call's own questions this criterion scores, shown beside it.
    question_keys: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")

    call: Mapped[Call] = relationship(back_populates="criteria")

    @property
    def language(self) -> str:  # type: ignore[override]
        return self.call.language


class DocumentType(Translated, db.Model):
    """A document the call asks for: its name, help, allowed file types and size."""

    __tablename__ = "document_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    help: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    required: Mapped[bool] = mapped_column(default=True)
    #: Kinds of file accepted, checked from the content: pdf, docx, xlsx, odt, ods, jpeg, png.
    allowed_kinds: Mapped[list[str]] = mapped_column(
        JSON, default=lambda: ["pdf", "docx", "xlsx", "odt", "ods", "jpeg", "png"]
    )
    max_size_mb: Mapped[int] = mapped_column(default=10)
    #: Hidden from evaluators in blind review (it names the association).
    identifying: Mapped[bool] = mapped_column(default=False)

    call: Mapped[Call] = relationship(back_populates="document_types")

    @property
    def language(self) -> str:  # type: ignore[override]
        return self.call.language
