"""The arithmetic behind the evaluation ranking: review totals, normalisation, ranking.

Pure functions on plain values (no database, no Flask), so the service layer and the tests
share one definition of every number an officer sees.

Why normalise. Each application is scored by a few evaluators, not by all of them, and
evaluators differ in how they use the scale: a harsh evaluator gives 40 where a lenient one
gives 70 to work of the same quality. With raw means, the applications that happened to be
given to the harsh evaluator sink, whatever their merit. So each evaluator's totals across
the call are standardised against that evaluator's own habits (a z-score: how far above or
below *their* mean, in units of *their* spread) and mapped back onto the 0–100 scale of the
whole call. What counts is then how an evaluator ranked an application among the ones they
read, not the level at which they score.

The choices:

* **Population standard deviation** (divide by n, not n - 1): the totals are every review
  the evaluator gave in the call, not a sample of them; with n - 1 a three-review evaluator's
  z-scores would be shrunk for no reason.
* **Mapped back with the pool's mean and spread** (all totals of all evaluators in the
  call): normalised values stay on the familiar 0–100 scale, comparable with raw totals, and
  are clamped to [0, 100] for the rare outlier that would fall outside.
* **Raw totals below MIN_REVIEWS_TO_NORMALISE reviews**: a mean and a spread from one or two
  totals say nothing about an evaluator's habits (with two, every z-score is ±1), so such an
  evaluator's totals are used as they are, as are those of an evaluator whose totals are all
  identical (no spread to divide by). ``raw_evaluators`` names them, for the page to say so.

Internally everything is ``Decimal`` in a fixed context (deterministic across machines);
every value returned is rounded to 2 places, half up. An application's normalised mean is
the mean of its unrounded normalised totals, rounded once; the ranking sorts on the rounded
values shown, so two applications that show the same mean are ordered by a visible rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, localcontext

from workflows.sentences import Sentence, _l

MIN_REVIEWS_TO_NORMALISE = 3
RECOMMENDATIONS = ("fund", "fund_with_conditions", "do_not_fund")
FUNDING = ("fund", "fund_with_conditions")
SORT_BY = ("normalised", "raw")

ZERO = Decimal(0)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
#: Working precision of every computation here, whatever the caller's decimal context.
CONTEXT = Context(prec=28, rounding=ROUND_HALF_EVEN)


def _round(value: Decimal) -> Decimal:
    """Rounded to 2 places, half up: the form of every number shown."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _mean(values: Sequence[Decimal]) -> Decimal:
    """The mean, summed in sorted order so that it never depends on the input's order."""
    return sum(sorted(values), ZERO) / len(values)


def _pstd(values: Sequence[Decimal]) -> Decimal:
    """Population standard deviation (divides by n)."""
    mean = _mean(values)
    return (sum(sorted((v - mean) ** 2 for v in values), ZERO) / len(values)).sqrt()


def _plain(value: Decimal) -> str:
    """A threshold as typed: 25, 12.5 (no exponent, no trailing zeros)."""
    return format(value.normalize(), "f")


def _points(value: Decimal) -> str:
    """A number of points to 2 places, keeping at least one decimal: 31.0, 31.5, 31.25."""
    text = format(_round(value), "f")
    return text[:-1] if text.endswith("0") else text


# --- One review --------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionSpec:
    """One line of the rubric: a weight in percent and an integer scale."""

    id: int
    weight: Decimal
    scale_min: int
    scale_max: int

    def __post_init__(self) -> None:
        if self.scale_max <= self.scale_min:
            raise ValueError(f"Criterion {self.id}: the scale must go upwards.")
        if Decimal(self.weight) < 0:
            raise ValueError(f"Criterion {self.id}: a weight cannot be negative.")


def review_total(scores: Mapping[int, int | None], criteria: Sequence[CriterionSpec]) -> Decimal:
    """The review's weighted total on 0–100: each score's position on its scale, weighted.

    ``sum(weight / 100 * (score - min) / (max - min)) * 100``, rounded to 2 places. Raises
    ``ValueError`` naming the criterion if a score is missing (or None), is not an integer,
    is outside its scale, or belongs to no criterion of the rubric; and if the weights do
    not add up to 100.
    """
    with localcontext(CONTEXT):
        weights = sum((Decimal(c.weight) for c in criteria), ZERO)
        if weights != HUNDRED:
            raise ValueError(f"The weights of the rubric add up to {_plain(weights)}, not 100.")
        known = {c.id for c in criteria}
        unknown = sorted(set(scores) - known)
        if unknown:
            raise ValueError(f"Score for criterion {unknown[0]}, which is not in the rubric.")
        total = ZERO
        for criterion in criteria:
            score = scores.get(criterion.id)
            if score is None:
                raise ValueError(f"Criterion {criterion.id} has no score.")
            if isinstance(score, bool) or not isinstance(score, int):
                raise ValueError(
                    f"Criterion {criterion.id}: the score {score!r} is not an integer."
                )
            if not criterion.scale_min <= score <= criterion.scale_max:
                raise ValueError(
                    f"Criterion {criterion.id}: the score {score} is outside its scale "
                    f"{criterion.scale_min}–{criterion.scale_max}."
                )
            span = criterion.scale_max - criterion.scale_min
            total += Decimal(criterion.weight) * (score - criterion.scale_min) / span
        return _round(total)


# --- Normalisation -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewPoint:
    """One submitted review, reduced to what the ranking needs."""

    evaluator_id: int
    application_id: int
    total: Decimal
    recommendation: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.total, Decimal):
            object.__setattr__(self, "total", Decimal(str(self.total)))
        if not ZERO <= self.total <= HUNDRED:
            raise ValueError(f"A total of {self.total} is outside 0–100.")
        if self.recommendation is not None and self.recommendation not in RECOMMENDATIONS:
            raise ValueError(f"Unknown recommendation {self.recommendation!r}.")


def _by_evaluator(points: Iterable[ReviewPoint]) -> dict[int, list[ReviewPoint]]:
    grouped: dict[int, list[ReviewPoint]] = defaultdict(list)
    seen: set[tuple[int, int]] = set()
    for point in points:
        key = (point.evaluator_id, point.application_id)
        if key in seen:
            raise ValueError(
                f"Evaluator {point.evaluator_id} has two reviews of application "
                f"{point.application_id}."
            )
        seen.add(key)
        grouped[point.evaluator_id].append(point)
    return grouped


def _keeps_raw(totals: Sequence[Decimal]) -> bool:
    return len(totals) < MIN_REVIEWS_TO_NORMALISE or len(set(totals)) == 1


def raw_evaluators(points: Sequence[ReviewPoint]) -> set[int]:
    """Evaluators whose totals are used raw: fewer than MIN_REVIEWS_TO_NORMALISE reviews in
    the call, or all their totals identical."""
    return {
        evaluator
        for evaluator, own in _by_evaluator(points).items()
        if _keeps_raw([p.total for p in own])
    }


def _normalised(points: Sequence[ReviewPoint]) -> dict[tuple[int, int], Decimal]:
    """Unrounded normalised totals by (evaluator_id, application_id)."""
    grouped = _by_evaluator(points)
    if not grouped:
        return {}
    with localcontext(CONTEXT):
        pool = [p.total for p in points]
        pool_mean, pool_std = _mean(pool), _pstd(pool)
        result: dict[tuple[int, int], Decimal] = {}
        for evaluator, own in grouped.items():
            totals = [p.total for p in own]
            if _keeps_raw(totals):
                for point in own:
                    result[evaluator, point.application_id] = point.total
                continue
            mean, std = _mean(totals), _pstd(totals)
            for point in own:
                value = pool_mean + pool_std * (point.total - mean) / std
                result[evaluator, point.application_id] = min(max(value, ZERO), HUNDRED)
        return result


def normalised_totals(points: Sequence[ReviewPoint]) -> dict[tuple[int, int], Decimal]:
    """Each total, normalised, by (evaluator_id, application_id), rounded to 2 places.

    An evaluator's totals become z-scores against their own mean and population standard
    deviation, then ``pool mean + z * pool std`` over all totals of the call, clamped to
    [0, 100]. See ``raw_evaluators`` for those whose totals are kept as they are.
    """
    return {key: _round(value) for key, value in _normalised(points).items()}


# --- Per application ---------------------------------------------------------------------


@dataclass(frozen=True)
class ApplicationScore:
    """What the ranking shows of one application's reviews."""

    application_id: int
    reviews: int = 0
    raw_mean: Decimal | None = None
    #: Population standard deviation of the totals: 0 with one review, None with none.
    std: Decimal | None = None
    low: Decimal | None = None
    high: Decimal | None = None
    normalised_mean: Decimal | None = None
    #: Evaluators of this application whose raw totals were used.
    raw_evaluators: tuple[int, ...] = ()
    disagreement: bool = False
    disagreement_reasons: tuple[Sentence, ...] = ()


def application_scores(
    points: Sequence[ReviewPoint], disagreement_threshold: Decimal = Decimal("25")
) -> dict[int, ApplicationScore]:
    """The scores of every application that has at least one review, by application id.

    Evaluators disagree when the totals range over more than ``disagreement_threshold``
    points, or when one recommends funding (with or without conditions) and another not.
    """
    normalised = _normalised(points)
    raw = raw_evaluators(points)
    by_application: dict[int, list[ReviewPoint]] = defaultdict(list)
    for point in points:
        by_application[point.application_id].append(point)
    threshold = Decimal(disagreement_threshold)
    result: dict[int, ApplicationScore] = {}
    with localcontext(CONTEXT):
        for application_id in sorted(by_application):
            own = by_application[application_id]
            totals = [p.total for p in own]
            low, high = min(totals), max(totals)
            reasons: list[Sentence] = []
            if high - low > threshold:
                reasons.append(
                    _l(
                        "Totals range over %(spread)s points (more than %(threshold)s).",
                        spread=_points(high - low),
                        threshold=_plain(threshold),
                    )
                )
            recommendations = {p.recommendation for p in own}
            if recommendations & set(FUNDING) and "do_not_fund" in recommendations:
                reasons.append(_l("Evaluators split between fund and do not fund."))
            mean_normalised = _mean([normalised[p.evaluator_id, application_id] for p in own])
            result[application_id] = ApplicationScore(
                application_id=application_id,
                reviews=len(own),
                raw_mean=_round(_mean(totals)),
                std=_round(_pstd(totals)),
                low=_round(low),
                high=_round(high),
                normalised_mean=_round(mean_normalised),
                raw_evaluators=tuple(sorted({p.evaluator_id for p in own} & raw)),
                disagreement=bool(reasons),
                disagreement_reasons=tuple(reasons),
            )
    return result


# --- Ranking -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RankedRow:
    """One line of the ranking, with the running total of the amounts requested."""

    rank: int
    application_id: int
    amount_requested: Decimal
    cumulative: Decimal
    within_envelope: bool
    score: ApplicationScore


def _sort_key(score: ApplicationScore, by: str) -> tuple:
    if not score.reviews or score.raw_mean is None:
        return (1, ZERO, ZERO, score.application_id)
    normalised = score.normalised_mean if score.normalised_mean is not None else score.raw_mean
    if by == "normalised":
        return (0, -normalised, -score.raw_mean, score.application_id)
    return (0, -score.raw_mean, -normalised, score.application_id)


def rank(
    scores: Mapping[int, ApplicationScore],
    amounts: Mapping[int, Decimal],
    envelope: Decimal,
    by: str = "normalised",
    funded: Mapping[int, Decimal] | None = None,
) -> list[RankedRow]:
    """The applications best first, with the funding line.

    Sorted by normalised mean (or raw mean with ``by="raw"``), descending; ties go to the
    higher raw mean (normalised mean when ``by="raw"``), then to the lower application id.
    Applications without reviews come last (by id); an application in ``amounts`` but not in
    ``scores`` counts as one. ``within_envelope`` is True while the cumulative amount
    requested stays within ``envelope``, and never for an application without reviews.
    ``funded`` are the applications already awarded, with the amount awarded: that amount
    is what the cumulative counts for them, and they are within the envelope wherever
    they rank (a committee may award one completed without reviews, or below another it
    did not fund). The funding line is ``funding_line(rows)``.
    """
    funded = funded or {}
    if by not in SORT_BY:
        raise ValueError(f"Unknown ranking {by!r}: use one of {', '.join(SORT_BY)}.")
    missing = sorted(set(scores) - set(amounts))
    if missing:
        raise ValueError(f"No amount requested for application {missing[0]}.")
    everything = dict(scores)
    for application_id in amounts:
        everything.setdefault(application_id, ApplicationScore(application_id=application_id))
    ordered = sorted(everything.values(), key=lambda score: _sort_key(score, by))
    rows: list[RankedRow] = []
    cumulative = ZERO
    fits = True
    with localcontext(CONTEXT):
        for position, score in enumerate(ordered, start=1):
            amount = Decimal(amounts[score.application_id])
            if amount < 0:
                raise ValueError(f"Application {score.application_id} requests a negative amount.")
            awarded = funded.get(score.application_id)
            cumulative += amount if awarded is None else Decimal(awarded)
            if awarded is None:
                fits = fits and bool(score.reviews) and cumulative <= envelope
            rows.append(
                RankedRow(
                    rank=position,
                    application_id=score.application_id,
                    amount_requested=amount,
                    cumulative=cumulative,
                    within_envelope=fits or awarded is not None,
                    score=score,
                )
            )
    return rows


def funding_line(rows: Sequence[RankedRow]) -> int | None:
    """The rank the funding line is drawn above: the first of the rows after which none
    is within the envelope, so that no awarded row ever falls below it; None when every
    row is within. A row above the line but not within it is one the envelope passed
    over (the page says so)."""
    line = None
    for row in reversed(rows):
        if row.within_envelope:
            break
        line = row.rank
    return line
