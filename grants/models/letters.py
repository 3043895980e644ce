"""Award letters as issued: the signed PDF kept once, so the same bytes are served every
time and a copy anyone holds can be checked against the record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from grants.extensions import db
from grants.orm import utcnow


class IssuedLetter(db.Model):
    """One award letter in one language, signed with the programme's certificate.

    Append-only: a letter once issued never changes (its SHA-256 is what acceptance and
    the public check refer to); the award's data fixed at the offer is what it states."""

    __tablename__ = "issued_letters"
    __table_args__ = (UniqueConstraint("award_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    award_id: Mapped[int] = mapped_column(ForeignKey("awards.id", ondelete="CASCADE"), index=True)
    locale: Mapped[str] = mapped_column(String(5))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    storage_key: Mapped[str] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(BigInteger)
    #: SHA-256 of the signing certificate (DER), as PDF viewers show it.
    certificate_sha256: Mapped[str] = mapped_column(String(64), index=True)
    certificate_holder: Mapped[str] = mapped_column(String(300))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
