"""The ranking of a call: totals, normalised means, disagreement flags and the funding line.

Computing it reads every submitted score of the call (30,000 rows for 2,000 applications),
so it is computed when the call's reviews change, not on every view: each change to a
review, a score, a ranked application, a criterion, the call itself or the name of an
association it ranks gives the call a new ``ranking_stamp`` in the same flush, and a
computed ranking is kept (per process, a few calls at a time) under its stamp. A view
reads the stamp (one indexed row), takes the kept ranking or computes it, and loads only
the applications of the page it shows, when it reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from math import ceil
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session, joinedload, lazyload, load_only

from grants.extensions import db
from grants.kept import Keeper
from grants.models.accounts import User
from grants.models.applications import Application
from grants.models.associations import Association
from grants.models.calls import Call, Criterion, new_ranking_stamp
from grants.models.reviews import Review, Score
from grants.policy import PROGRAMME
from grants.services import scoring_math
from grants.services.errors import Forbidden
from grants.services.scoring_math import CriterionSpec, RankedRow, ReviewPoint

RANKED_STATES = ("in_review", "reviewed", "awarded", "waitlisted", "rejected")
#: Rankings kept per process: the calls being decided at the same time.
KEPT = 16
PER_PAGE = 100


@dataclass(frozen=True)
class Computed:
    """What a ranking costs to compute, kept under the call's stamp."""

    rows: list[RankedRow]
    assigned: dict[int, int]
    raw_evaluators: frozenset[int]
    #: The rank the funding line is drawn above (None: every row is within the envelope).
    line_before: int | None = None
    #: How many of the call's applications wait for their review to be completed.
    in_review: int = 0
    #: Each ranked application's state.
    states: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Ranking:
    rows: list[RankedRow]
    assigned: dict[int, int]
    raw_evaluators: frozenset[int]
    by: str
    page: int = 1
    pages: int = 1
    line_before: int | None = None
    #: The call's ranking stamp it was computed under: what a page kept beside it depends on.
    stamp: str = ""
    #: How many of the call's applications wait for their review to be completed: the
    #: ranking offers no decision on them until it is.
    in_review: int = 0
    #: Each ranked application's state, as the ranking was computed.
    states: dict[int, str] = field(default_factory=dict)

    @cached_property
    def applications(self) -> dict[int, Application]:
        """The rows' applications, loaded when first read: a page whose rows are kept
        rendered needs none of them."""
        return _applications([row.application_id for row in self.rows])

    # The pager's words (see the ``pager`` macro).
    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


_kept: Keeper[Computed] = Keeper(KEPT)


def check_may_see(person: User) -> None:
    """Those who decide or oversee see the ranking: programme officers, admins."""
    if not PROGRAMME & person.role_names:
        raise Forbidden(_("Only programme officers and admins see the ranking."))


def ranking_for(person: User, call: Call, by: str = "normalised", page: int | None = 1) -> Ranking:
    """A page of the ranking (every row with ``page=None``, for its file) for those who
    may see it."""
    check_may_see(person)
    return ranking(call, by, page)


def ranking(call: Call, by: str = "normalised", page: int | None = None) -> Ranking:
    """The call's ranking; one page of ``PER_PAGE`` rows when ``page`` is given, every
    row otherwise (exports). One query when the ranking is kept, four when not, and one
    more when its applications are read."""
    if by not in scoring_math.SORT_BY:
        by = "normalised"
    stamp = db.session.scalar(select(Call.ranking_stamp).where(Call.id == call.id)) or ""
    computed = _kept.get((call.id, stamp, by), lambda: _compute(call, by)).value
    rows, pages = computed.rows, 1
    if page is not None:
        pages = max(ceil(len(rows) / PER_PAGE), 1)
        page = min(max(page, 1), pages)
        rows = rows[(page - 1) * PER_PAGE : page * PER_PAGE]
    return Ranking(
        rows=rows,
        assigned=computed.assigned,
        raw_evaluators=computed.raw_evaluators,
        by=by,
        page=page or 1,
        pages=pages,
        line_before=computed.line_before,
        stamp=stamp,
        in_review=computed.in_review,
        states=computed.states,
    )


#: What the page, its files and the API show of a ranked application: not its texts,
#: nor the JSON columns the driver would decode for every row.
SHOWN = (
    Application.reference,
    Application.association_id,
    Application.country,
    Application.state,
    Application.amount_requested,
    Application.budget_currency,
)


def _applications(ids: list[int]) -> dict[int, Application]:
    if not ids:
        return {}
    return {
        a.id: a
        for a in db.session.scalars(
            select(Application)
            .where(Application.id.in_(ids))
            .options(
                lazyload("*"),
                load_only(*SHOWN),
                joinedload(Application.association).load_only(Association.name),
            )
        )
    }


def _compute(call: Call, by: str) -> Computed:
    """Every submitted score as plain rows, the amounts and the assignment counts."""
    amounts: dict[int, Decimal] = {}
    funded: dict[int, Decimal] = {}
    states: dict[int, str] = {}
    for application_id, amount, state, awarded in db.session.execute(
        select(
            Application.id,
            Application.amount_requested,
            Application.state,
            Application.amount_awarded,
        ).where(Application.call_id == call.id, Application.state.in_(RANKED_STATES))
    ):
        amounts[application_id] = amount or Decimal("0")
        states[application_id] = state
        if state == "awarded":
            funded[application_id] = awarded if awarded is not None else amounts[application_id]
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
        if application_id in amounts
    ]
    scores = scoring_math.application_scores(points, call.disagreement_threshold)
    assigned = dict(
        db.session.execute(
            select(Review.application_id, func.count(Review.id))
            .join(Review.application)
            .where(Application.call_id == call.id, Review.state != "conflicted")
            .group_by(Review.application_id)
        ).all()
    )
    ranked = scoring_math.rank(scores, amounts, call.envelope, by=by, funded=funded)
    return Computed(
        rows=ranked,
        assigned=assigned,
        raw_evaluators=frozenset(scoring_math.raw_evaluators(points)),
        line_before=scoring_math.funding_line(ranked),
        in_review=sum(state == "in_review" for state in states.values()),
        states=states,
    )


# --- the stamp ---------------------------------------------------------------------------


def _changed(instance: Any) -> bool:
    """Whether a changed record can move the ranking: a draft saved changes nothing."""
    if isinstance(instance, Application):
        history = db.inspect(instance).attrs.state.history
        return instance.state in RANKED_STATES or history.has_changes()
    return isinstance(instance, Review | Score | Criterion)


def _call_id(instance: Any) -> int | None:
    if isinstance(instance, Application | Criterion):
        return instance.call_id or (instance.call.id if instance.call else None)
    review = instance.review if isinstance(instance, Score) else instance
    if review is None:
        return None
    application = review.application or (
        db.session.get(Application, review.application_id) if review.application_id else None
    )
    return application.call_id if application is not None else None


@event.listens_for(Session, "before_flush")
def _restamp(session: Session, _context, _instances) -> None:
    """A new stamp for every call whose ranking this flush can move, or whose page shows
    the name of an association renamed."""
    calls: set[int] = set()
    renamed: set[int] = set()
    with session.no_autoflush:
        for instance in (*session.new, *session.dirty, *session.deleted):
            if isinstance(instance, Association):
                if (
                    instance in session.dirty
                    and db.inspect(instance).attrs.name.history.has_changes()
                ):
                    renamed.add(instance.id)
                continue
            if isinstance(instance, Call):
                if instance in session.dirty and session.is_modified(instance):
                    instance.ranking_stamp = new_ranking_stamp()
                continue
            if _changed(instance):
                call_id = _call_id(instance)
                if call_id is not None:
                    calls.add(call_id)
        if renamed:
            calls.update(
                session.scalars(
                    select(Application.call_id)
                    .where(
                        Application.association_id.in_(sorted(renamed)),
                        Application.state.in_(RANKED_STATES),
                    )
                    .distinct()
                )
            )
    table = Call.__table__
    for call_id in sorted(calls):
        session.connection().execute(
            update(table).where(table.c.id == call_id).values(ranking_stamp=new_ranking_stamp())
        )
