"""Diaspora associations, their members and the invitations that bring members in."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from grants.extensions import db
from grants.models.accounts import User
from grants.orm import utcnow
from workflows.association import REQUIRED_DOCUMENTS, AssociationLifecycle
from workflows.base import state_check

#: Verification states; the association machine (workflows/association.py) moves them.
VERIFICATION_STATES = AssociationLifecycle.state_values()


class Association(db.Model):
    __tablename__ = "associations"
    __table_args__ = (CheckConstraint(state_check(AssociationLifecycle), name="state_known"),)

    lifecycle = AssociationLifecycle

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    registration_number: Mapped[str] = mapped_column(String(100))
    #: ISO 3166-1 alpha-2 code of the country where the association is registered.
    registration_country: Mapped[str] = mapped_column(String(2))
    residence_country: Mapped[str] = mapped_column(String(2))
    #: Countries of origin where the association funds projects.
    countries_of_work: Mapped[list[str]] = mapped_column(JSON, default=list)
    founded_on: Mapped[date | None]
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(255), default="")
    contact_phone: Mapped[str] = mapped_column(String(50), default="")
    website: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    #: ISO 639-1 codes of the languages the association works in.
    working_languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="association", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def association_id(self) -> int:
        """Object rules ask every record for its association; this is its own."""
        return self.id

    def overdue_reports(self, today: date) -> int:
        """Reports of this association's running grants that were due before ``today``
        and are not handed in: a call may refuse applications until they are."""
        from sqlalchemy import func

        from grants.models.awards import Award, Report

        return object_session(self).scalar(
            select(func.count(Report.id))
            .join(Award, Award.id == Report.award_id)
            .where(
                Award.association_id == self.id,
                Award.state.in_(("active", "suspended")),
                Report.state.in_(("scheduled", "changes_requested")),
                Report.due_date < today,
            )
        )

    def verification_purposes(self) -> dict[int, set[str]]:
        """The purposes (statutes, registration certificate…) of the current documents of
        this association and of every other pending one the session holds, by association:
        a page of associations asks once, not once per row."""
        from grants.models.documents import Document

        session = object_session(self)
        ids = {self.id} | {
            held.id
            for held in session.identity_map.values()
            if isinstance(held, Association) and held.state == "pending"
        }
        found: dict[int, set[str]] = {association_id: set() for association_id in ids}
        rows = session.execute(
            select(Document.association_id, Document.purpose).where(
                Document.association_id.in_(ids),
                Document.purpose.in_(REQUIRED_DOCUMENTS),
                Document.replaced_by_id.is_(None),
            )
        )
        for association_id, purpose in rows:
            found[association_id].add(purpose)
        return found


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "association_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    association_id: Mapped[int] = mapped_column(
        ForeignKey("associations.id", ondelete="CASCADE"), index=True
    )
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])
    association: Mapped[Association] = relationship(back_populates="memberships", lazy="joined")


class Invitation(db.Model):
    """An emailed invitation to join an association; only the token's hash is kept."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    association_id: Mapped[int] = mapped_column(
        ForeignKey("associations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(255), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    association: Mapped[Association] = relationship(lazy="joined")
    invited_by: Mapped[User] = relationship(foreign_keys=[invited_by_id])
