"""Copies of a person's data they asked for ("download my data")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from grants.extensions import db
from grants.orm import utcnow

EXPORT_STATES = ("preparing", "ready", "failed", "expired")
_PREPARING_SQL = text("state = 'preparing'")


class DataExport(db.Model):
    """One ZIP of a person's data, kept in the document store until it expires.

    At most one is being prepared per person at a time: a partial unique index refuses
    a second, so two requests at once cannot both start one."""

    __tablename__ = "data_exports"
    __table_args__ = (
        CheckConstraint("state IN ('preparing', 'ready', 'failed', 'expired')", name="state_known"),
        Index(
            "ix_data_exports_one_preparing",
            "user_id",
            unique=True,
            postgresql_where=_PREPARING_SQL,
            sqlite_where=_PREPARING_SQL,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(10), default="preparing")
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    ready_at: Mapped[datetime | None]
    #: After this the link answers that it expired, and the ZIP is deleted from the store.
    expires_at: Mapped[datetime | None]
    storage_key: Mapped[str | None] = mapped_column(String(300))
    size: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str] = mapped_column(Text, default="")
