"""Evaluation: assigning evaluators, conflicts of interest, and scoring.

An evaluator sees an application's title (and, unless the call is blind, the applying
association's name) until they attest that they have no conflict of interest; only then
its content and documents. Declaring a conflict instead removes their access at once, to
this application and to every application of the same association in the programme, and
tells the officers (a domain event from the review machine).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from grants import policy
from grants import text_limits as limits
from grants.extensions import db
from grants.labels import state_label
from grants.models.accounts import User
from grants.models.applications import Application
from grants.models.reviews import ConflictDeclaration, Review, Score
from grants.orm import utcnow
from grants.roles import ADMIN, EVALUATOR, PROGRAMME_OFFICER
from grants.services import assignment_plan
from grants.services.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from grants.services.workflow import allowed_for_many, announce, fire
from workflows.application import review_due_at
from workflows.review import ReviewLifecycle

RECOMMENDATIONS = ("fund", "fund_with_conditions", "do_not_fund")


def reviews_of(application: Application) -> list[Review]:
    """An application's reviews with their evaluators: the evaluators (with their roles
    and memberships) in one query for all, not one per review."""
    reviews = sorted(application.reviews, key=lambda review: review.id)
    evaluator_ids = {review.evaluator_id for review in reviews}
    if evaluator_ids:
        evaluators = {
            user.id: user
            for user in db.session.scalars(select(User).where(User.id.in_(evaluator_ids)))
        }
        for review in reviews:
            set_committed_value(review, "evaluator", evaluators[review.evaluator_id])
    return reviews


def conflicted_associations(evaluator: User) -> set[int]:
    return set(
        db.session.scalars(
            select(ConflictDeclaration.association_id).where(
                ConflictDeclaration.evaluator_id == evaluator.id
            )
        )
    )


def assignment_problem(
    application: Application, evaluator: User, conflicts: set[int]
) -> DomainError | None:
    """Why ``evaluator`` cannot be assigned to ``application``, if they cannot, given the
    associations they declared a conflict with. The one place this rule is written: the
    assignment refuses with it, the page's list shows it."""
    name = evaluator.display_name
    if EVALUATOR not in evaluator.role_names:
        return InvalidInput(_("%(name)s is not an evaluator.", name=name))
    if any(m.association_id == application.association_id for m in evaluator.memberships):
        return InvalidInput(_("%(name)s is a member of the applying association.", name=name))
    if application.association_id in conflicts:
        return InvalidInput(
            _("%(name)s declared a conflict of interest with this association.", name=name)
        )
    for review in application.reviews:
        if review.evaluator_id == evaluator.id and review.state == "conflicted":
            return Conflict(
                _("%(name)s declared a conflict of interest with this application.", name=name)
            )
        if review.evaluator_id == evaluator.id:
            return Conflict(_("%(name)s is already assigned to this application.", name=name))
    return None


@dataclass(frozen=True)
class Choice:
    """An evaluator as offered for one application: ``reason`` says why not, if not."""

    person: User
    reason: str | None = None


def assignment_choices(
    applications: list[Application], people: list[User]
) -> dict[int, list[Choice]]:
    """For each application, the evaluators who can be assigned first, then the others
    with the reason; the conflicts of all evaluators are read in one query."""
    conflicts: dict[int, set[int]] = {person.id: set() for person in people}
    if people:
        for evaluator_id, association_id in db.session.execute(
            select(ConflictDeclaration.evaluator_id, ConflictDeclaration.association_id).where(
                ConflictDeclaration.evaluator_id.in_(list(conflicts))
            )
        ):
            conflicts[evaluator_id].add(association_id)
    choices = {}
    for application in applications:
        found = []
        for person in people:
            problem = assignment_problem(application, person, conflicts[person.id])
            found.append(Choice(person, problem.message if problem else None))
        choices[application.id] = sorted(found, key=lambda choice: choice.reason is not None)
    return choices


def assign(officer: User, application: Application, evaluator: User) -> Review:
    """Assign one evaluator by hand; the same rules as the automatic proposal apply."""
    if PROGRAMME_OFFICER not in officer.role_names:
        raise Forbidden(_("Only a programme officer assigns evaluators."))
    if application.state not in ("eligible", "in_review"):
        raise Conflict(_("Evaluators are assigned to eligible applications."))
    problem = assignment_problem(application, evaluator, conflicted_associations(evaluator))
    if problem is not None:
        raise problem
    review = Review(
        application=application,
        evaluator_id=evaluator.id,
        assigned_by_id=officer.id,
        state=ReviewLifecycle.initial_value(),
    )
    if application.state == "in_review":  # joins a review already started: due from now
        review.due_at = review_due_at(application.call, utcnow(), current_app.config)
    db.session.add(review)
    db.session.flush()
    announce(review, "assigned", officer)
    return review


def unassign(officer: User, review: Review) -> None:
    """Remove an assignment that has no submitted review."""
    if PROGRAMME_OFFICER not in officer.role_names:
        raise Forbidden(_("Only a programme officer removes assignments."))
    if review.state == "submitted":
        raise Conflict(_("This review is submitted; reopen it instead of removing it."))
    db.session.delete(review)
    db.session.flush()


def own_review(evaluator: User, review_id: int) -> Review:
    """The evaluator's own review, unless they declared a conflict: then it is gone (404),
    even for an evaluator who also runs the programme."""
    if EVALUATOR not in evaluator.role_names:
        raise NotFound(_("No such review."))
    own = policy.REVIEWS.own(evaluator)
    review = db.session.scalars(select(Review).where(Review.id == review_id, own)).first()
    if review is None:
        raise NotFound(_("No such review."))
    return review


def attest_no_conflict(evaluator: User, review: Review) -> None:
    if review.evaluator_id != evaluator.id:
        raise NotFound(_("No such review."))
    if review.no_conflict_attested_at is None:
        review.no_conflict_attested_at = utcnow()
        db.session.flush()


def declare_conflict(evaluator: User, review: Review, reason: str) -> list[Review]:
    """Declare a conflict with the review's association; every open review of this evaluator
    for that association's applications is withdrawn from them too. Returns those reviews."""
    association_id = review.application.association_id
    fire(review, "declare_conflict", evaluator, comment=reason)
    db.session.add(
        ConflictDeclaration(
            evaluator_id=evaluator.id,
            association_id=association_id,
            reason=reason.strip(),
            review_id=review.id,
        )
    )
    others = db.session.scalars(
        select(Review)
        .join(Review.application)
        .where(
            Review.evaluator_id == evaluator.id,
            Review.id != review.id,
            Review.state == "assigned",
            Application.association_id == association_id,
        )
    ).all()
    for other in others:
        fire(
            other,
            "declare_conflict",
            evaluator,
            comment=_("Conflict declared with the same association on another application."),
        )
    db.session.flush()
    return [review, *others]


def may_read_application(evaluator: User, application: Application) -> bool:
    """An assigned evaluator without a conflict who has attested none reads the application."""
    if application.association_id in conflicted_associations(evaluator):
        return False
    return any(
        review.evaluator_id == evaluator.id
        and review.state != "conflicted"
        and review.no_conflict_attested_at is not None
        for review in application.reviews
    )


def save_scores(
    evaluator: User,
    review: Review,
    scores: dict[int, tuple[int | None, str]],
    recommendation: str | None,
    overall_comment: str = "",
) -> None:
    """Save the draft of a review: a score and a comment per criterion, a recommendation."""
    if review.evaluator_id != evaluator.id:
        raise NotFound(_("No such review."))
    if review.state != "assigned":
        raise Conflict(
            _(
                "This review is %(state)s and can no longer be changed.",
                state=state_label("review", review.state),
            )
        )
    if review.no_conflict_attested_at is None:
        raise Conflict(_("Confirm that you have no conflict of interest first."))
    criteria = {criterion.id: criterion for criterion in review.application.call.criteria}
    errors: dict[str, list[str]] = {}
    for criterion_id, (score, _comment) in scores.items():
        criterion = criteria.get(criterion_id)
        if criterion is None:
            errors[f"criterion-{criterion_id}"] = [_("Unknown criterion.")]
        elif score is not None and not criterion.scale_min <= score <= criterion.scale_max:
            errors[f"score-{criterion_id}"] = [
                _(
                    "Between %(low)s and %(high)s.",
                    low=criterion.scale_min,
                    high=criterion.scale_max,
                )
            ]
        problem = limits.SCORE_COMMENT.problem(_comment)
        if problem:
            errors[f"comment-{criterion_id}"] = [problem]
    problem = limits.OVERALL_COMMENT.problem(overall_comment)
    if problem:
        errors["overall_comment"] = [problem]
    if recommendation is not None and recommendation not in RECOMMENDATIONS:
        errors["recommendation"] = [_("Choose a recommendation from the list.")]
    if errors:
        raise InvalidInput(_("The review was not saved: some fields need attention."), errors)
    existing = {score.criterion_id: score for score in review.scores}
    for criterion_id, (value, comment) in scores.items():
        score = existing.get(criterion_id)
        if score is None:
            score = Score(criterion_id=criterion_id)
            review.scores.append(score)
        score.score, score.comment = value, (comment or "").strip()
    review.recommendation = recommendation
    review.overall_comment = (overall_comment or "").strip()
    db.session.flush()


def eligible_for_review(call_id: int) -> list[Application]:
    """The applications of a call that evaluators are assigned to, with their reviews."""
    return list(
        db.session.scalars(
            select(Application)
            .where(Application.call_id == call_id, Application.state.in_(("eligible", "in_review")))
            .order_by(Application.reference)
        )
    )


def evaluators() -> list[User]:
    from grants.models.accounts import Role

    return list(
        db.session.scalars(
            select(User)
            .options(selectinload(User.memberships))
            .where(User.active.is_(True), User.roles.any(Role.name == EVALUATOR))
            .order_by(User.full_name, User.id)
        )
    )


@dataclass(frozen=True)
class EvaluatorLoad:
    """An evaluator as officers choose one: what they read and how busy they are."""

    person: User
    #: Reviews assigned and not yet submitted, across calls.
    waiting: int
    submitted: int
    #: Associations they declared a conflict of interest with.
    conflicts: int


def evaluator_directory(officer: User) -> list[EvaluatorLoad]:
    """Every active evaluator with their languages and current load, for the officers
    who assign reviews (three statements, however many evaluators)."""
    if not {PROGRAMME_OFFICER, ADMIN} & officer.role_names:
        raise Forbidden(_("Only programme officers and admins see the evaluators."))
    people = evaluators()
    counts: dict[tuple[int, str], int] = {
        (evaluator_id, state): count
        for evaluator_id, state, count in db.session.execute(
            select(Review.evaluator_id, Review.state, func.count(Review.id)).group_by(
                Review.evaluator_id, Review.state
            )
        )
    }
    conflicts = dict(
        db.session.execute(
            select(ConflictDeclaration.evaluator_id, func.count(ConflictDeclaration.id)).group_by(
                ConflictDeclaration.evaluator_id
            )
        ).all()
    )
    return [
        EvaluatorLoad(
            person,
            counts.get((person.id, "assigned"), 0),
            counts.get((person.id, "submitted"), 0),
            conflicts.get(person.id, 0),
        )
        for person in people
    ]


def propose_assignments(officer: User, call) -> assignment_plan.Proposal:
    """The automatic proposal for a call, computed but not saved."""
    if PROGRAMME_OFFICER not in officer.role_names:
        raise Forbidden(_("Only a programme officer assigns evaluators."))
    applications = eligible_for_review(call.id)
    people = evaluators()
    existing = [
        (review.application_id, review.evaluator_id)
        for application in applications
        for review in application.reviews
        if review.state != "conflicted"
    ]
    conflicts = db.session.execute(
        select(ConflictDeclaration.evaluator_id, ConflictDeclaration.association_id)
    ).all()
    return assignment_plan.propose(
        [assignment_plan.Target(a.id, a.association_id, a.language) for a in applications],
        [
            assignment_plan.Candidate(
                p.id,
                frozenset(p.languages or []),
                call.max_reviews_per_evaluator,
                frozenset(m.association_id for m in p.memberships),
            )
            for p in people
        ],
        per_application=call.evaluators_per_application,
        existing=existing,
        conflicts=[tuple(row) for row in conflicts],
    )


def save_proposal(officer: User, call, pairs: list[tuple[int, int]]) -> list[Review]:
    """Save the pairs the officer accepted; each is checked again as a manual assignment."""
    applications = {a.id: a for a in eligible_for_review(call.id)}
    people = {p.id: p for p in evaluators()}
    saved = []
    for application_id, evaluator_id in pairs:
        application, person = applications.get(application_id), people.get(evaluator_id)
        if application is None or person is None:
            raise InvalidInput(_("The proposal changed meanwhile; propose again."))
        saved.append(assign(officer, application, person))
    return saved


def start_review(officer: User, call) -> int:
    """Move every eligible application that has an evaluator into review (which makes
    each of its reviews due: ``workflows.application.give_reviews_due_dates``)."""
    if PROGRAMME_OFFICER not in officer.role_names:
        raise Forbidden(_("Only a programme officer starts the review."))
    started = 0
    for application in eligible_for_review(call.id):
        if application.state == "eligible" and any(
            review.state != "conflicted" for review in application.reviews
        ):
            fire(application, "start_review", officer)
            started += 1
    return started


def submit_review(evaluator: User, review: Review) -> None:
    """Submit a review; when it is the last one expected, the application's review is
    complete and the system moves it on (a history row says "system")."""
    fire(review, "submit", evaluator)
    application = review.application
    active = [r for r in application.reviews if r.state != "conflicted"]
    if application.state == "in_review" and active and all(r.state == "submitted" for r in active):
        fire(application, "complete_review", None)


def reviews_to_do(evaluator_id: int) -> int:
    """How many of the evaluator's reviews still wait for scores."""
    return db.session.scalar(reviews_to_do_statement(evaluator_id))


def reviews_to_do_statement(evaluator_id: int):
    """The count of the evaluator's reviews waiting for scores, as a statement: the page
    header asks it together with its other counts."""
    return select(func.count(Review.id)).where(
        Review.evaluator_id == evaluator_id, Review.state == "assigned"
    )


def complete_reviews(officer: User, call, application_ids: list[int]) -> int:
    """Complete the review of the chosen applications of the call, when an evaluator's
    review will not come: each through the application's lifecycle (at least one review
    must be in). All or none: one refusal completes nothing and says why, by application."""
    if not application_ids:
        chosen = _("Choose the applications whose review to complete.")
        raise InvalidInput(chosen, {"complete": [chosen]})
    applications = list(
        db.session.scalars(
            select(Application)
            .where(Application.call_id == call.id, Application.id.in_(application_ids))
            .order_by(Application.reference)
        )
    )
    problems: dict[str, list] = {}
    for missing in sorted(set(application_ids) - {a.id for a in applications}):
        problems[f"complete-{missing}"] = [_("This application is not one of the call's.")]
    options = allowed_for_many(applications, officer)
    for application in applications:
        option = next((o for o in options[application.id] if o.name == "complete_review"), None)
        if option is None:
            problems[f"complete-{application.id}"] = [
                _(
                    "%(reference)s is %(state)s: its review is not waiting to be completed.",
                    reference=application.reference,
                    state=state_label("application", application.state),
                )
            ]
        elif not option.allowed:
            problems[f"complete-{application.id}"] = [
                f"{application.reference}: {reason}" for reason in option.reasons
            ]
    if problems:
        raise InvalidInput(_("No review was completed; see each application below."), problems)
    for application in applications:
        fire(application, "complete_review", officer)
    return len(applications)


def review_for(person: User, review_id: int) -> Review:
    """A review the person may see (``policy.REVIEWS``): programme staff any, an
    evaluator their own; else 404."""
    return policy.REVIEWS.get(person, review_id)


def other_totals(review: Review) -> list:
    """Other evaluators' submitted totals, anonymous, for an evaluator who has submitted
    their own, when the call allows it; never before (no anchoring on others' scores)."""
    from grants.services.scoring_math import CriterionSpec, review_total

    call = review.application.call
    if review.state != "submitted" or call.hide_other_scores:
        return []
    criteria = [CriterionSpec(c.id, c.weight, c.scale_min, c.scale_max) for c in call.criteria]
    return [
        (
            review_total({s.criterion_id: s.score for s in other.scores}, criteria),
            other.recommendation,
        )
        for other in review.application.reviews
        if other.id != review.id and other.state == "submitted"
    ]
