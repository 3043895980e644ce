"""The audit trail: one append-only row per sensitive change or audited read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.extensions import db
from grants.models.accounts import User
from grants.orm import utcnow


class AuditRow(db.Model):
    """Who did what to which record, when, from where, with the fields before and
    after. Never updated nor deleted: the database refuses it by trigger, as it does
    for the history."""

    __tablename__ = "audit_rows"
    __table_args__ = (
        Index("ix_audit_rows_actor", "actor_id", "id"),
        Index("ix_audit_rows_kind", "kind", "id"),
        Index("ix_audit_rows_record", "record_type", "record_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    #: None for the system, the command line, or a login attempt nobody was found for.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: The address as typed at a login, or the actor's at the time.
    actor_email: Mapped[str] = mapped_column(String(320), default="")
    kind: Mapped[str] = mapped_column(String(40))
    record_type: Mapped[str | None] = mapped_column(String(30))
    record_id: Mapped[int | None]
    remote_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    #: {field: [before, after]}
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")

    actor: Mapped[User | None] = relationship()
