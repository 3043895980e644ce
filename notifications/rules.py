"""Which events notify whom: the catalogue, readable as a table.

Each rule names the lifecycle event it follows (a transition, or a service event such as
an evaluator's assignment), optionally the state the event must reach, its category,
who receives it, and what they read. Subjects and bodies are message ids with
``%(name)s`` placeholders, translated into each recipient's language when the row is
written. Recipients are computed from the record at the time of the event.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from grants.bulk import among, batches
from grants.extensions import db
from grants.models.accounts import Role, User
from grants.roles import FINANCE_OFFICER, PROGRAMME_OFFICER


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated later, per recipient."""
    return message


@dataclass(frozen=True)
class Category:
    name: str
    label: str
    #: Security and money: always an immediate email, whatever the person prefers.
    required: bool = False


CATEGORIES: dict[str, Category] = {
    c.name: c
    for c in (
        Category("account", N_("Account and association verification"), required=True),
        Category("money", N_("Awards, bank details and payments"), required=True),
        Category("applications", N_("Applications and deadlines")),
        Category("evaluation", N_("Evaluation and reviews")),
        Category("decisions", N_("Decisions")),
        Category("reports", N_("Reports")),
        Category("conversations", N_("Messages and requests for information")),
    )
}


@dataclass(frozen=True)
class EventRule:
    name: str
    entity: str
    event: str
    category: str
    recipients: Callable[[Any], list[User]]
    subject: str
    body: str
    #: Only when the event reaches this state (a first approval leaves a tranche requested).
    to_state: str | None = None


# --- who -----------------------------------------------------------------------------


def association_id_of(record: Any) -> int:
    award = getattr(record, "award", None)
    return award.association_id if award is not None else record.association_id


def members_of(association_ids: set[int]) -> dict[int, list[User]]:
    """Active members of each association, in one query."""
    from grants.models.associations import Membership

    found: dict[int, list[User]] = {a: [] for a in association_ids}
    for ids in batches(sorted(association_ids)):
        rows = db.session.execute(
            select(Membership.association_id, User)
            .join(User, Membership.user_id == User.id)
            .where(among(Membership.association_id, ids), User.active.is_(True))
            .order_by(User.id)
        )
        for association_id, user in rows:
            found[association_id].append(user)
    return found


def with_role(role: str) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .where(User.active.is_(True), User.roles.any(Role.name == role))
            .order_by(User.id)
        )
    )


def members(record: Any) -> list[User]:
    """The members of the association the record belongs to."""
    association_id = association_id_of(record)
    return members_of({association_id})[association_id]


def officers(record: Any) -> list[User]:
    return with_role(PROGRAMME_OFFICER)


def members_and_officers(record: Any) -> list[User]:
    return members(record) + officers(record)


def evaluator(record: Any) -> list[User]:
    return [record.evaluator] if record.evaluator.active else []


def finance_approvers(tranche: Any) -> list[User]:
    """Finance officers who may still approve: not the requester, not an approver."""
    excluded = {tranche.requested_by_id, *tranche.current_approver_ids}
    return [u for u in with_role(FINANCE_OFFICER) if u.id not in excluded]


def finance_payers(tranche: Any) -> list[User]:
    return [u for u in with_role(FINANCE_OFFICER) if u.id != tranche.requested_by_id]


def finance_deciders(change: Any) -> list[User]:
    """Finance officers who may decide a change of bank details: not the person who asked."""
    return [u for u in with_role(FINANCE_OFFICER) if u.id != change.requested_by_id]


def requester(change: Any) -> list[User]:
    """The person who asked for a change of bank details, while their account is active."""
    person = change.requested_by
    return [person] if person is not None and person.active else []


def officers_if_a_tranche_waits(report: Any) -> list[User]:
    """Officers, when accepting this report unlocks a tranche they can now request."""
    waiting = [
        t
        for t in report.award.tranches
        if t.condition_report_id == report.id and t.state == "planned"
    ]
    return with_role(PROGRAMME_OFFICER) if waiting else []


# --- what ----------------------------------------------------------------------------

RULES: tuple[EventRule, ...] = (
    EventRule(
        "application_submitted",
        "application",
        "submit",
        "applications",
        members_and_officers,
        N_("Application %(reference)s submitted"),
        N_("The application %(reference)s was submitted to %(call)s."),
    ),
    EventRule(
        "proposal_submitted",
        "application",
        "submit_proposal",
        "applications",
        members_and_officers,
        N_("Proposal %(reference)s submitted"),
        N_("The full proposal %(reference)s was submitted to %(call)s."),
    ),
    EventRule(
        "application_returned",
        "application",
        "return_to_applicant",
        "applications",
        members,
        N_("Application %(reference)s returned for changes"),
        N_("The programme office returned %(reference)s for changes: %(comment)s"),
    ),
    EventRule(
        "application_eligible",
        "application",
        "mark_eligible",
        "applications",
        members,
        N_("Application %(reference)s is eligible"),
        N_("%(reference)s is eligible and goes to the evaluation committee."),
    ),
    EventRule(
        "application_ineligible",
        "application",
        "mark_ineligible",
        "applications",
        members,
        N_("Application %(reference)s is not eligible"),
        N_("%(reference)s is not eligible: %(comment)s"),
    ),
    EventRule(
        "evaluator_assigned",
        "review",
        "assigned",
        "evaluation",
        evaluator,
        N_("A review is assigned to you: %(reference)s"),
        N_(
            "You are asked to review %(reference)s in %(call)s. Declare any conflict of "
            "interest before you read it."
        ),
    ),
    EventRule(
        "conflict_declared",
        "review",
        "declare_conflict",
        "evaluation",
        officers,
        N_("Conflict of interest on %(reference)s"),
        N_(
            "An evaluator declared a conflict of interest on %(reference)s: %(comment)s "
            "Assign someone else."
        ),
    ),
    EventRule(
        "all_reviews_in",
        "application",
        "complete_review",
        "evaluation",
        officers,
        N_("All reviews are in for %(reference)s"),
        N_("Every evaluator assigned to %(reference)s has submitted a review."),
    ),
    EventRule(
        "decision_awarded",
        "application",
        "award",
        "decisions",
        members,
        N_("Application %(reference)s: a grant is offered"),
        N_(
            "The committee offers a grant to %(reference)s. %(comment)s Read the award "
            "letter and accept the offer with your bank details."
        ),
    ),
    EventRule(
        "decision_waitlisted",
        "application",
        "waitlist",
        "decisions",
        members,
        N_("Application %(reference)s is on the waiting list"),
        N_("%(reference)s is on the waiting list. %(comment)s"),
    ),
    EventRule(
        "decision_rejected",
        "application",
        "reject",
        "decisions",
        members,
        N_("Application %(reference)s is not funded"),
        N_("%(reference)s is not funded: %(comment)s"),
    ),
    EventRule(
        "award_accepted",
        "award",
        "accept",
        "money",
        members_and_officers,
        N_("The award for %(reference)s is accepted"),
        N_("%(name)s accepted the award for %(reference)s; the grant is active."),
    ),
    EventRule(
        "award_declined",
        "award",
        "decline",
        "money",
        officers,
        N_("The award for %(reference)s was declined"),
        N_("The association declined the award for %(reference)s: %(comment)s"),
    ),
    EventRule(
        "tranche_requested",
        "tranche",
        "request",
        "money",
        finance_approvers,
        N_("A tranche of %(reference)s waits for your approval"),
        N_("A tranche of %(amount)s for %(reference)s was requested and needs approval."),
    ),
    EventRule(
        "tranche_second_approval",
        "tranche",
        "approve",
        "money",
        finance_approvers,
        N_("A tranche of %(reference)s needs a second approval"),
        N_(
            "A tranche of %(amount)s for %(reference)s has one approval; a second finance "
            "officer must approve it."
        ),
        to_state="requested",
    ),
    EventRule(
        "tranche_approved",
        "tranche",
        "approve",
        "money",
        lambda tranche: members(tranche) + finance_payers(tranche),
        N_("A tranche of %(reference)s is approved"),
        N_("A tranche of %(amount)s for %(reference)s is approved for payment."),
        to_state="approved",
    ),
    EventRule(
        "tranche_paid",
        "tranche",
        "pay",
        "money",
        members,
        N_("A tranche of %(reference)s is paid"),
        N_("A tranche of %(amount)s for %(reference)s was paid."),
    ),
    EventRule(
        "report_submitted",
        "report",
        "submit",
        "reports",
        officers,
        N_("A report on %(reference)s was submitted"),
        N_("The association submitted a report on %(reference)s for your review."),
    ),
    EventRule(
        "report_changes_requested",
        "report",
        "request_changes",
        "reports",
        members,
        N_("Changes are requested to your report on %(reference)s"),
        N_("The programme office asks for changes to your report on %(reference)s: %(comment)s"),
    ),
    EventRule(
        "report_accepted",
        "report",
        "accept",
        "reports",
        members_and_officers,
        N_("The report on %(reference)s is accepted"),
        N_("The report on %(reference)s is accepted."),
    ),
    EventRule(
        "tranche_requestable",
        "report",
        "accept",
        "money",
        officers_if_a_tranche_waits,
        N_("A tranche of %(reference)s can now be requested"),
        N_(
            "The report on %(reference)s is accepted and a tranche waited for it: request "
            "it from the grant page."
        ),
    ),
    EventRule(
        "bank_change_requested",
        "bank_change",
        "request",
        "money",
        finance_deciders,
        N_("New bank details for %(reference)s wait for your decision"),
        N_(
            "The association asked to change the bank details of %(reference)s: %(comment)s "
            "No tranche of the grant is approved or paid until a finance officer other than "
            "the person who asked decides."
        ),
    ),
    EventRule(
        "bank_change_approved",
        "bank_change",
        "approve",
        "money",
        lambda change: requester(change) + finance_deciders(change),
        N_("The new bank details for %(reference)s are approved"),
        N_("The next payments for %(reference)s go to the new account."),
    ),
    EventRule(
        "bank_change_refused",
        "bank_change",
        "refuse",
        "money",
        lambda change: requester(change) + finance_deciders(change),
        N_("The new bank details for %(reference)s were refused"),
        N_(
            "A finance officer refused the new bank details of %(reference)s: %(comment)s "
            "Payments still go to the account on file."
        ),
    ),
    EventRule(
        "bank_change_cancelled",
        "bank_change",
        "cancel",
        "money",
        lambda change: requester(change) + finance_deciders(change),
        N_("The change of bank details for %(reference)s was withdrawn"),
        N_(
            "The association withdrew its change of bank details for %(reference)s; payments "
            "still go to the account on file."
        ),
    ),
    EventRule(
        "association_verified",
        "association",
        "verify",
        "account",
        members,
        N_("Your association is verified"),
        N_("%(name)s is verified: it can apply for grants."),
    ),
    EventRule(
        "association_rejected",
        "association",
        "reject",
        "account",
        members,
        N_("Your association was not verified"),
        N_("%(name)s was not verified: %(comment)s"),
    ),
)
