"""The arithmetic of the evaluation ranking: totals, normalisation, disagreement, ranking.

Pure functions, no application: hand-computed cases (the arithmetic is in the comments)
and properties checked with hypothesis.
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from grants.services.scoring_math import (
    MIN_REVIEWS_TO_NORMALISE,
    ApplicationScore,
    CriterionSpec,
    ReviewPoint,
    application_scores,
    funding_line,
    normalised_totals,
    rank,
    raw_evaluators,
    review_total,
)

D = Decimal

#: The Senegal call's rubric: relevance 30, feasibility 25, impact 25, co-financing 10,
#: capacity 10, every criterion scored 0–5.
SENEGAL = [
    CriterionSpec(id=1, weight=D("30"), scale_min=0, scale_max=5),
    CriterionSpec(id=2, weight=D("25"), scale_min=0, scale_max=5),
    CriterionSpec(id=3, weight=D("25"), scale_min=0, scale_max=5),
    CriterionSpec(id=4, weight=D("10"), scale_min=0, scale_max=5),
    CriterionSpec(id=5, weight=D("10"), scale_min=0, scale_max=5),
]


def points(reviews: dict[int, dict[int, float | str]], recommendation=None) -> list[ReviewPoint]:
    """ReviewPoints from {evaluator: {application: total}}."""
    return [
        ReviewPoint(evaluator, application, D(str(total)), recommendation)
        for evaluator, totals in reviews.items()
        for application, total in totals.items()
    ]


# --- review_total ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        # 30·4/5 + 25·3/5 + 25·5/5 + 10·2/5 + 10·1/5 = 24 + 15 + 25 + 4 + 2
        ({1: 4, 2: 3, 3: 5, 4: 2, 5: 1}, "70.00"),
        # 30·3/5 + 25·4/5 + 25·2/5 + 10·5/5 + 10·3/5 = 18 + 20 + 10 + 10 + 6
        ({1: 3, 2: 4, 3: 2, 4: 5, 5: 3}, "64.00"),
        # 30·1/5 + 25·1/5 + 25·0 + 10·0 + 10·4/5 = 6 + 5 + 8
        ({1: 1, 2: 1, 3: 0, 4: 0, 5: 4}, "19.00"),
        ({1: 5, 2: 5, 3: 5, 4: 5, 5: 5}, "100.00"),
        ({1: 0, 2: 0, 3: 0, 4: 0, 5: 0}, "0.00"),
    ],
)
def test_review_total_on_the_senegal_rubric(scores, expected):
    total = review_total(scores, SENEGAL)
    assert total == D(expected)
    assert isinstance(total, Decimal) and total.as_tuple().exponent == -2


def test_review_total_on_another_scale_rounds_to_cents():
    rubric = [
        CriterionSpec(id=1, weight=D("40"), scale_min=1, scale_max=4),
        CriterionSpec(id=2, weight=D("30"), scale_min=1, scale_max=4),
        CriterionSpec(id=3, weight=D("30"), scale_min=1, scale_max=4),
    ]
    # 40·(2-1)/3 + 30·(3-1)/3 + 30·(4-1)/3 = 13.333… + 20 + 30 = 63.333…
    assert review_total({1: 2, 2: 3, 3: 4}, rubric) == D("63.33")
    # 40·2/3 + 30·2/3 + 0 = 26.666… + 20 = 46.666…
    assert review_total({1: 3, 2: 3, 3: 1}, rubric) == D("46.67")


def test_review_total_rounds_half_up():
    rubric = [
        CriterionSpec(id=1, weight=D("10.05"), scale_min=0, scale_max=2),
        CriterionSpec(id=2, weight=D("89.95"), scale_min=0, scale_max=2),
    ]
    # 10.05·1/2 = 5.025 exactly: half up gives 5.03 (half even would give 5.02).
    assert review_total({1: 1, 2: 0}, rubric) == D("5.03")


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ({1: 4, 2: 3, 4: 2, 5: 1}, "Criterion 3 has no score"),
        ({1: 4, 2: 3, 3: None, 4: 2, 5: 1}, "Criterion 3 has no score"),
        ({1: 4, 2: 6, 3: 5, 4: 2, 5: 1}, "Criterion 2: the score 6 is outside its scale 0–5"),
        ({1: -1, 2: 3, 3: 5, 4: 2, 5: 1}, "Criterion 1: the score -1 is outside"),
        ({1: 4, 2: 3, 3: 5, 4: 2.5, 5: 1}, "Criterion 4: the score 2.5 is not an integer"),
        ({1: 4, 2: 3, 3: 5, 4: 2, 5: 1, 9: 3}, "criterion 9, which is not in the rubric"),
    ],
)
def test_review_total_refuses_a_bad_score_naming_the_criterion(scores, message):
    with pytest.raises(ValueError, match=message):
        review_total(scores, SENEGAL)


def test_review_total_refuses_weights_that_do_not_add_up_to_100():
    rubric = [*SENEGAL[:4], CriterionSpec(id=5, weight=D("5"), scale_min=0, scale_max=5)]
    with pytest.raises(ValueError, match="add up to 95, not 100"):
        review_total({1: 1, 2: 1, 3: 1, 4: 1, 5: 1}, rubric)


def test_a_criterion_scale_must_go_upwards():
    with pytest.raises(ValueError, match="Criterion 7"):
        CriterionSpec(id=7, weight=D("10"), scale_min=5, scale_max=5)


# --- Normalisation: the hand-computed case -----------------------------------------------

#: Three evaluators, four applications, three reviews each. The fair evaluators 1 and 2
#: agree on quality: application 1 is worth 80, 2 is worth 70, 3 is worth 60, 4 is worth 50.
#: Evaluator 3 sees the same but scores everything 30 points lower, and happened to get
#: applications 1, 3 and 4.
HARSH = {
    1: {1: 80, 2: 70, 3: 60},
    2: {2: 70, 3: 60, 4: 50},
    3: {1: 50, 3: 30, 4: 20},
}


def test_raw_means_let_the_harsh_evaluator_sink_the_best_application():
    scores = application_scores(points(HARSH))
    # Application 1: (80 + 50) / 2 = 65; application 2: (70 + 70) / 2 = 70;
    # 3: (60 + 60 + 30) / 3 = 50; 4: (50 + 20) / 2 = 35.
    assert {a: s.raw_mean for a, s in scores.items()} == {
        1: D("65.00"),
        2: D("70.00"),
        3: D("50.00"),
        4: D("35.00"),
    }
    amounts = dict.fromkeys(scores, D("10000"))
    assert [row.application_id for row in rank(scores, amounts, D("20000"), by="raw")] == [
        2,
        1,
        3,
        4,
    ]


def test_normalised_means_restore_the_order_the_fair_evaluators_imply():
    # Pool: 80 70 60 70 60 50 50 30 20, sum 490, mean 490/9 = 54.4444;
    #   sum of squares 29700, variance 29700/9 − (490/9)² = 27200/81,
    #   population std √27200/9 = 40·√17/9 = 18.32491.
    # Evaluators 1 and 2 (x, x−10, x−20): mean x−10, std 10·√(2/3), so z = +√1.5, 0, −√1.5
    #   = +1.224745, 0, −1.224745 → 54.4444 + 18.32491·z = 76.88779, 54.44444, 32.00110.
    # Evaluator 3 (50 30 20): mean 100/3, deviations 50/3, −10/3, −40/3, std 10·√14/3,
    #   so z = 5/√14, −1/√14, −4/√14 = 1.336306, −0.267261, −1.069045
    #   → 54.4444 + 18.32491·z = 78.93214, 49.54691, 34.85429.
    assert normalised_totals(points(HARSH)) == {
        (1, 1): D("76.89"),
        (1, 2): D("54.44"),
        (1, 3): D("32.00"),
        (2, 2): D("76.89"),
        (2, 3): D("54.44"),
        (2, 4): D("32.00"),
        (3, 1): D("78.93"),
        (3, 3): D("49.55"),
        (3, 4): D("34.85"),
    }
    scores = application_scores(points(HARSH))
    # Application 1: (76.88779 + 78.93214) / 2 = 77.90996
    # Application 2: (54.44444 + 76.88779) / 2 = 65.66612
    # Application 3: (32.00110 + 54.44444 + 49.54691) / 3 = 45.33082
    # Application 4: (32.00110 + 34.85429) / 2 = 33.42769
    assert {a: s.normalised_mean for a, s in scores.items()} == {
        1: D("77.91"),
        2: D("65.67"),
        3: D("45.33"),
        4: D("33.43"),
    }
    amounts = dict.fromkeys(scores, D("10000"))
    assert [row.application_id for row in rank(scores, amounts, D("20000"))] == [1, 2, 3, 4]
    assert raw_evaluators(points(HARSH)) == set()


def test_application_statistics_of_the_hand_computed_case():
    scores = application_scores(points(HARSH))
    third = scores[3]
    # Totals 60, 60, 30: mean 50, population variance (100 + 100 + 400) / 3 = 200.
    assert (third.reviews, third.low, third.high) == (3, D("30.00"), D("60.00"))
    assert third.std == D("14.14")
    # Application 2: 70 and 70, no spread, no disagreement.
    assert (scores[2].std, scores[2].disagreement) == (D("0.00"), False)
    # Application 1: 80 and 50, a range of 30 points.
    assert scores[1].std == D("15.00")
    assert scores[1].disagreement_reasons == ("Totals range over 30.0 points (more than 25).",)


def test_evaluators_with_few_or_identical_totals_keep_raw_totals():
    reviews = {
        1: {1: 80, 2: 70, 3: 60},
        2: {1: 40, 4: 45},  # two reviews: too few to know their habits
        3: {2: 55, 3: 55, 4: 55},  # no spread to divide by
    }
    normalised = normalised_totals(points(reviews))
    assert raw_evaluators(points(reviews)) == {2, 3}
    assert normalised[2, 1] == D("40.00") and normalised[2, 4] == D("45.00")
    assert normalised[3, 2] == normalised[3, 3] == normalised[3, 4] == D("55.00")
    assert normalised[1, 1] != D("80.00")
    scores = application_scores(points(reviews))
    assert scores[1].raw_evaluators == (2,)
    assert scores[4].raw_evaluators == (2, 3)


def test_when_every_total_is_the_same_everything_is_the_pool_mean():
    reviews = {1: {1: 62.5, 2: 62.5, 3: 62.5}, 2: {1: 62.5, 2: 62.5, 3: 62.5}}
    assert set(normalised_totals(points(reviews)).values()) == {D("62.50")}
    scores = application_scores(points(reviews))
    assert {s.normalised_mean for s in scores.values()} == {D("62.50")}


def test_no_reviews_no_scores():
    assert normalised_totals([]) == {}
    assert application_scores([]) == {}
    assert raw_evaluators([]) == set()


def test_review_points_are_checked():
    with pytest.raises(ValueError, match="Unknown recommendation"):
        ReviewPoint(1, 1, D("50"), "maybe")
    with pytest.raises(ValueError, match="outside 0–100"):
        ReviewPoint(1, 1, D("100.01"))
    with pytest.raises(ValueError, match="Evaluator 1 has two reviews of application 2"):
        normalised_totals([ReviewPoint(1, 2, D("50")), ReviewPoint(1, 2, D("60"))])


# --- Normalisation: properties -----------------------------------------------------------

APPLICATIONS = range(1, 8)


@st.composite
def calls(draw, min_reviews: int = MIN_REVIEWS_TO_NORMALISE, low: int = 3000, high: int = 7000):
    """{evaluator: {application: total}}: 2–4 evaluators, each with distinct totals (in
    hundredths between ``low`` and ``high``) for at least ``min_reviews`` applications."""
    count = draw(st.integers(2, 4))
    reviews: dict[int, dict[int, Decimal]] = {}
    for evaluator in range(1, count + 1):
        applications = draw(
            st.lists(st.sampled_from(APPLICATIONS), min_size=min_reviews, max_size=7, unique=True)
        )
        cents = draw(
            st.lists(
                st.integers(low, high),
                min_size=len(applications),
                max_size=len(applications),
                unique=True,
            )
        )
        reviews[evaluator] = {a: D(c) / 100 for a, c in zip(applications, cents, strict=True)}
    return reviews


def as_points(reviews: dict[int, dict[int, Decimal]]) -> list[ReviewPoint]:
    return [ReviewPoint(e, a, t) for e, totals in reviews.items() for a, t in totals.items()]


def normalised_order(reviews: dict[int, dict[int, Decimal]]) -> list[int] | None:
    """Application ids by normalised mean; None when the comparison would say nothing
    (a value clamped, or two means within rounding of each other)."""
    review_points = as_points(reviews)
    if any(v in (D(0), D(100)) for v in normalised_totals(review_points).values()):
        return None
    scores = application_scores(review_points)
    means = sorted(s.normalised_mean for s in scores.values())
    if any(b - a < D("0.05") for a, b in zip(means, means[1:], strict=False)):
        return None
    return [row.application_id for row in rank(scores, dict.fromkeys(scores, D(1)), D(0))]


# Base totals are 30–70, so +/- 25 stays within 5–95 and ×0.6–1.4 within 18–98.
transforms = st.one_of(
    st.tuples(st.just("add"), st.integers(-25, 25).map(D)),
    st.tuples(st.just("multiply"), st.integers(6, 14).map(lambda k: D(k) / 10)),
)


@given(reviews=calls(), data=st.data(), transform=transforms)
def test_one_evaluators_scale_does_not_change_the_normalised_ranking(reviews, data, transform):
    evaluator = data.draw(st.sampled_from(sorted(reviews)))
    kind, amount = transform
    changed = dict(reviews)
    changed[evaluator] = {
        a: (t + amount if kind == "add" else t * amount) for a, t in reviews[evaluator].items()
    }
    before, after = normalised_order(reviews), normalised_order(changed)
    assume(before is not None and after is not None)
    assert before == after


@given(reviews=calls(min_reviews=1, low=0, high=10000))
def test_normalised_values_stay_within_0_and_100(reviews):
    review_points = as_points(reviews)
    values = normalised_totals(review_points)
    assert set(values) == {(p.evaluator_id, p.application_id) for p in review_points}
    assert all(D(0) <= v <= D(100) and v.as_tuple().exponent == -2 for v in values.values())
    for score in application_scores(review_points).values():
        assert D(0) <= score.normalised_mean <= D(100)
        assert score.low <= score.raw_mean <= score.high


@given(
    reviews=calls(),
    few=st.dictionaries(
        st.sampled_from(APPLICATIONS), st.integers(0, 10000), min_size=1, max_size=2
    ),
)
def test_an_evaluator_with_fewer_than_three_reviews_keeps_raw_totals(reviews, few):
    newcomer = max(reviews) + 1
    reviews = {**reviews, newcomer: {a: D(c) / 100 for a, c in few.items()}}
    review_points = as_points(reviews)
    assert newcomer in raw_evaluators(review_points)
    values = normalised_totals(review_points)
    for application, total in reviews[newcomer].items():
        assert values[newcomer, application] == total
    scores = application_scores(review_points)
    for application in few:
        assert newcomer in scores[application].raw_evaluators


@given(reviews=calls(min_reviews=1, low=0, high=10000), seed=st.integers(0, 2**32))
def test_the_order_of_the_reviews_changes_nothing(reviews, seed):
    review_points = as_points(reviews)
    shuffled = list(review_points)
    random.Random(seed).shuffle(shuffled)
    assert normalised_totals(shuffled) == normalised_totals(review_points)
    assert application_scores(shuffled) == application_scores(review_points)


# --- Disagreement ------------------------------------------------------------------------


def review(evaluator, total, recommendation=None, application=1):
    return ReviewPoint(evaluator, application, D(total), recommendation)


def test_disagreement_when_the_totals_range_over_the_threshold():
    scores = application_scores([review(1, "80"), review(2, "49"), review(3, "60")])
    assert scores[1].disagreement
    assert scores[1].disagreement_reasons == ("Totals range over 31.0 points (more than 25).",)
    assert (scores[1].low, scores[1].high) == (D("49.00"), D("80.00"))


def test_a_range_of_exactly_the_threshold_is_no_disagreement():
    scores = application_scores([review(1, "75"), review(2, "50")])
    assert not scores[1].disagreement and scores[1].disagreement_reasons == ()


def test_the_threshold_can_be_chosen():
    scores = application_scores([review(1, "72.25"), review(2, "50")], D("12.5"))
    assert scores[1].disagreement_reasons == ("Totals range over 22.25 points (more than 12.5).",)


@pytest.mark.parametrize("funding", ["fund", "fund_with_conditions"])
def test_disagreement_when_evaluators_split_on_funding(funding):
    scores = application_scores([review(1, "70", funding), review(2, "62", "do_not_fund")])
    assert scores[1].disagreement
    assert scores[1].disagreement_reasons == ("Evaluators split between fund and do not fund.",)


def test_both_reasons_together():
    scores = application_scores([review(1, "90", "fund"), review(2, "40", "do_not_fund")])
    assert scores[1].disagreement_reasons == (
        "Totals range over 50.0 points (more than 25).",
        "Evaluators split between fund and do not fund.",
    )


def test_no_disagreement_when_close_and_agreeing():
    scores = application_scores(
        [
            review(1, "70", "fund"),
            review(2, "62", "fund_with_conditions"),
            review(3, "66", None),
            review(1, "30", "do_not_fund", application=2),
            review(2, "35", None, application=2),
        ]
    )
    assert not scores[1].disagreement and scores[1].disagreement_reasons == ()
    assert not scores[2].disagreement


def test_one_review_has_no_spread():
    score = application_scores([review(1, "64.5", "fund")])[1]
    assert (score.reviews, score.raw_mean, score.std) == (1, D("64.50"), D("0.00"))
    assert score.normalised_mean == D("64.50") and score.raw_evaluators == (1,)


# --- Ranking -----------------------------------------------------------------------------


def scored(application_id, normalised, raw, reviews=3):
    return ApplicationScore(
        application_id=application_id,
        reviews=reviews,
        raw_mean=D(raw),
        std=D("0.00"),
        low=D(raw),
        high=D(raw),
        normalised_mean=D(normalised),
    )


def test_ties_go_to_the_higher_raw_mean_then_the_lower_id():
    scores = {
        4: scored(4, "70.00", "60.00"),
        2: scored(2, "70.00", "65.00"),
        9: scored(9, "70.00", "60.00"),
        7: scored(7, "71.00", "50.00"),
    }
    rows = rank(scores, dict.fromkeys(scores, D("1000")), D("1000000"))
    assert [row.application_id for row in rows] == [7, 2, 4, 9]
    assert [row.rank for row in rows] == [1, 2, 3, 4]


def test_by_raw_or_normalised():
    scores = {1: scored(1, "80.00", "60.00"), 2: scored(2, "70.00", "75.00")}
    amounts = dict.fromkeys(scores, D("1000"))
    assert [r.application_id for r in rank(scores, amounts, D("5000"))] == [1, 2]
    assert [r.application_id for r in rank(scores, amounts, D("5000"), by="raw")] == [2, 1]


def test_unknown_ranking_is_refused():
    with pytest.raises(ValueError, match="Unknown ranking 'median'"):
        rank({}, {}, D("1000"), by="median")


def test_unreviewed_applications_come_last_and_below_the_line():
    scores = {
        5: scored(5, "40.00", "40.00"),
        3: ApplicationScore(application_id=3),  # assigned, nothing submitted yet
        8: scored(8, "60.00", "60.00"),
    }
    amounts = {3: D("100"), 5: D("100"), 8: D("100"), 1: D("100")}  # 1: not in scores at all
    rows = rank(scores, amounts, D("1000000"))
    assert [row.application_id for row in rows] == [8, 5, 1, 3]
    assert [row.within_envelope for row in rows] == [True, True, False, False]
    assert rows[2].score.reviews == 0 and rows[2].score.normalised_mean is None


def test_cumulative_amounts_and_the_funding_line():
    scores = {a: scored(a, str(90 - a), str(90 - a)) for a in (1, 2, 3, 4, 5)}
    amounts = {1: D("30000"), 2: D("40000"), 3: D("10000"), 4: D("25000"), 5: D("5000")}
    rows = rank(scores, amounts, D("80000"))
    assert [row.application_id for row in rows] == [1, 2, 3, 4, 5]
    assert [row.cumulative for row in rows] == [
        D("30000"),
        D("70000"),
        D("80000"),  # exactly the envelope: still within
        D("105000"),
        D("110000"),
    ]
    assert [row.within_envelope for row in rows] == [True, True, True, False, False]
    assert rows[1].amount_requested == D("40000")


def test_ranking_needs_every_amount():
    with pytest.raises(ValueError, match="No amount requested for application 2"):
        rank({2: scored(2, "50", "50")}, {}, D("1000"))
    with pytest.raises(ValueError, match="negative amount"):
        rank({2: scored(2, "50", "50")}, {2: D("-1")}, D("1000"))


def test_an_empty_ranking():
    assert rank({}, {}, D("1000")) == []


def test_awarded_applications_are_within_and_above_the_funding_line():
    """An award is funded wherever it ranks: one completed without reviews (last), one
    below an application the envelope passed over; the cumulative counts the amount
    awarded. The line falls below the last row within the envelope."""
    scores = {
        1: scored(1, "90.00", "90.00"),
        2: scored(2, "80.00", "80.00"),
        3: scored(3, "70.00", "70.00"),
        4: ApplicationScore(application_id=4),  # completed without reviews, then awarded
        5: scored(5, "60.00", "60.00"),
    }
    amounts = {1: D("50000"), 2: D("40000"), 3: D("20000"), 4: D("10000"), 5: D("5000")}
    rows = rank(scores, amounts, D("80000"), funded={3: D("15000"), 4: D("10000")})
    assert [row.application_id for row in rows] == [1, 2, 3, 5, 4]
    assert [row.cumulative for row in rows] == [
        D("50000"),
        D("90000"),
        D("105000"),  # the 15,000 awarded, not the 20,000 requested
        D("110000"),
        D("120000"),
    ]
    assert [row.within_envelope for row in rows] == [True, False, True, False, True]
    assert funding_line(rows) is None  # the last row is an award: nothing falls below
    without_last_award = rank(scores, amounts, D("80000"), funded={3: D("15000")})
    assert funding_line(without_last_award) == 4  # above application 5, fourth
    assert funding_line(rank(scores, amounts, D("80000"))) == 2  # nobody awarded yet


def test_a_lone_award_without_reviews_has_no_line_above_it():
    rows = rank({}, {7: D("30000")}, D("240000"), funded={7: D("30000")})
    assert [(row.within_envelope, row.cumulative) for row in rows] == [(True, D("30000"))]
    assert funding_line(rows) is None
