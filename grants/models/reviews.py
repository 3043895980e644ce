"""Reviews: one per evaluator and application, with a score per criterion."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.extensions import db
from grants.models.accounts import User
from grants.models.applications import Application
from grants.orm import utcnow
from workflows.base import state_check
from workflows.review import ReviewLifecycle

RECOMMENDATIONS = ("fund", "fund_with_conditions", "do_not_fund")


class Review(db.Model):
    __tablename__ = "reviews"
    __table_args__ = (
        CheckConstraint(state_check(ReviewLifecycle), name="state_known"),
        CheckConstraint(
            "recommendation IS NULL OR recommendation IN "
            "('fund', 'fund_with_conditions', 'do_not_fund')",
            name="recommendation_known",
        ),
        UniqueConstraint("application_id", "evaluator_id"),
    )

    lifecycle = ReviewLifecycle

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the evaluator attested having no conflict of interest.
    no_conflict_attested_at: Mapped[datetime | None]
    conflict_declared_at: Mapped[datetime | None]
    recommendation: Mapped[str | None] = mapped_column(String(30))
    overall_comment: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime | None]
    #: When the review is due: set when the application's review starts (or when an
    #: evaluator joins it later): the call's review deadline, or ``REVIEW_DAYS_ALLOWED``
    #: days on when the call sets none.
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    state: Mapped[str] = mapped_column(String(20), default="assigned", index=True)
    version: Mapped[int] = mapped_column(default=1)

    application: Mapped[Application] = relationship(back_populates="reviews")
    evaluator: Mapped[User] = relationship(foreign_keys=[evaluator_id])
    scores: Mapped[list[Score]] = relationship(
        back_populates="review", cascade="all, delete-orphan", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version}

    def overdue(self, now: datetime | None = None) -> bool:
        """Due and still not submitted."""
        return (
            self.state == "assigned" and self.due_at is not None and self.due_at < (now or utcnow())
        )


class Score(db.Model):
    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("review_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criteria.id", ondelete="CASCADE"))
    score: Mapped[int | None]
    comment: Mapped[str] = mapped_column(Text, default="")

    review: Mapped[Review] = relationship(back_populates="scores")


class ConflictDeclaration(db.Model):
    """An evaluator's conflict of interest with an association: it applies to every
    application of that association in the programme, not only the one that revealed it."""

    __tablename__ = "conflict_declarations"
    __table_args__ = (UniqueConstraint("evaluator_id", "association_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    association_id: Mapped[int] = mapped_column(
        ForeignKey("associations.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(Text)
    declared_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The review on which it was declared.
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id", ondelete="SET NULL"))

    evaluator: Mapped[User] = relationship()


class Decision(db.Model):
    """The committee's meeting for a call: when, who was present, the minutes."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    meeting_date: Mapped[date]
    present: Mapped[str] = mapped_column(Text, default="")
    minutes: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
