"""One evaluator's review of one application. Creating it is assigning."""

from __future__ import annotations

from typing import Any

from workflows.base import PRIMARY, Context, Lifecycle, State, rule
from workflows.rules import own_assignment
from workflows.sentences import Names, Sentence, _l

EVALUATOR = "evaluator"
OFFICER = "programme_officer"


def every_criterion_scored(review: Any, ctx: Context) -> Sentence | None:
    scored = {score.criterion_id for score in review.scores if score.score is not None}
    missing = [
        criterion.text("name", review.application.call.language)
        for criterion in review.application.call.criteria
        if criterion.id not in scored
    ]
    if missing:
        return _l("Score every criterion first; missing: %(names)s.", names=Names(missing))
    return None


def extreme_scores_explained(review: Any, ctx: Context) -> Sentence | None:
    criteria = {criterion.id: criterion for criterion in review.application.call.criteria}
    unexplained = []
    for score in review.scores:
        criterion = criteria.get(score.criterion_id)
        if criterion is None or score.score is None:
            continue
        extreme = score.score in (criterion.scale_min, criterion.scale_max)
        if extreme and not (score.comment or "").strip():
            unexplained.append(criterion.text("name", review.application.call.language))
    if unexplained:
        return _l(
            "Explain the lowest and highest scores in a comment: %(names)s.",
            names=Names(unexplained),
        )
    return None


def has_recommendation(review: Any, ctx: Context) -> Sentence | None:
    if not review.recommendation:
        return _l("Give an overall recommendation: fund, fund with conditions, or do not fund.")
    return None


def record_submission(review: Any, ctx: Context) -> None:
    review.submitted_at = ctx.now


def record_conflict(review: Any, ctx: Context) -> None:
    review.conflict_declared_at = ctx.now


class ReviewLifecycle(Lifecycle):
    entity = "review"
    title = "a review"

    assigned = State("Assigned", initial=True, value="assigned")
    conflicted = State("Conflict declared", value="conflicted", final=True)
    submitted = State("Submitted", value="submitted")

    declare_conflict = assigned.to(conflicted)
    submit = assigned.to(submitted)
    reopen = submitted.to(assigned)

    _own = dict(who=own_assignment, who_fails=_l("This review is assigned to someone else."))

    next_steps = {
        "submitted": _l("The scores count in the ranking."),
        "conflicted": _l("The programme office assigns another evaluator."),
        "assigned": _l("The evaluator can change the scores and submit them again."),
    }

    rules = {
        "declare_conflict": rule(
            EVALUATOR,
            comment_required=True,
            comment_label="reason",
            effect=record_conflict,
            summary=_l("The evaluator loses access at once."),
            **_own,
        ),
        "submit": rule(
            EVALUATOR,
            guards=(every_criterion_scored, extreme_scores_explained, has_recommendation),
            effect=record_submission,
            **_own,
            tone=PRIMARY,
        ),
        "reopen": rule(OFFICER, comment_required=True),
    }
