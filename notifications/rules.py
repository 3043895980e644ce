"""Which transitions notify whom: the catalogue, readable as a table.

Each rule names the lifecycle event it follows, its category (people choose how they
receive a category; security and money cannot be turned off), who receives it, and the
sentence they read. Recipients are computed from the record at the time of the event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from grants.extensions import db
from grants.models.accounts import Role, User
from grants.roles import PROGRAMME_OFFICER


@dataclass(frozen=True)
class EventRule:
    name: str
    entity: str
    transition: str
    category: str
    recipients: Callable[[Any], list[User]]
    subject: str
    body: str


def members(record: Any) -> list[User]:
    """The members of the association the record belongs to."""
    from grants.models.associations import Membership

    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.association_id == record.association_id, User.active.is_(True))
        )
    )


def officers(record: Any) -> list[User]:
    return list(
        db.session.scalars(
            select(User).where(
                User.active.is_(True), User.roles.any(Role.name == PROGRAMME_OFFICER)
            )
        )
    )


def members_and_officers(record: Any) -> list[User]:
    return members(record) + officers(record)


RULES: tuple[EventRule, ...] = (
    EventRule(
        "application_submitted",
        "application",
        "submit",
        "applications",
        members_and_officers,
        "Application {reference} submitted",
        "The application {reference} was submitted to {call}.",
    ),
    EventRule(
        "proposal_submitted",
        "application",
        "submit_proposal",
        "applications",
        members_and_officers,
        "Proposal {reference} submitted",
        "The full proposal {reference} was submitted to {call}.",
    ),
    EventRule(
        "application_returned",
        "application",
        "return_to_applicant",
        "applications",
        members,
        "Application {reference} returned for changes",
        "The programme office returned {reference} for changes: {comment}",
    ),
    EventRule(
        "application_eligible",
        "application",
        "mark_eligible",
        "applications",
        members,
        "Application {reference} is eligible",
        "{reference} is eligible and goes to the evaluation committee.",
    ),
    EventRule(
        "application_ineligible",
        "application",
        "mark_ineligible",
        "applications",
        members,
        "Application {reference} is not eligible",
        "{reference} is not eligible: {comment}",
    ),
    EventRule(
        "decision_awarded",
        "application",
        "award",
        "decisions",
        members,
        "Application {reference}: a grant is offered",
        "The committee offers a grant to {reference}. {comment}",
    ),
    EventRule(
        "decision_waitlisted",
        "application",
        "waitlist",
        "decisions",
        members,
        "Application {reference} is on the waiting list",
        "{reference} is on the waiting list. {comment}",
    ),
    EventRule(
        "decision_rejected",
        "application",
        "reject",
        "decisions",
        members,
        "Application {reference} is not funded",
        "{reference} is not funded: {comment}",
    ),
    EventRule(
        "conflict_declared",
        "review",
        "declare_conflict",
        "evaluation",
        officers,
        "Conflict of interest on {reference}",
        "An evaluator declared a conflict of interest on {reference}: {comment} "
        "Assign someone else.",
    ),
    EventRule(
        "association_verified",
        "association",
        "verify",
        "account",
        members,
        "Your association is verified",
        "{name} is verified: it can apply for grants.",
    ),
    EventRule(
        "association_rejected",
        "association",
        "reject",
        "account",
        members,
        "Your association was not verified",
        "{name} was not verified: {comment}",
    ),
)
