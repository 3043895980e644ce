"""People: users, their roles and their API tokens."""

from __future__ import annotations

import hashlib
from datetime import datetime

from flask import current_app
from flask_security import RoleMixin, UserMixin, WebAuthnMixin
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
)
from sqlalchemy.ext.mutable import MutableList
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.extensions import db
from grants.orm import utcnow
from grants.roles import ROLE_NAMES, ROLES  # noqa: F401  (re-exported)

LOCALES = ("en", "fr", "es", "ar")

user_roles = Table(
    "user_roles",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True),
)


class Role(db.Model, RoleMixin):
    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    permissions: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    update_datetime: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class User(db.Model, UserMixin):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str] = mapped_column(String(8), default="en")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    #: Languages the person reads (ISO 639-1); the evaluator assignment uses them.
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)

    # Columns Flask-Security reads and writes.
    password: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    fs_uniquifier: Mapped[str] = mapped_column(String(64), unique=True)
    confirmed_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    current_login_at: Mapped[datetime | None]
    last_login_ip: Mapped[str | None] = mapped_column(String(64))
    current_login_ip: Mapped[str | None] = mapped_column(String(64))
    login_count: Mapped[int | None] = mapped_column(Integer, default=0)
    tf_primary_method: Mapped[str | None] = mapped_column(String(64))
    tf_totp_secret: Mapped[str | None] = mapped_column(String(255))
    tf_phone_number: Mapped[str | None] = mapped_column(String(64))
    #: Mutable so that Flask-Security's in-place removal of a used code is saved.
    #: The time step of the last accepted TOTP code: the same code is never accepted twice.
    tf_totp_last_counter: Mapped[int | None]
    #: An authenticator secret set up through the API, not in use until a first code
    #: from it is given (the page keeps the one it sets up in the session instead).
    tf_totp_pending_secret: Mapped[str | None] = mapped_column(String(255))
    mf_recovery_codes: Mapped[list[str] | None] = mapped_column(MutableList.as_mutable(JSON))
    #: The person's handle for passkeys (WebAuthn), set when they add their first.
    fs_webauthn_user_handle: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: When an admin replaced this person's personal data by a pseudonym; they cannot
    #: sign in again, and nothing is sent to them any more.
    anonymised_at: Mapped[datetime | None]
    create_datetime: Mapped[datetime] = mapped_column(default=utcnow)
    update_datetime: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    #: Loaded on access: the person making a request gets both with one statement
    #: (``PERSON``), and lists of other people ask for them when they show them.
    roles: Mapped[list[Role]] = relationship(secondary=user_roles)
    memberships: Mapped[list[Membership]] = relationship(  # noqa: F821
        back_populates="user",
        cascade="all, delete-orphan",
        foreign_keys="Membership.user_id",
    )

    #: The person's passkeys; read on their passkey pages and when they sign in with one.
    webauthn: Mapped[list[Passkey]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Passkey.id"
    )

    @property
    def role_names(self) -> set[str]:
        return {role.name for role in self.roles}

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    def requires_two_factor(self) -> bool:
        """Roles that move money or manage people must use a second factor."""
        required = set(current_app.config["TWO_FACTOR_ROLES"])
        return bool(required & self.role_names)

    # Flask-Security asks the user whether two-factor is required after the password.
    def check_tf_required(self, tf_setup_methods, tf_fresh):  # type: ignore[override]
        required, methods = super().check_tf_required(tf_setup_methods, tf_fresh)
        if self.requires_two_factor() and not tf_fresh:
            return True, methods
        return required, methods

    def check_tf_required_setup(self) -> bool:  # type: ignore[override]
        return self.requires_two_factor() or super().check_tf_required_setup()


class Passkey(db.Model, WebAuthnMixin):
    """A passkey (a WebAuthn credential) of a person: to sign in without a password
    (``usage`` "first") or as their second factor ("secondary")."""

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1024), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(default=0)
    transports: Mapped[list[str] | None] = mapped_column(MutableList.as_mutable(JSON))
    backup_state: Mapped[bool]
    device_type: Mapped[str] = mapped_column(String(64))
    extensions: Mapped[str | None] = mapped_column(String(255))
    create_datetime: Mapped[datetime] = mapped_column(default=utcnow)
    lastuse_datetime: Mapped[datetime] = mapped_column(default=utcnow)
    #: The name the person gave it, unique among theirs.
    name: Mapped[str] = mapped_column(String(64))
    usage: Mapped[str] = mapped_column(String(64))

    user: Mapped[User] = relationship(back_populates="webauthn")


class StaffInvitation(db.Model):
    """An admin's invitation of a member of staff, with the roles they will have.

    The invited account exists from the invitation on (so the email goes through the
    outbox in the person's language), without a password and unconfirmed: nobody signs
    in to it until the emailed link (signed, expiring, used once) is accepted, or the
    person comes through the organisation's sign-on. Revoking removes the unused account."""

    __tablename__ = "staff_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), index=True)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])

    @property
    def state(self) -> str:
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= utcnow():
            return "expired"
        return "pending"


class ApiToken(db.Model):
    """A bearer token for the API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters of the token, so its owner can tell tokens apart in a list.
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    scopes: Mapped[str] = mapped_column(Text, default="")

    user: Mapped[User] = relationship()

    @staticmethod
    def digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def is_usable(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now and self.user.active
