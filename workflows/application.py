"""An application, single-stage or two-stage (concept note first), to the decision.

The call chooses the shape; one machine holds both, and the guards on ``submit`` and
``submit_concept`` say which one applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from workflows import eligibility
from workflows.base import DESTRUCTIVE, PRIMARY, Context, Lifecycle, State, reading, rule
from workflows.rules import member_of_association
from workflows.sentences import Moment, Money, Names, Number, Sentence, StateName, _l

APPLICANT = "applicant"
OFFICER = "programme_officer"

#: Fields a full application cannot be submitted without, with the words the user reads.
REQUIRED_FIELDS = {
    "title": _l("project title"),
    "summary": _l("summary"),
    "objectives": _l("objectives"),
    "country": _l("target country"),
    "locality": _l("locality"),
    "start_date": _l("start date"),
    "duration_months": _l("duration"),
    "beneficiaries_count": _l("number of beneficiaries"),
    "amount_requested": _l("amount requested"),
}
CONCEPT_FIELDS = {
    "title": _l("project title"),
    "summary": _l("summary"),
    "amount_requested": _l("estimated amount"),
    "sector": _l("sector"),
    "country": _l("target country"),
}


def missing_fields(application: Any, fields: dict[str, Sentence]) -> list[str]:
    """The names of the fields left empty (None, or only spaces)."""
    missing = []
    for name in fields:
        value = getattr(application, name)
        if value is None or (isinstance(value, str) and not value.strip()):
            missing.append(name)
    return missing


def _missing(application: Any, fields: dict[str, Sentence]) -> list[Sentence]:
    return [fields[name] for name in missing_fields(application, fields)]


@reading("call")
def call_is_open(application: Any, ctx: Context) -> Sentence | None:
    call = application.call
    if call.state != "open":
        return _l(
            "The call is %(state)s: it no longer accepts applications.",
            state=StateName("call", call.state),
        )
    return None


@reading("call")
def deadline_not_passed(application: Any, ctx: Context) -> Sentence | None:
    call = application.call
    if call.closes_at is not None and ctx.now >= call.closes_at:
        return _l(
            "The deadline passed on %(deadline)s.", deadline=Moment(call.closes_at, call.timezone)
        )
    return None


@reading("call")
def proposal_deadline_not_passed(application: Any, ctx: Context) -> Sentence | None:
    deadline = application.call.proposal_closes_at
    if deadline is not None and ctx.now >= deadline:
        return _l(
            "The deadline for full proposals passed on %(deadline)s.",
            deadline=Moment(deadline, application.call.timezone),
        )
    return None


@reading("call")
def single_stage_call(application: Any, ctx: Context) -> Sentence | None:
    if application.call.two_stage:
        return _l("This call has two stages: submit a concept note first.")
    return None


@reading("call")
def two_stage_call(application: Any, ctx: Context) -> Sentence | None:
    if not application.call.two_stage:
        return _l("This call has a single stage: submit the full application.")
    return None


@reading("budget_lines")
def required_fields_present(application: Any, ctx: Context) -> Sentence | None:
    missing = _missing(application, REQUIRED_FIELDS)
    if not application.budget_lines:
        missing.append(_l("budget lines"))
    if missing:
        return _l("These parts are missing: %(names)s.", names=Names(missing))
    return None


def concept_fields_present(application: Any, ctx: Context) -> Sentence | None:
    missing = _missing(application, CONCEPT_FIELDS)
    if missing:
        return _l("The concept note is missing: %(names)s.", names=Names(missing))
    return None


@reading("documents", "call.document_types")
def required_documents_present(application: Any, ctx: Context) -> Sentence | None:
    present = {document.document_type_id for document in application.current_documents}
    missing = [
        document_type.text("name", application.language)
        for document_type in application.call.document_types
        if document_type.required and document_type.id not in present
    ]
    if missing:
        return _l("These documents are missing: %(names)s.", names=Names(missing))
    return None


# The call's eligibility rules (``workflows/eligibility.py``) as guards of submission:
# the same objects judge the public check, the checklist and the submit transition.
project_country_allowed = eligibility.as_guard(eligibility.project_country_allowed)
registration_country_allowed = eligibility.as_guard(eligibility.registration_country_allowed)
association_may_submit = eligibility.as_guard(eligibility.association_may_submit)
amount_within_limits = eligibility.as_guard(eligibility.amount_within_limits)
cofinancing_share_reached = eligibility.as_guard(eligibility.cofinancing_share_reached)
no_overdue_report = eligibility.as_guard(eligibility.no_overdue_report)
eligibility_questions_answered = eligibility.as_guard(eligibility.eligibility_questions_answered)
#: Who may apply at all, whatever the stage.
WHO_MAY_APPLY = (
    association_may_submit,
    registration_country_allowed,
    no_overdue_report,
    eligibility_questions_answered,
    project_country_allowed,
)


@reading("call", "answers.question", "documents")
def required_answers_present(application: Any, ctx: Context) -> Sentence | None:
    """The call's own questions: those asked and required have an answer."""
    missing = application.missing_answers(ctx.cached)
    if missing:
        return _l("These questions need an answer: %(names)s.", names=Names(missing))
    return None


@reading("reviews")
def someone_is_assigned(application: Any, ctx: Context) -> Sentence | None:
    if not any(review.state != "conflicted" for review in application.reviews):
        return _l("Assign at least one evaluator before starting the review.")
    return None


@reading("reviews")
def reviews_are_in(application: Any, ctx: Context) -> Sentence | None:
    active = [review for review in application.reviews if review.state != "conflicted"]
    submitted = [review for review in active if review.state == "submitted"]
    if not submitted:
        return _l("No review has been submitted yet.")
    if ctx.is_system and len(submitted) < len(active):
        return _l("%(count)s review(s) still to be submitted.", count=len(active) - len(submitted))
    return None


def _award_amount(ctx: Context) -> Decimal | None:
    raw = ctx.data.get("amount")
    if raw is None:
        return None
    try:
        return Decimal(str(raw))
    except (InvalidOperation, ValueError):
        return None


@reading("call")
def award_amount_valid(application: Any, ctx: Context) -> Sentence | None:
    if "amount" not in ctx.data:
        return None
    amount = _award_amount(ctx)
    currency = application.call.currency
    if amount is None or amount <= 0:
        return _l("The amount awarded must be a positive number.")
    if application.amount_requested is not None and amount > application.amount_requested:
        return _l(
            "The amount awarded, %(amount)s, is above the amount requested, %(requested)s.",
            amount=Money(amount, currency),
            requested=Money(application.amount_requested, currency),
        )
    return None


@reading("call")
def within_envelope(application: Any, ctx: Context) -> Sentence | None:
    amount = _award_amount(ctx)
    if amount is None:
        return None
    call = application.call
    awarded = ctx.cached(("awarded_total", call.id), lambda: call.awarded_total())
    if awarded + amount > call.envelope:
        over = awarded + amount - call.envelope
        return _l(
            "Awarding %(amount)s would exceed the envelope of %(envelope)s by %(over)s "
            "(%(awarded)s already awarded).",
            amount=Money(amount, call.currency),
            envelope=Money(call.envelope, call.currency),
            over=Money(over, call.currency),
            awarded=Number(awarded),
        )
    return None


def record_decision(application: Any, ctx: Context) -> None:
    """The first decision counts: a waiting-list application awarded later keeps it."""
    if application.decided_at is None:
        application.decided_at = ctx.now


def record_award(application: Any, ctx: Context) -> None:
    application.amount_awarded = _award_amount(ctx)
    record_decision(application, ctx)


def record_submission(application: Any, ctx: Context) -> None:
    application.submitted_at = ctx.now


#: Days an evaluator has for a review once it starts (setting ``REVIEW_DAYS_ALLOWED``).
DEFAULT_REVIEW_DAYS = 14


def review_due_at(call: Any, start: datetime, settings: Mapping[str, Any]) -> datetime:
    """When a review that starts at ``start`` is due: at the call's review deadline when
    the call sets one, else the days allowed later."""
    if call.review_deadline is not None:
        return call.review_deadline
    days = int(settings.get("REVIEW_DAYS_ALLOWED", DEFAULT_REVIEW_DAYS))
    return start + timedelta(days=days)


def give_reviews_due_dates(application: Any, ctx: Context) -> None:
    """Starting the review makes each open review due (``review_due_at``)."""
    for review in application.reviews:
        if review.state == "assigned" and review.due_at is None:
            review.due_at = review_due_at(application.call, ctx.now, ctx.settings)


class ApplicationLifecycle(Lifecycle):
    entity = "application"
    title = "an application"

    draft = State("Draft", initial=True, value="draft")
    concept_submitted = State("Concept note submitted", value="concept_submitted")
    concept_declined = State("Concept note declined", value="concept_declined", final=True)
    proposal_draft = State("Full proposal in preparation", value="proposal_draft")
    submitted = State("Submitted", value="submitted")
    eligible = State("Eligible", value="eligible")
    ineligible = State("Ineligible", value="ineligible", final=True)
    in_review = State("In review", value="in_review")
    reviewed = State("Reviewed", value="reviewed")
    awarded = State("Awarded", value="awarded", final=True)
    waitlisted = State("On the waiting list", value="waitlisted")
    rejected = State("Rejected", value="rejected", final=True)
    withdrawn = State("Withdrawn", value="withdrawn", final=True)

    submit = draft.to(submitted)
    submit_concept = draft.to(concept_submitted)
    invite_proposal = concept_submitted.to(proposal_draft)
    decline_concept = concept_submitted.to(concept_declined)
    submit_proposal = proposal_draft.to(submitted)
    mark_eligible = submitted.to(eligible)
    mark_ineligible = submitted.to(ineligible)
    return_to_applicant = submitted.to(draft, cond="single_stage") | submitted.to(
        proposal_draft, unless="single_stage"
    )
    start_review = eligible.to(in_review)
    complete_review = in_review.to(reviewed)
    award = reviewed.to(awarded) | waitlisted.to(awarded)
    waitlist = reviewed.to(waitlisted)
    reject = reviewed.to(rejected) | waitlisted.to(rejected)
    withdraw = (
        draft.to(withdrawn)
        | submitted.to(withdrawn)
        | eligible.to(withdrawn)
        | concept_submitted.to(withdrawn)
        | proposal_draft.to(withdrawn)
    )

    def single_stage(self) -> bool:
        return not self.model.call.two_stage

    _submission = (
        call_is_open,
        deadline_not_passed,
        *WHO_MAY_APPLY,
        required_fields_present,
        required_documents_present,
        required_answers_present,
        amount_within_limits,
        cofinancing_share_reached,
    )
    _member = dict(
        who=member_of_association,
        who_fails=_l("Only members of the applying association can do this."),
    )
    # One way to decide: the committee's meeting records every outcome with its award.
    _decided = dict(
        recorded_with="decision",
        recorded_where=_l(
            "Awards, the waiting list and rejections are recorded together as the "
            "committee's decisions, from the call's ranking."
        ),
    )

    next_steps = {
        "concept_submitted": _l("The programme office reads the concept note next."),
        "proposal_draft": _l("The association completes the full proposal and submits it."),
        "submitted": _l("The programme office checks its eligibility next."),
        "draft": _l("The association can change it and submit it again."),
        "eligible": _l("Evaluators are assigned to it next."),
        "in_review": _l("The evaluators score it next."),
        "reviewed": _l("The committee decides on it next."),
        "waitlisted": _l("It may be awarded later, if the envelope allows."),
        "awarded": _l("The association is offered the grant and accepts it next."),
        "concept_declined": _l("This is final."),
        "ineligible": _l("This is final; the applicants read the reason."),
        "rejected": _l("This is final; the applicants read the feedback."),
        "withdrawn": _l("This is final."),
    }

    rules = {
        "submit": rule(
            APPLICANT,
            guards=(single_stage_call, *_submission),
            effect=record_submission,
            **_member,
            tone=PRIMARY,
        ),
        "submit_concept": rule(
            APPLICANT,
            guards=(
                two_stage_call,
                call_is_open,
                deadline_not_passed,
                *WHO_MAY_APPLY,
                concept_fields_present,
            ),
            effect=record_submission,
            **_member,
            tone=PRIMARY,
        ),
        "invite_proposal": rule(OFFICER, tone=PRIMARY),
        "decline_concept": rule(
            OFFICER, comment_required=True, comment_label="feedback", tone=DESTRUCTIVE
        ),
        "submit_proposal": rule(
            APPLICANT,
            guards=(
                proposal_deadline_not_passed,
                *WHO_MAY_APPLY,
                required_fields_present,
                required_documents_present,
                required_answers_present,
                amount_within_limits,
                cofinancing_share_reached,
            ),
            effect=record_submission,
            **_member,
            tone=PRIMARY,
        ),
        "mark_eligible": rule(OFFICER, tone=PRIMARY),
        "mark_ineligible": rule(
            OFFICER,
            comment_required=True,
            comment_label="reason",
            summary=_l("The reason is shown to the applicant."),
            tone=DESTRUCTIVE,
        ),
        "return_to_applicant": rule(
            OFFICER,
            comment_required=True,
            guards=(call_is_open,),
            summary=_l("Back to the applicants for changes."),
        ),
        "start_review": rule(
            OFFICER, guards=(someone_is_assigned,), effect=give_reviews_due_dates, tone=PRIMARY
        ),
        "complete_review": rule(
            OFFICER,
            system=True,
            guards=(reviews_are_in,),
            summary=_l("By the system when all reviews are in."),
        ),
        "award": rule(
            OFFICER,
            requires=("amount",),
            guards=(award_amount_valid, within_envelope),
            effect=record_award,
            **_decided,
            tone=PRIMARY,
        ),
        "waitlist": rule(OFFICER, effect=record_decision, **_decided),
        "reject": rule(
            OFFICER,
            comment_required=True,
            comment_label="feedback",
            effect=record_decision,
            **_decided,
            tone=DESTRUCTIVE,
        ),
        "withdraw": rule(
            APPLICANT,
            requires=("confirmed",),
            summary=_l("Final: the applicant confirms it."),
            **_member,
            tone=DESTRUCTIVE,
        ),
    }
