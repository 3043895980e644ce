"""The history of every lifecycle: one append-only row per transition fired."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from grants.extensions import db
from grants.models.accounts import User
from grants.orm import utcnow


class HistoryEntry(db.Model):
    """Never updated nor deleted: no code path does, and PostgreSQL refuses it by trigger."""

    __tablename__ = "history"
    __table_args__ = (Index("ix_history_entity", "entity_type", "entity_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int]
    transition: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str] = mapped_column(String(30))
    to_state: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: "system" for timed transitions; otherwise the actor's name at the time.
    actor_label: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    actor: Mapped[User | None] = relationship()
    #: The actor's pseudonym once they were anonymised, read in the same statement.
    actor_pseudonym: Mapped[str | None] = column_property(
        select(User.full_name)
        .where(User.id == actor_id, User.anonymised_at.isnot(None))
        .correlate_except(User)
        .scalar_subquery()
    )

    @property
    def shown_actor(self) -> str:
        """Who fired it, as pages and the API show it: the row keeps the name written at
        the time (it is never updated), but an anonymised actor is shown by pseudonym."""
        return self.actor_pseudonym or self.actor_label
