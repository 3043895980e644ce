"""Accounts: creating people, their roles, deactivation and API tokens."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from functools import cache

from flask_babel import gettext as _
from flask_security import hash_password
from sqlalchemy import Select, bindparam, func, or_, select, text, update
from sqlalchemy.orm import joinedload, selectinload

from grants.extensions import db, security
from grants.models.accounts import ApiToken, Role, User
from grants.orm import utcnow
from grants.roles import ADMIN, ROLE_NAMES, ROLES
from grants.services import audit
from grants.services.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound

TOKEN_PREFIX = "dg_"


def ensure_roles() -> dict[str, Role]:
    """Create the five roles if missing; returns them by name."""
    existing = {role.name: role for role in db.session.scalars(select(Role))}
    for name, description in ROLES.items():
        if name not in existing:
            existing[name] = Role(name=name, description=description, permissions=[])
            db.session.add(existing[name])
    db.session.flush()
    return existing


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def create_user(
    email: str,
    password: str,
    roles: list[str],
    full_name: str = "",
    locale: str = "en",
    confirmed: bool = True,
    languages: list[str] | None = None,
    actor: User | None = None,
    note: str = "",
) -> User:
    """Create a user directly (CLI, demo, admin); sign-up goes through Flask-Security.
    ``actor`` is who creates them (None: the command line or the demo, said in ``note``)."""
    unknown = [role for role in roles if role not in ROLE_NAMES]
    if unknown:
        raise InvalidInput(
            f"Unknown role: {', '.join(unknown)}. Roles are {', '.join(ROLE_NAMES)}.",
            {"role": [f"Unknown role: {', '.join(unknown)}"]},
        )
    try:
        email = security.mail_util.validate(email)
    except ValueError as exc:
        raise InvalidInput(f"Invalid email address: {exc}", {"email": [str(exc)]}) from None
    if find_user(email):
        raise Conflict(f"A user with the email {email} already exists.", {"email": ["taken"]})
    problems = security.password_util.validate(password, is_register=True, email=email)[0]
    if problems:
        raise InvalidInput(
            "The password is too weak: " + " ".join(map(str, problems)),
            {"password": [str(p) for p in problems]},
        )
    role_objects = ensure_roles()
    user = security.datastore.create_user(
        email=email,
        password=hash_password(password),
        full_name=full_name,
        locale=locale,
        languages=languages or [],
        roles=[role_objects[name] for name in roles],
        confirmed_at=utcnow() if confirmed else None,
    )
    db.session.flush()
    audit.record(actor, "account.created", ("user", user.id), {"roles": [[], sorted(roles)]}, note)
    return user


def check_may_manage_people(actor: User) -> None:
    """Admins manage people and their roles; the pages check it with ``role_required``."""
    if ADMIN not in actor.role_names:
        raise Forbidden("Only an admin manages people and their roles.")


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def search_users(query: str = "", role: str = "", page: int = 1, per_page: int = 25):
    statement = (
        select(User)
        .options(selectinload(User.roles), selectinload(User.memberships))
        .order_by(User.email, User.id)
    )
    if query:
        like = f"%{query.strip().lower()}%"
        statement = statement.where(
            or_(func.lower(User.email).like(like), func.lower(User.full_name).like(like))
        )
    if role:
        statement = statement.where(User.roles.any(Role.name == role))
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


def _admins_left_without(user: User) -> int:
    return db.session.scalar(
        select(func.count(User.id)).where(
            User.active.is_(True), User.id != user.id, User.roles.any(Role.name == ADMIN)
        )
    )


def _role_change(actor: User | None, user: User, kind: str, before: set[str], note: str) -> None:
    audit.record(
        actor,
        kind,
        ("user", user.id),
        {"roles": [sorted(before), sorted(user.role_names)]},
        note,
    )


def grant_role(actor: User | None, user: User, role: str, note: str = "") -> None:
    """Give ``user`` a role, as ``actor`` (None: the command line, said in ``note``)."""
    if role not in ROLE_NAMES:
        raise InvalidInput(f"Unknown role: {role}.", {"role": ["unknown"]})
    if role in user.role_names:
        raise Conflict(f"{user.email} already has the role {role}.")
    before = user.role_names
    user.roles.append(ensure_roles()[role])
    db.session.flush()
    _role_change(actor, user, "role.granted", before, note)


def removal_problem(actor: User, user: User, role: str) -> str | None:
    """Why ``actor`` may not take ``role`` from ``user``, if they may not: an admin does
    not remove their own admin role (another admin does, who sees the consequences), and
    the last active admin keeps theirs."""
    if role == ADMIN and user.id == actor.id:
        return _("You cannot remove your own admin role: ask another admin to do it.")
    if role == ADMIN and _admins_left_without(user) == 0:
        return _("This is the last active admin; grant admin to someone else first.")
    return None


def deactivation_problem(actor: User, user: User) -> str | None:
    """Why ``actor`` may not deactivate ``user``, if they may not."""
    if user.id == actor.id:
        return _("You cannot deactivate your own account: ask another admin to do it.")
    if ADMIN in user.role_names and _admins_left_without(user) == 0:
        return _("This is the last active admin; grant admin to someone else first.")
    return None


def remove_role(actor: User, user: User, role: str, note: str = "") -> None:
    if role not in user.role_names:
        raise Conflict(f"{user.email} does not have the role {role}.")
    problem = removal_problem(actor, user, role)
    if problem:
        raise Conflict(problem)
    before = user.role_names
    user.roles = [r for r in user.roles if r.name != role]
    db.session.flush()
    _role_change(actor, user, "role.removed", before, note)


def set_active(actor: User, user: User, active: bool, note: str = "") -> None:
    if active and user.anonymised_at is not None:
        raise Conflict(_("An anonymised account cannot be reactivated."))
    problem = None if active else deactivation_problem(actor, user)
    if problem:
        raise Conflict(problem)
    before = user.active
    user.active = active
    if not active:
        # Ends existing sessions: Flask-Security checks fs_uniquifier on every request.
        security.datastore.set_uniquifier(user)
        for token in user_tokens(user):
            if token.revoked_at is None:
                token.revoked_at = utcnow()
    db.session.flush()
    if before != active:
        audit.record(
            actor,
            "account.activated" if active else "account.deactivated",
            ("user", user.id),
            {"active": [before, active]},
            note,
        )


def issue_token(
    actor: User | None, user: User, name: str = "cli", days: int = 90, note: str = ""
) -> str:
    """Create an API token for ``user`` and return it; only its hash is stored, so show
    it once. ``actor`` is who asks for it (None: the command line, said in ``note``)."""
    if not 1 <= days <= 365:
        raise InvalidInput("A token is valid for 1 to 365 days.", {"days": ["1 to 365"]})
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        name=name.strip()[:100] or "token",
        token_hash=ApiToken.digest(token),
        prefix=token[:10],
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        actor,
        "token.created",
        ("token", row.id),
        {"name": [None, row.name], "owner": [None, user.email], "days": [None, days]},
        note,
    )
    return token


class SecondFactorRefused(DomainError):
    """The second factor is missing or wrong: the credentials are not accepted (401)."""

    status = 401


#: The method Flask-Security records for an authenticator app.
AUTHENTICATOR = "authenticator"


def start_two_factor(user: User) -> str:
    """A new authenticator secret for a person with no second factor yet, kept pending:
    it is used only once a code from it is given (``pass_second_factor``), as the
    page's setup asks for a code before it keeps the secret."""
    if user.tf_primary_method:
        raise Conflict(
            "A second factor is already set up: give its code. To replace it, use the "
            "two-factor page of your account."
        )
    user.tf_totp_pending_secret = security.totp_factory.generate_totp_secret()
    db.session.flush()
    return user.tf_totp_pending_secret


def pass_second_factor(user: User, code: str | None, wrong: str) -> None:
    """The second factor of an API token's request: the code of the person's
    authenticator when they have one or their role requires one. A right code for a
    pending secret (``start_two_factor``) makes it their authenticator; a wrong one
    changes nothing."""
    code = (code or "").strip()
    activating = False
    if user.tf_primary_method:
        secret = user.tf_totp_secret
    elif user.tf_totp_pending_secret and code:
        secret, activating = user.tf_totp_pending_secret, True
    elif user.requires_two_factor():
        raise SecondFactorRefused(
            "Your role needs a second factor: set up an authenticator app with "
            "POST /api/v1/tokens/two-factor, then give its code as code."
        )
    else:
        return
    if not secret or not code:
        raise SecondFactorRefused("Give the two-factor code of your authenticator app as code.")
    if not security.totp_factory.verify_totp(token=code, totp_secret=secret, user=user, window=1):
        raise SecondFactorRefused(wrong)
    if activating:
        security.datastore.tf_set(user, AUTHENTICATOR, totp_secret=secret)
        user.tf_totp_pending_secret = None
        db.session.flush()
        audit.record(
            user, "second_factor.changed", ("user", user.id), {"method": [None, AUTHENTICATOR]}
        )


def user_tokens(user: User) -> list[ApiToken]:
    return list(
        db.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())
        )
    )


def revoke_token(user: User, token_id: int) -> None:
    """Revoke one of ``user``'s own tokens."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("No such token.")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
        audit.record(
            user, "token.revoked", ("token", token.id), {"revoked_at": [None, token.revoked_at]}
        )


#: How often a token's use is recorded: reading through the API writes nothing more often.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def usable_token(token: str, now: datetime | None = None) -> ApiToken | None:
    """The token row behind a bearer secret, or None when unknown, expired or revoked.

    Reads only: the use is recorded by ``record_token_use``, after the request."""
    digest = ApiToken.digest(token)
    row = db.session.scalars(_token_by_digest(), {"digest": digest}).unique().first()
    if row is None or not row.is_usable(now or utcnow()):
        return None
    return row


@cache
def _token_by_digest() -> Select:
    """The token with its person, roles and memberships, built once with the digest bound
    on each use: every API request runs it."""
    person = joinedload(ApiToken.user)
    return (
        select(ApiToken)
        .options(person.joinedload(User.roles), person.joinedload(User.memberships))
        .where(ApiToken.token_hash == bindparam("digest"))
    )


def user_for_token(token: str, now: datetime | None = None) -> User | None:
    """The user a bearer token belongs to, or None when unknown, expired or revoked."""
    row = usable_token(token, now)
    return row.user if row is not None else None


def token_use_due(token: ApiToken, now: datetime) -> bool:
    return token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RESOLUTION


def record_token_use(token_id: int, now: datetime) -> None:
    """Record a token's use in a short transaction of its own, after the request's.

    Clients sharing a token never queue behind each other: the row is updated at most
    once a minute, and on PostgreSQL a row another request holds is skipped rather
    than waited for (the next use records it)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL lock_timeout = '200ms'"))
    db.session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(
                ApiToken.last_used_at.is_(None),
                ApiToken.last_used_at <= now - TOKEN_USE_RESOLUTION,
            ),
        )
        .values(last_used_at=now)
    )
    db.session.commit()


#: What a person changes of themselves on their profile page.
PROFILE_FIELDS = ("full_name", "locale", "timezone", "languages")


def update_profile(person: User, data: dict) -> None:
    """The person's own name, interface language, time zone and the languages they read
    (which the assignment of reviews follows); checked by the profile form first."""
    for name in PROFILE_FIELDS:
        if name in data:
            setattr(person, name, data[name])
    db.session.flush()
