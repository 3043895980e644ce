"""The staff search's index: one entry per application, association, award and person,
written in the same transaction as the change to its record (``services/search``).

An entry keeps what a result shows (``label``, ``detail``, ``body`` for the excerpt), the
folded text the search compares (``grants/text_search.fold``) and the facets the results
are filtered by. The database's own text index sits beside it, created by the migration:
on PostgreSQL a ``search_vector`` column (a ``tsvector`` of ``folded``, generated) with a
GIN index, and a trigram index on ``folded``; on SQLite an FTS5 table ``search_fts`` kept
by triggers. Neither is in these models: ``MIGRATION_ONLY`` names them for the check that
the models match the migrations.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from grants.extensions import db
from grants.orm import utcnow

#: What the search finds, in the order its results list them when they rank alike.
KINDS = ("application", "association", "award", "person")

#: Tables and columns the migration creates for the databases' text indexes.
MIGRATION_ONLY = {
    "table": ("search_fts",),
    "column": ("search_vector",),
    "index": ("ix_search_entries_vector", "ix_search_entries_trigram"),
}


class SearchEntry(db.Model):
    __tablename__ = "search_entries"
    __table_args__ = (
        UniqueConstraint("kind", "record_id", name="uq_search_entries_record"),
        Index("ix_search_entries_call", "call_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[int]
    label: Mapped[str] = mapped_column(String(400))
    detail: Mapped[str] = mapped_column(String(400), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    folded: Mapped[str] = mapped_column(Text)
    call_id: Mapped[int | None]
    state: Mapped[str | None] = mapped_column(String(30))
    country: Mapped[str | None] = mapped_column(String(2))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def migration_only(name: str, type_: str) -> bool:
    """Whether a table, column or index is part of the text indexes only the migration
    knows (an Alembic ``include_object`` hook excludes them from comparisons)."""
    if type_ == "table":
        return name.startswith(MIGRATION_ONLY["table"])
    return name in MIGRATION_ONLY.get(type_, ())
