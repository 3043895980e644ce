"""The ranking of a call: every submitted review loaded in one pass, totals, normalised
means, disagreement flags and the funding line, in a number of queries that does not
grow with the number of applications."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, lazyload

from grants.extensions import db
from grants.models.applications import Application
from grants.models.calls import Call
from grants.models.reviews import Review, Score
from grants.services import scoring_math
from grants.services.scoring_math import CriterionSpec, RankedRow, ReviewPoint

RANKED_STATES = ("in_review", "reviewed", "awarded", "waitlisted", "rejected")


@dataclass(frozen=True)
class Ranking:
    rows: list[RankedRow]
    applications: dict[int, Application]
    assigned: dict[int, int]
    raw_evaluators: set[int]
    by: str


def ranking(call: Call, by: str = "normalised") -> Ranking:
    """Three queries whatever the call's size: the applications (columns the page shows,
    nothing else loaded), every submitted score as plain rows, the assignment counts."""
    if by not in ("normalised", "raw"):
        by = "normalised"
    applications = {
        a.id: a
        for a in db.session.scalars(
            select(Application)
            .where(Application.call_id == call.id, Application.state.in_(RANKED_STATES))
            .options(lazyload("*"), joinedload(Application.association))
        )
    }
    rows = db.session.execute(
        select(
            Review.id,
            Review.application_id,
            Review.evaluator_id,
            Review.recommendation,
            Score.criterion_id,
            Score.score,
        )
        .join(Score, Score.review_id == Review.id)
        .join(Review.application)
        .where(Application.call_id == call.id, Review.state == "submitted")
        .order_by(Review.id)
    ).all()
    criteria = [CriterionSpec(c.id, c.weight, c.scale_min, c.scale_max) for c in call.criteria]
    reviews: dict[int, tuple[int, int, str | None, dict[int, int]]] = {}
    for review_id, application_id, evaluator_id, recommendation, criterion_id, score in rows:
        entry = reviews.setdefault(review_id, (application_id, evaluator_id, recommendation, {}))
        entry[3][criterion_id] = score
    points = [
        ReviewPoint(
            evaluator_id,
            application_id,
            scoring_math.review_total(scores, criteria),
            recommendation,
        )
        for application_id, evaluator_id, recommendation, scores in reviews.values()
        if application_id in applications
    ]
    scores = scoring_math.application_scores(points, call.disagreement_threshold)
    amounts = {a.id: a.amount_requested or Decimal("0") for a in applications.values()}
    assigned = dict(
        db.session.execute(
            select(Review.application_id, func.count(Review.id))
            .join(Review.application)
            .where(Application.call_id == call.id, Review.state != "conflicted")
            .group_by(Review.application_id)
        ).all()
    )
    return Ranking(
        rows=scoring_math.rank(scores, amounts, call.envelope, by=by),
        applications=applications,
        assigned=assigned,
        raw_evaluators=scoring_math.raw_evaluators(points),
        by=by,
    )
