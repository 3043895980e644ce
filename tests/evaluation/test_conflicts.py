"""Assignment rules, conflicts of interest and saving scores, at the service level."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import ConflictDeclaration, HistoryEntry, Membership, Score
from grants.services import evaluation
from grants.services.errors import Conflict, InvalidInput, NotFound
from grants.services.workflow import fire
from tests.fixtures.people import make_user
from tests.fixtures.programme import make_application, make_call


@pytest.fixture
def eligible(world):
    call = make_call(world)
    return make_application(world, call, state="eligible")


def test_assignment_refuses_members_conflicts_and_duplicates(world, eligible):
    member = make_user("evaluator")
    db.session.add(Membership(user_id=member.id, association_id=eligible.association_id))
    db.session.flush()
    db.session.expire(member, ["memberships"])
    with pytest.raises(InvalidInput, match="member of the applying association"):
        evaluation.assign(world.officer, eligible, member)
    review = evaluation.assign(world.officer, eligible, world.evaluator)
    assert review.state == "assigned"
    with pytest.raises(Conflict, match="already assigned"):
        evaluation.assign(world.officer, eligible, world.evaluator)
    with pytest.raises(InvalidInput, match="is not an evaluator"):
        evaluation.assign(world.officer, eligible, world.applicant)
    draft = make_application(world, eligible.call)
    with pytest.raises(Conflict, match="eligible applications"):
        evaluation.assign(world.officer, draft, make_user("evaluator"))


def test_a_conflict_covers_every_application_of_the_association(world, eligible):
    other = make_application(world, eligible.call, state="eligible")
    first = evaluation.assign(world.officer, eligible, world.evaluator)
    second = evaluation.assign(world.officer, other, world.evaluator)
    evaluation.attest_no_conflict(world.evaluator, second)
    assert evaluation.may_read_application(world.evaluator, other)

    withdrawn = evaluation.declare_conflict(world.evaluator, first, "I sit on its board.")
    assert {r.id for r in withdrawn} == {first.id, second.id}
    assert first.state == second.state == "conflicted"
    declaration = db.session.scalars(select(ConflictDeclaration)).one()
    assert (declaration.association_id, declaration.reason) == (
        eligible.association_id,
        "I sit on its board.",
    )
    assert not evaluation.may_read_application(world.evaluator, other)
    for review in (first, second):
        with pytest.raises(NotFound):
            evaluation.own_review(world.evaluator, review.id)
    # A later application of the same association cannot be given to them either.
    third = make_application(world, eligible.call, state="eligible")
    with pytest.raises(InvalidInput, match="declared a conflict"):
        evaluation.assign(world.officer, third, world.evaluator)
    assert (
        db.session.scalar(
            select(func.count(HistoryEntry.id)).where(HistoryEntry.transition == "declare_conflict")
        )
        == 2
    )


def test_a_conflict_needs_a_reason_and_changes_nothing_without_one(world, eligible):
    review = evaluation.assign(world.officer, eligible, world.evaluator)
    from workflows.errors import GuardFailed

    with pytest.raises(GuardFailed, match="A reason is required."):
        evaluation.declare_conflict(world.evaluator, review, "  ")
    assert review.state == "assigned"
    assert db.session.scalar(select(func.count(ConflictDeclaration.id))) == 0


def test_scores_are_saved_after_the_attestation_then_submitted(world, eligible):
    review = evaluation.assign(world.officer, eligible, world.evaluator)
    relevance, feasibility = eligible.call.criteria
    with pytest.raises(Conflict, match="no conflict of interest first"):
        evaluation.save_scores(world.evaluator, review, {relevance.id: (3, "")}, "fund")
    evaluation.attest_no_conflict(world.evaluator, review)
    with pytest.raises(InvalidInput) as refused:
        evaluation.save_scores(
            world.evaluator, review, {relevance.id: (9, ""), feasibility.id: (2, "")}, "maybe"
        )
    assert set(refused.value.errors) == {f"score-{relevance.id}", "recommendation"}
    assert db.session.scalar(select(func.count(Score.id))) == 0
    evaluation.save_scores(
        world.evaluator,
        review,
        {relevance.id: (5, "Exactly what Thiès needs."), feasibility.id: (3, "")},
        "fund",
    )
    eligible.state = "in_review"
    fire(review, "submit", world.evaluator)
    assert review.state == "submitted"
    with pytest.raises(Conflict, match="can no longer be changed"):
        evaluation.save_scores(world.evaluator, review, {relevance.id: (1, "")}, "do_not_fund")
