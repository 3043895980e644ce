"""Anonymising a person: their personal data replaced by a pseudonym everywhere it lives.

What changes, in one transaction:

* the account: name → the pseudonym ("Person 4f2a9c1e"), email → an address that
  cannot receive mail, phone, second factors, recovery codes, password and the addresses
  of their last logins erased; it is deactivated (its sessions end, its tokens are
  revoked), loses its roles and cannot sign in again;
* text that names them, wherever people write about others: team member rows, partner
  rows, association contacts, invitations sent to their address, award signatories,
  comments and free text of applications, reviews, scores, conflicts, committee
  decisions, reports, bank-change reasons and decisions, and notifications written to
  others — their full name and email are replaced by the pseudonym;
* the copies of their data they downloaded are deleted (after the commit);
* emails still waiting for them are not sent (``notifications.outbox`` refuses any
  addressed to an anonymised person, and says why).

What does not: every amount, state, date and link between records (awards, tranches,
ledger, dashboards' figures), so totals are the same before and after. The history and
the ledger are append-only (a database trigger refuses UPDATE): their rows keep the
actor's name as it was written, as a financial record must, but pages and the API show
the actor's pseudonym instead, through ``actor_id`` (``shown_actor``). The bank details of
awards are the association's payment instructions and stay as they are.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, func, or_, select, update

from grants.extensions import db, security
from grants.models.accounts import ApiToken, Role, User
from grants.models.applications import Application, BudgetLine, CoFinancing, Partner, TeamMember
from grants.models.associations import Association, Invitation
from grants.models.awards import Award, BankDetailsChange, Report
from grants.models.documents import Document
from grants.models.notifications import Notification
from grants.models.privacy import DataExport
from grants.models.reviews import ConflictDeclaration, Decision, Review, Score
from grants.orm import utcnow
from grants.roles import ADMIN
from grants.services import audit
from grants.services.accounts import check_may_manage_people
from grants.services.documents import delete_after_commit
from grants.services.errors import Conflict, InvalidInput
from notifications.outbox import NOT_SENT_ANONYMISED

#: Where free text may name a person: (model, its text columns).
FREE_TEXT: tuple[tuple[type, tuple[str, ...]], ...] = (
    (
        Application,
        ("title", "summary", "objectives", "locality", "beneficiaries_description"),
    ),
    (BudgetLine, ("description",)),
    (CoFinancing, ("description",)),
    (Partner, ("name", "role")),
    (TeamMember, ("name", "role")),
    (Association, ("contact_name", "contact_email", "description")),
    (Invitation, ("email",)),
    (Award, ("signatory_name", "signatory_role", "conditions")),
    (Report, ("activities", "results", "difficulties", "next_steps")),
    (BankDetailsChange, ("reason", "decision_comment")),
    (Review, ("overall_comment",)),
    (Score, ("comment",)),
    (ConflictDeclaration, ("reason",)),
    (Decision, ("present", "minutes")),
    (Notification, ("subject", "body")),
    (Document, ("filename",)),
)
#: A name shorter than this is not searched for in free text: it would match words.
SHORTEST_NAME = 4
#: The domain of anonymised addresses: reserved (RFC 2606), so no mail can reach it.
ANONYMOUS_DOMAIN = "anonymised.invalid"


def pseudonym(person: User) -> str:
    """A stable pseudonym that reveals nothing: a keyed hash of the account's id."""
    key = current_app.config["SECRET_KEY"]
    digest = hashlib.sha256(f"{key}:anonymised:{person.id}".encode()).hexdigest()
    return f"Person {digest[:8]}"


def pseudonymous_email(person: User) -> str:
    return f"{pseudonym(person).split()[-1]}@{ANONYMOUS_DOMAIN}"


def _admins_left_without(person: User) -> int:
    return db.session.scalar(
        select(func.count(User.id)).where(
            User.active.is_(True), User.id != person.id, User.roles.any(Role.name == ADMIN)
        )
    )


def anonymisation_problem(actor: User, person: User) -> str | None:
    """Why ``actor`` may not anonymise ``person``, if they may not. An admin may
    anonymise themselves (they are signed out at once), unless nobody would be left to
    manage people."""
    if person.anonymised_at is not None:
        return _("This person is already anonymised.")
    if ADMIN in person.role_names and _admins_left_without(person) == 0:
        return _(
            "This is the last active admin: nobody could manage people after their "
            "anonymisation. Grant admin to someone else first."
        )
    return None


@dataclass(frozen=True)
class Preview:
    """What anonymising a person will change, for the confirmation page."""

    pseudonym: str
    memberships: int
    applications_written: int
    pending_emails: int
    texts: int


def _needles(person: User) -> list[str]:
    found = [person.email]
    name = (person.full_name or "").strip()
    if len(name) >= SHORTEST_NAME:
        found.append(name)
    return found


def _rows_naming(model: type, columns: tuple[str, ...], needles: list[str]) -> Any:
    conditions = [
        func.lower(getattr(model, column)).contains(needle.lower(), autoescape=True)
        for column in columns
        for needle in needles
    ]
    return select(model).where(or_(*conditions))


def preview(person: User) -> Preview:
    needles = _needles(person)
    texts = sum(
        db.session.scalar(
            select(func.count()).select_from(_rows_naming(model, columns, needles).subquery())
        )
        for model, columns in FREE_TEXT
    )
    return Preview(
        pseudonym=pseudonym(person),
        memberships=len(person.memberships),
        applications_written=db.session.scalar(
            select(func.count(Application.id)).where(Application.created_by_id == person.id)
        ),
        pending_emails=db.session.scalar(
            select(func.count(Notification.id)).where(
                Notification.recipient_id == person.id,
                Notification.channel == "email",
                Notification.state.in_(("pending", "held")),
            )
        ),
        texts=texts,
    )


def _replace(text: str, needles: list[str], replacement: str) -> str:
    for needle in needles:
        text = re.sub(re.escape(needle), replacement, text, flags=re.IGNORECASE)
    return text


def anonymise(actor: User, person: User, confirmation: str, now: datetime | None = None) -> str:
    """Replace the person's personal data by their pseudonym and close their account;
    returns the pseudonym. ``confirmation`` must be their email, typed by the admin.
    Flushes; refused (nothing changed) for the last admin, or twice."""
    check_may_manage_people(actor)
    if (confirmation or "").strip().lower() != person.email.lower():
        message = _("Type the email address of this person exactly to confirm.")
        raise InvalidInput(message, {"confirmation": [message]})
    problem = anonymisation_problem(actor, person)
    if problem:
        raise Conflict(problem)
    now = now or utcnow()
    name, address = pseudonym(person), pseudonymous_email(person)
    needles = _needles(person)
    roles_before = sorted(person.role_names)
    texts = 0
    for model, columns in FREE_TEXT:
        for record in db.session.scalars(_rows_naming(model, columns, needles)):
            for column in columns:
                value = getattr(record, column) or ""
                replacement = address if column.endswith("email") else name
                changed = _replace(value, needles, replacement)
                if changed != value:
                    setattr(record, column, changed[: _length(model, column, changed)])
                    texts += 1
    active_before = person.active
    _close_account(person, name, address, now)
    _forget_copies(person)
    db.session.execute(
        update(Notification)
        .where(
            Notification.recipient_id == person.id,
            Notification.channel == "email",
            Notification.state.in_(("pending", "held", "failed")),
        )
        .values(state="failed", last_error=NOT_SENT_ANONYMISED, claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.flush()
    # The row keeps no trace of the old name and email: only that they were replaced.
    audit.record(
        actor,
        "person.anonymised",
        ("user", person.id),
        {
            "full_name": ["(replaced)", name],
            "email": ["(replaced)", address],
            "active": [active_before, False],
            "roles": [roles_before, []],
        },
        note=f"{texts} texts naming them replaced",
    )
    return name


def _length(model: type, column: str, value: str) -> int:
    length = getattr(getattr(model, column).type, "length", None)
    return length or len(value)


def _close_account(person: User, name: str, address: str, now: datetime) -> None:
    person.full_name = name
    person.email = address
    person.password = None
    person.active = False
    person.anonymised_at = now
    person.tf_primary_method = None
    person.tf_totp_secret = None
    person.tf_totp_pending_secret = None
    person.tf_phone_number = None
    person.mf_recovery_codes = None
    person.last_login_ip = person.current_login_ip = None
    person.roles = []
    security.datastore.set_uniquifier(person)  # ends every session at once
    for token in db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == person.id, ApiToken.revoked_at.is_(None))
    ):
        token.revoked_at = now


def _forget_copies(person: User) -> None:
    """The copies of their data they downloaded hold what was just replaced: their
    ZIPs are deleted once this commits, and one being prepared is never made."""
    keys = db.session.scalars(
        select(DataExport.storage_key).where(
            DataExport.user_id == person.id, DataExport.storage_key.isnot(None)
        )
    ).all()
    db.session.execute(
        update(DataExport)
        .where(DataExport.user_id == person.id)
        .values(
            state=case((DataExport.state == "failed", "failed"), else_="expired"),
            storage_key=None,
        )
        .execution_options(synchronize_session=False)
    )
    delete_after_commit(keys)
