"""Associations: creating one, its members, and invitations by email."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from flask import render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from grants import policy
from grants import text_limits as limits
from grants.extensions import db
from grants.models.accounts import ApiToken, User
from grants.models.associations import Association, Invitation, Membership
from grants.models.documents import Document
from grants.orm import utcnow
from grants.roles import APPLICANT
from grants.services.accounts import ensure_roles
from grants.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from notifications.mailer import send_email
from workflows.association import REQUIRED_DOCUMENTS

INVITATION_DAYS = 14
EDITABLE_FIELDS = (
    "name",
    "registration_number",
    "registration_country",
    "residence_country",
    "countries_of_work",
    "founded_on",
    "contact_name",
    "contact_email",
    "contact_phone",
    "website",
    "description",
    "working_languages",
)
#: Roles that may read any association (members see only their own).
STAFF_ROLES = policy.STAFF


def is_member(user: User, association: Association) -> bool:
    return any(m.association_id == association.id for m in user.memberships)


def _name_taken(name: str, exclude_id: int | None = None) -> bool:
    statement = select(Association.id).where(func.lower(Association.name) == name.strip().lower())
    if exclude_id is not None:
        statement = statement.where(Association.id != exclude_id)
    return db.session.scalar(statement) is not None


def _check_texts(data: dict[str, Any]) -> None:
    """The association's texts within their limits (``text_limits.ASSOCIATION``)."""
    problems = limits.problems(data, limits.ASSOCIATION)
    if problems:
        raise InvalidInput(next(iter(problems.values()))[0], problems)


def create_association(founder: User, data: dict[str, Any]) -> Association:
    """Create an association with its founder as first member; it starts pending."""
    _check_texts(data)
    if _name_taken(data["name"]):
        raise InvalidInput(
            _("An association with this name is already registered."),
            {"name": [_("An association with this name is already registered.")]},
        )
    association = Association(**{key: data[key] for key in EDITABLE_FIELDS if key in data})
    association.state = "pending"
    db.session.add(association)
    db.session.flush()
    db.session.add(Membership(user_id=founder.id, association_id=association.id))
    if APPLICANT not in founder.role_names:
        founder.roles.append(ensure_roles()[APPLICANT])
    db.session.flush()
    return association


def update_association(actor: User, association: Association, data: dict[str, Any]) -> None:
    if not is_member(actor, association):
        raise NotFound(_("No such association."))
    _check_texts(data)
    if _name_taken(data["name"], exclude_id=association.id):
        raise InvalidInput(
            _("An association with this name is already registered."),
            {"name": [_("An association with this name is already registered.")]},
        )
    for key in EDITABLE_FIELDS:
        if key in data:
            setattr(association, key, data[key])
    db.session.flush()


def visible_association(user: User, association_id: int) -> Association:
    """An association the person may see (``policy.ASSOCIATIONS``), else 404."""
    return policy.ASSOCIATIONS.get(user, association_id)


def member_association(user: User, association_id: int) -> Association:
    """An association the user may change: members only; staff may read but not change."""
    association = visible_association(user, association_id)
    if not is_member(user, association):
        raise Forbidden(_("Only members of the association can change it."))
    return association


#: The documents an association provides for its verification, by purpose: the
#: association machine's guard on ``verify`` requires them.
VERIFICATION_DOCUMENTS = REQUIRED_DOCUMENTS


def verification_documents(association: Association) -> dict[str, Document]:
    """The current registration certificate and statutes of the association, by purpose."""
    rows = db.session.scalars(
        select(Document).where(
            Document.association_id == association.id,
            Document.purpose.in_(VERIFICATION_DOCUMENTS),
            Document.replaced_by_id.is_(None),
        )
    )
    return {row.purpose: row for row in rows}


def list_associations(query: str = "", state: str = "", page: int = 1, per_page: int = 25):
    statement = select(Association).order_by(Association.name, Association.id)
    if query:
        statement = statement.where(func.lower(Association.name).like(f"%{query.lower()}%"))
    if state:
        statement = statement.where(Association.state == state)
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


def members_of(association: Association) -> list[Membership]:
    return list(
        db.session.scalars(
            select(Membership)
            .where(Membership.association_id == association.id)
            .join(Membership.user)
            .order_by(User.full_name, User.email)
        )
    )


def member_page(association: Association, page: int = 1, per_page: int = 25):
    """A page of the association's members, by name, each with their person."""
    statement = (
        select(Membership)
        .join(Membership.user)
        .options(contains_eager(Membership.user))
        .where(Membership.association_id == association.id)
        .order_by(User.full_name, User.email, Membership.id)
    )
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


def invite_member(actor: User, association: Association, email: str) -> Invitation:
    """Email an invitation link; the person signs up or logs in, then accepts it."""
    if not is_member(actor, association):
        raise NotFound(_("No such association."))
    email = email.strip().lower()
    already = db.session.scalar(
        select(Membership.id)
        .join(Membership.user)
        .where(Membership.association_id == association.id, func.lower(User.email) == email)
    )
    if already:
        raise InvalidInput(
            _("This person is already a member."),
            {"email": [_("This person is already a member.")]},
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        association_id=association.id,
        email=email,
        token_hash=ApiToken.digest(token),
        invited_by_id=actor.id,
        expires_at=utcnow() + timedelta(days=INVITATION_DAYS),
    )
    db.session.add(invitation)
    db.session.flush()
    link = url_for("associations.accept_invitation", token=token, _external=True)
    invitee = db.session.scalar(select(User).where(func.lower(User.email) == email))
    with force_locale(invitee.locale if invitee else actor.locale):
        subject = _(
            "%(name)s invites you to join %(association)s on Diaspora Grants",
            name=actor.display_name,
            association=association.name,
        )
        text = render_template(
            "email/invitation.txt",
            actor=actor,
            association=association,
            link=link,
            days=INVITATION_DAYS,
        )
    send_email(email, subject, text)
    return invitation


def find_invitation(token: str) -> Invitation:
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == ApiToken.digest(token))
    )
    if invitation is None:
        raise NotFound(_("This invitation link is not valid."))
    return invitation


def accept_invitation(user: User, token: str) -> Association:
    invitation = find_invitation(token)
    if invitation.accepted_at is not None:
        raise Conflict(_("This invitation has already been used."))
    if invitation.expires_at < utcnow():
        raise Conflict(_("This invitation has expired; ask for a new one."))
    if invitation.email != user.email.lower():
        raise Conflict(
            _(
                "This invitation was sent to %(email)s; log in with that address to accept it.",
                email=invitation.email,
            )
        )
    association = invitation.association
    if not is_member(user, association):
        db.session.add(
            Membership(
                user_id=user.id,
                association_id=association.id,
                invited_by_id=invitation.invited_by_id,
            )
        )
    if APPLICANT not in user.role_names:
        user.roles.append(ensure_roles()[APPLICANT])
    invitation.accepted_at = utcnow()
    invitation.accepted_by_id = user.id
    db.session.flush()
    db.session.expire(user, ["memberships"])
    return association


def pending_invitations(user: User) -> list[Invitation]:
    return list(
        db.session.scalars(
            select(Invitation).where(
                func.lower(Invitation.email) == user.email.lower(),
                Invitation.accepted_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
        )
    )
