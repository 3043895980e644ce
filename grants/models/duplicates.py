"""What the duplicate check compares of each application, and the officers' verdicts.

A profile keeps an application's compared texts folded (``grants/text_search.fold``), so
that a lookup reads one narrow row per candidate rather than the application with its
partners. ``key`` (the locality, or the title when the application names none) carries a
trigram index on PostgreSQL (``pg_trgm``, GIN): the candidates of a lookup come from an
index search, whatever the number of applications. A key of whole titles was measured
first: titles of one programme share most of their words ("Formation des jeunes … à"),
so thousands of rows passed the trigram threshold and a lookup read them all.

Profiles are written in the same transaction as the change to their application
(``services/duplicates``); drafts have none, as their texts are still being written.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from grants.extensions import db
from grants.orm import utcnow

VERDICTS = ("duplicate", "not_duplicate")


class DuplicateProfile(db.Model):
    __tablename__ = "duplicate_profiles"
    __table_args__ = (
        Index(
            "ix_duplicate_profiles_key",
            "key",
            postgresql_using="gin",
            postgresql_ops={"key": "gin_trgm_ops"},
        ),
        Index("ix_duplicate_profiles_place", "country", "locality"),
        # An association's other projects, newest first, from the index alone.
        Index("ix_duplicate_profiles_association_id", "association_id", "application_id"),
    )

    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    call_id: Mapped[int]
    association_id: Mapped[int]
    state: Mapped[str] = mapped_column(String(30))
    country: Mapped[str | None] = mapped_column(String(2))
    locality: Mapped[str] = mapped_column(String(200), default="")
    title: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    partners: Mapped[str] = mapped_column(Text, default="")
    key: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class DuplicateVerdict(db.Model):
    """An officer's last word on a pair of applications, the pair kept in id order so
    that it is one row whichever of the two it was recorded from. Every verdict is also
    a row in both applications' history."""

    __tablename__ = "duplicate_verdicts"
    __table_args__ = (
        UniqueConstraint("first_id", "second_id"),
        CheckConstraint("first_id < second_id", name="pair_ordered"),
        CheckConstraint("verdict IN ('duplicate', 'not_duplicate')", name="verdict_known"),
        Index("ix_duplicate_verdicts_second_id", "second_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    second_id: Mapped[int] = mapped_column(ForeignKey("applications.id", ondelete="CASCADE"))
    verdict: Mapped[str] = mapped_column(String(20))
    similarity: Mapped[int]
    comment: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
