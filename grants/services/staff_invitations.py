"""Admins invite staff from the web: the invited account, with its roles, waits without a
password until the person follows the emailed link (signed, expiring after
``STAFF_INVITATION_DAYS``, used once) and chooses one, or signs on with the
organisation's account. Roles that need a second factor set it up at the first sign-in
(``User.check_tf_required_setup``)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_security import hash_password
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from grants.extensions import db, security
from grants.models.accounts import LOCALES, StaffInvitation, User
from grants.orm import utcnow
from grants.services import audit
from grants.services.accounts import check_may_manage_people, ensure_roles, find_user
from grants.services.errors import Conflict, InvalidInput, NotFound
from grants.services.single_sign_on import SIGN_ON_ROLES
from notifications import outbox
from notifications.rules import N_

#: The roles an invitation may give: the staff's and the evaluation committee's.
INVITABLE_ROLES = SIGN_ON_ROLES
SALT = "staff-invitation"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _lifetime() -> timedelta:
    return timedelta(days=current_app.config["STAFF_INVITATION_DAYS"])


def link_token(invitation: StaffInvitation) -> str:
    return _serializer().dumps({"invitation": invitation.id})


def invite(
    actor: User, email: str, roles: list[str], full_name: str = "", locale: str = "en"
) -> StaffInvitation:
    """Invite a member of staff: their account with ``roles``, and the email with the link
    in their language, written to the outbox in the same transaction."""
    check_may_manage_people(actor)
    try:
        email = security.mail_util.validate(email)
    except ValueError as exc:
        raise InvalidInput(str(exc), {"email": [str(exc)]}) from None
    chosen = [role for role in dict.fromkeys(roles) if role]
    unknown = [role for role in chosen if role not in INVITABLE_ROLES]
    if not chosen or unknown:
        message = _("Choose at least one of the staff roles.")
        raise InvalidInput(message, {"roles": [message]})
    if locale not in LOCALES:
        raise InvalidInput(_("Unknown language."), {"locale": [_("Unknown language.")]})
    if find_user(email) is not None:
        message = _(
            "%(email)s already has an account: grant the roles on that person's page.",
            email=email,
        )
        raise Conflict(message, {"email": [message]})
    known = ensure_roles()
    person = security.datastore.create_user(
        email=email,
        password=None,
        full_name=full_name.strip(),
        locale=locale,
        roles=[known[role] for role in chosen],
        confirmed_at=None,
    )
    now = utcnow()
    invitation = StaffInvitation(
        email=email,
        roles=chosen,
        user=person,
        invited_by_id=actor.id,
        created_at=now,
        expires_at=now + _lifetime(),
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(
        actor,
        "invitation.sent",
        ("user", person.id),
        {"roles": [[], sorted(chosen)], "email": [None, email]},
    )
    _send(invitation, actor)
    return invitation


def _send(invitation: StaffInvitation, actor: User) -> None:
    link = url_for("invitations.accept", token=link_token(invitation))
    message = outbox.Message(
        rule="staff_invitation",
        category="account",
        subject=N_("%(name)s invites you to Diaspora Grants"),
        body=N_(
            "%(name)s invites you to work on Diaspora Grants as %(roles)s. Follow the "
            "link below within %(days)s days to choose your password; it works once."
        ),
        entity_type="staff_invitation",
        entity_id=invitation.id,
        link=link,
        values={
            "name": actor.display_name,
            "roles": lambda locale: ", ".join(
                outbox.translate(ROLE_WORDS[role], locale) for role in invitation.roles
            ),
            "days": str(current_app.config["STAFF_INVITATION_DAYS"]),
        },
    )
    outbox.write([(message, [invitation.user], f"staff_invitation:{invitation.id}")])


#: The roles as the invitation email names them (translated per recipient).
ROLE_WORDS = {
    "admin": N_("administrator"),
    "programme_officer": N_("programme officer"),
    "finance_officer": N_("finance officer"),
    "evaluator": N_("evaluator"),
}


def pending(page: int = 1, per_page: int = 25):
    """The invitations not yet accepted nor revoked, newest first (expired ones too, so
    an admin sees them and revokes or invites again)."""
    statement = (
        select(StaffInvitation)
        .options(joinedload(StaffInvitation.invited_by))
        .where(StaffInvitation.accepted_at.is_(None), StaffInvitation.revoked_at.is_(None))
        .order_by(StaffInvitation.created_at.desc(), StaffInvitation.id.desc())
    )
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


def revoke(actor: User, invitation_id: int) -> StaffInvitation:
    """Withdraw an invitation: its link stops working and the unused account goes."""
    check_may_manage_people(actor)
    invitation = db.session.get(StaffInvitation, invitation_id)
    if invitation is None:
        raise NotFound(_("No such invitation."))
    if invitation.accepted_at is not None:
        raise Conflict(
            _("This invitation was accepted: deactivate the account on the person's page.")
        )
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        invitation.revoked_by_id = actor.id
        audit.record(
            actor,
            "invitation.revoked",
            ("user", invitation.user_id),
            {"roles": [sorted(invitation.roles), []]},
            note=invitation.email,
        )
        if invitation.user is not None:
            db.session.delete(invitation.user)
            invitation.user_id = None
        db.session.flush()
    return invitation


def open_invitation(token: str) -> StaffInvitation:
    """The invitation behind a link, while it can still be accepted; otherwise
    ``Conflict`` (or ``NotFound``) saying why."""
    try:
        data = _serializer().loads(token, max_age=int(_lifetime().total_seconds()))
    except SignatureExpired:
        raise Conflict(
            _("This invitation has expired: ask an administrator to invite you again.")
        ) from None
    except BadSignature:
        raise NotFound(_("This invitation link is not valid.")) from None
    invitation = db.session.get(StaffInvitation, data.get("invitation"))
    if invitation is None:
        raise NotFound(_("This invitation link is not valid."))
    problem = {
        "accepted": _("This invitation has already been used: log in with your password."),
        "revoked": _("This invitation was withdrawn by an administrator."),
        "expired": _("This invitation has expired: ask an administrator to invite you again."),
    }.get(invitation.state)
    if problem:
        raise Conflict(problem)
    return invitation


def accept(token: str, password: str, full_name: str = "") -> User:
    """Accept with a password: the account is confirmed and can sign in; the link is
    spent. A weak password is refused with the reasons and nothing changes."""
    invitation = open_invitation(token)
    person = invitation.user
    problems = security.password_util.validate(password, is_register=True, email=person.email)[0]
    if problems:
        raise InvalidInput(" ".join(map(str, problems)), {"password": [str(p) for p in problems]})
    person.password = hash_password(password)
    if full_name.strip():
        person.full_name = full_name.strip()
    _accepted(invitation, "password")
    return person


def accept_by_sign_on(person: User) -> bool:
    """The invited person came through the organisation's sign-on: that accepts their
    invitation, when it can still be accepted (``False`` otherwise)."""
    invitation = db.session.scalar(
        select(StaffInvitation).where(
            StaffInvitation.user_id == person.id,
            StaffInvitation.accepted_at.is_(None),
            StaffInvitation.revoked_at.is_(None),
        )
    )
    if invitation is None or invitation.state != "pending":
        return False
    _accepted(invitation, "single sign-on")
    return True


def _accepted(invitation: StaffInvitation, how: str) -> None:
    now = utcnow()
    audit.record(invitation.user, "invitation.accepted", ("user", invitation.user_id), note=how)
    invitation.accepted_at = now
    invitation.user.confirmed_at = invitation.user.confirmed_at or now
    db.session.flush()
