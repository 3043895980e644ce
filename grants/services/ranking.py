"""The ranking of a call: every submitted review loaded in one pass, totals, normalised
means, disagreement flags and the funding line, in a number of queries that does not
grow with the number of applications."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from grants.extensions import db
from grants.models.applications import Application
from grants.models.calls import Call
from grants.models.reviews import Review
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
    if by not in ("normalised", "raw"):
        by = "normalised"
    applications = {
        a.id: a
        for a in db.session.scalars(
            select(Application)
            .where(Application.call_id == call.id, Application.state.in_(RANKED_STATES))
            .options(selectinload(Application.reviews).selectinload(Review.scores))
        )
    }
    criteria = [CriterionSpec(c.id, c.weight, c.scale_min, c.scale_max) for c in call.criteria]
    points = [
        ReviewPoint(
            review.evaluator_id,
            application.id,
            scoring_math.review_total({s.criterion_id: s.score for s in review.scores}, criteria),
            review.recommendation,
        )
        for application in applications.values()
        for review in application.reviews
        if review.state == "submitted"
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
