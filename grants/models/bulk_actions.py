"""Bulk actions: one officer's action on many rows of a list, and what came of each row.

The run is kept so its result page can be read again (and linked) after the POST that
did the work, and so the history of a screening day stays readable; each item says
whether the action was done on it or refused, with the lifecycle's reasons.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.extensions import db
from grants.models.accounts import User
from grants.orm import utcnow

BULK_LISTS = ("screening", "assignments", "grants")
OUTCOMES = ("waiting", "done", "refused")
RUN_STATES = ("running", "finished")


class BulkRun(db.Model):
    __tablename__ = "bulk_runs"
    __table_args__ = (
        CheckConstraint("list_name IN ('screening', 'assignments', 'grants')", name="list_known"),
        CheckConstraint("done >= 0 AND refused >= 0", name="counts_positive"),
        CheckConstraint("state IN ('running', 'finished')", name="state_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(40))
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    #: The reason, comment or message typed once for every item.
    comment: Mapped[str] = mapped_column(Text, default="")
    #: What else the action was given (the evaluators assigned).
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: "running" while rows wait for the scheduler (a large selection), then "finished".
    state: Mapped[str] = mapped_column(String(10), default="running")
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[datetime | None]

    actor: Mapped[User | None] = relationship()
    items: Mapped[list[BulkItem]] = relationship(
        back_populates="run", order_by="BulkItem.position", lazy="raise_on_sql"
    )


class BulkItem(db.Model):
    __tablename__ = "bulk_items"
    __table_args__ = (
        CheckConstraint("outcome IN ('waiting', 'done', 'refused')", name="outcome_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("bulk_runs.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    entity_type: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int]
    #: The row's reference as the officer saw it (an application's, a grant's).
    reference: Mapped[str] = mapped_column(String(60), default="")
    #: "waiting" until the row is acted on, then "done" or "refused".
    outcome: Mapped[str] = mapped_column(String(10), default="waiting")
    #: Why it was refused, in the officer's language at the time.
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)

    run: Mapped[BulkRun] = relationship(back_populates="items")
