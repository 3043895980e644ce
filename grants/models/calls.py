"""Calls for proposals.

Texts an officer writes (title, description) are kept per language, as a mapping from
language code to text, and shown in the reader's language with the call's main language
as the fallback.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.extensions import db
from grants.models.accounts import User
from grants.orm import utcnow

SECTORS = ("employment", "education", "health", "human_rights_social_security")
CALL_STATES = ("draft", "open", "closed", "archived", "cancelled")

Money = Numeric(14, 2)


class Call(db.Model):
    __tablename__ = "calls"
    __table_args__ = (
        CheckConstraint(
            "state IN ('draft', 'open', 'closed', 'archived', 'cancelled')", name="state_known"
        ),
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
    #: IANA time zone in which the deadline is announced and enforced.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    two_stage: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    created_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    def text(self, field: str, locale: str) -> str:
        """The field in ``locale``, else in the call's main language, else any."""
        values: dict[str, str] = getattr(self, field) or {}
        return values.get(locale) or values.get(self.language) or next(iter(values.values()), "")
