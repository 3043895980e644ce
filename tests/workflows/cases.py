"""For each machine: how to build a record in a state, the data each transition needs,
and how to break each guard. The generated tests in test_machines.py read these."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from grants.extensions import db
from grants.models import Document, Question, QuestionSection, QuestionSet, Report
from tests.fixtures.people import give_verification_documents, make_association, make_user
from tests.fixtures.programme import (
    NOW,
    World,
    make_application,
    make_award,
    make_bank_change,
    make_call,
    make_report,
    make_review,
    make_tranche,
)
from workflows import MACHINES

TWO_STAGE_TRANSITIONS = {"submit_concept", "invite_proposal", "decline_concept", "submit_proposal"}
TWO_STAGE_STATES = {"concept_submitted", "concept_declined", "proposal_draft"}

Breaker = Callable[[Any, World], dict]


def _set(**values) -> Breaker:
    def breaker(entity, world):
        for path, value in values.items():
            target = entity
            *parents, name = path.split("__")
            for parent in parents:
                target = getattr(target, parent)
            setattr(target, name, value)
        return {}

    return breaker


class Case:
    entity: str

    def build(self, world: World, state: str, transition: str) -> Any:
        raise NotImplementedError

    def data(self, transition: str, entity: Any) -> dict:
        return {}

    def actor(self, world: World, role: str, transition: str) -> Any:
        return world.person(role)

    def outsider(self, world: World, transition: str) -> Any | None:
        """Someone with the right role but the wrong relation to the record."""
        return None

    breakers: dict[str, Breaker] = {}


class AssociationCase(Case):
    entity = "association"

    def build(self, world, state, transition):
        association = make_association(make_user("applicant"), state=state)
        give_verification_documents(association)
        return association

    breakers = {
        "registration_documents_present": lambda association, world: _remove_association_documents(
            association
        ),
    }


class CallCase(Case):
    entity = "call"

    def build(self, world, state, transition):
        return make_call(world, state=state)

    def data(self, transition, call):
        if transition == "extend_deadline":
            return {"closes_at": call.closes_at + timedelta(days=7)}
        return {}

    breakers = {
        "has_title_and_description": _set(title={}),
        "dates_are_coherent": _set(closes_at=NOW - timedelta(days=1)),
        "envelope_is_positive": _set(envelope=Decimal("0")),
        "grant_limits_are_coherent": _set(min_grant=Decimal("50000")),
        "rubric_weights_sum_to_100": lambda call, world: (
            setattr(call.criteria[0], "weight", Decimal("50")) or {}
        ),
        "requires_a_document": lambda call, world: (
            setattr(call.document_types[0], "required", False) or {}
        ),
        "deadline_reached": lambda call, world: {"system": True},
        "new_deadline_is_later": lambda call, world: {
            "closes_at": call.closes_at - timedelta(days=1)
        },
    }


def _remove_association_documents(association) -> dict:
    for document in db.session.scalars(
        select(Document).where(Document.association_id == association.id)
    ):
        db.session.delete(document)
    db.session.flush()
    return {}


def _remove_documents(application, world):
    for document in application.documents:
        db.session.delete(document)
    db.session.flush()
    db.session.expire(application, ["documents"])
    return {}


def _overdue_report(application, world):
    """A running grant of the same association whose interim report is long overdue."""
    award = make_award(world, state="active")
    award.reports[0].due_date = (NOW - timedelta(days=30)).date()
    db.session.flush()
    return {}


def _ask_a_required_question(application, world):
    """The call asks a required question of its own that the application leaves open."""
    question_set = QuestionSet(call_id=application.call_id, number=1)
    section = QuestionSection(position=1, title={"en": "Health"})
    section.questions.append(
        Question(
            position=1, key="district", kind="short_text", label={"en": "District"}, required=True
        )
    )
    question_set.sections.append(section)
    db.session.add(question_set)
    db.session.flush()
    application.question_set_id = question_set.id
    return {}


def _fill_envelope(application, world):
    other = make_application(world, application.call, state="awarded")
    other.amount_awarded = Decimal("230000")
    db.session.flush()
    return {}


class ApplicationCase(Case):
    entity = "application"

    def build(self, world, state, transition):
        two_stage = transition in TWO_STAGE_TRANSITIONS or state in TWO_STAGE_STATES
        call = make_call(world, two_stage=two_stage)
        application = make_application(world, call, state=state)
        if transition == "start_review":
            make_review(world, application, scored=False)
        if transition == "complete_review":
            make_review(world, application, state="submitted")
        db.session.expire(application, ["reviews"])
        return application

    def data(self, transition, application):
        data = {"award": {"amount": "30000"}, "withdraw": {"confirmed": "yes"}}.get(transition, {})
        recorded_with = MACHINES["application"].rules[transition].recorded_with
        # Decisions are fired by the committee's decision, which names itself.
        return {**data, recorded_with: 1} if recorded_with else data

    def outsider(self, world, transition):
        rule = MACHINES["application"].rules[transition]
        return world.outsider if rule.who else None

    breakers = {
        "call_is_open": _set(call__state="closed"),
        "deadline_not_passed": lambda a, w: {"now": a.call.closes_at + timedelta(seconds=1)},
        "proposal_deadline_not_passed": _set(call__proposal_closes_at=NOW - timedelta(days=1)),
        "single_stage_call": _set(call__two_stage=True),
        "two_stage_call": _set(call__two_stage=False),
        "association_may_submit": _set(association__state="pending"),
        "registration_country_allowed": _set(call__registration_countries=["BE"]),
        "project_country_allowed": _set(country="ML"),
        "no_overdue_report": _overdue_report,
        "eligibility_questions_answered": _set(
            call__eligibility_questions=[
                {"key": "q1", "text": {"en": "Are you a political party?"}, "excludes": "yes"}
            ]
        ),
        "required_fields_present": _set(objectives=""),
        "concept_fields_present": _set(summary=""),
        "required_documents_present": _remove_documents,
        "required_answers_present": _ask_a_required_question,
        "amount_within_limits": _set(amount_requested=Decimal("50000")),
        "cofinancing_share_reached": lambda a, w: (
            setattr(a.cofinancing[0], "amount", Decimal("100")) or {}
        ),
        "someone_is_assigned": lambda a, w: setattr(a.reviews[0], "state", "conflicted") or {},
        "reviews_are_in": lambda a, w: setattr(a.reviews[0], "state", "assigned") or {},
        "award_amount_valid": lambda a, w: {"amount": "32000.01"},
        "within_envelope": _fill_envelope,
    }


class ReviewCase(Case):
    entity = "review"

    def build(self, world, state, transition):
        application = make_application(world, make_call(world), state="in_review")
        return make_review(world, application, state=state)

    def outsider(self, world, transition):
        rule = MACHINES["review"].rules[transition]
        return make_user("evaluator") if rule.who else None

    breakers = {
        "every_criterion_scored": lambda r, w: setattr(r.scores[0], "score", None) or {},
        "extreme_scores_explained": lambda r, w: setattr(r.scores[0], "score", 5) or {},
        "has_recommendation": _set(recommendation=None),
    }


def _unfinished(award, world):
    award.tranches[0].state = "planned"
    return {}


class AwardCase(Case):
    entity = "award"

    def build(self, world, state, transition):
        award = make_award(world, state=state)
        if transition == "complete":
            for report in award.reports:
                report.state = "accepted"
            for tranche in award.tranches:
                tranche.state = "paid"
            db.session.flush()
        return award

    def data(self, transition, award):
        return {"letter_read": True} if transition == "accept" else {}

    def outsider(self, world, transition):
        rule = MACHINES["award"].rules[transition]
        return world.outsider if rule.who else None

    breakers = {
        "letter_acknowledged": _set(signatory_name=""),
        "acceptance_texts_fit": lambda award, world: {"bank_name": "B" * 201},
        "bank_details_given": _set(bic=""),
        "grant_is_finished": _unfinished,
    }


def _pending_report(tranche, world):
    report = Report(award=tranche.award, kind="interim", due_date=NOW.date(), state="scheduled")
    db.session.add(report)
    db.session.flush()
    tranche.condition_report = report
    return {}


class TrancheCase(Case):
    entity = "tranche"

    def build(self, world, state, transition):
        return make_tranche(world, state=state)

    def data(self, transition, tranche):
        if transition == "pay":
            return {
                "payment_date": NOW.date(),
                "bank_reference": "BNK-0001",
                "amount": str(tranche.amount),
            }
        return {}

    breakers = {
        "award_is_active": _set(award__state="suspended"),
        "report_condition_met": _pending_report,
        "within_remaining_balance": _set(amount=Decimal("40000")),
        "not_the_requester": lambda t, w: setattr(t, "requested_by_id", w.finance.id) or {},
        "not_approved_twice": lambda t, w: t.add_approval(w.finance.id, NOW) or {},
        "bank_details_settled": _set(award__bank_change_pending=True),
        "payment_matches": lambda t, w: {"amount": str(t.amount - 1)},
    }


def _overspent(report, world):
    """A budget line spent at twice its plan, with no explanation."""
    line = report.award.application.budget_lines[0]
    report.spending = [
        {"budget_line_id": line.id, "actual": str(line.total * 2), "explanation": ""}
    ]
    return {}


class ReportCase(Case):
    entity = "report"

    def build(self, world, state, transition):
        return make_report(world, state=state)

    def outsider(self, world, transition):
        rule = MACHINES["report"].rules[transition]
        return world.outsider if rule.who else None

    breakers = {
        "award_is_running": _set(award__state="completed"),
        "narrative_written": _set(activities=""),
        "spending_explained": _overspent,
    }


class BankChangeCase(Case):
    entity = "bank_change"

    def build(self, world, state, transition):
        return make_bank_change(world, state=state)

    def outsider(self, world, transition):
        rule = MACHINES["bank_change"].rules[transition]
        return world.outsider if rule.who else None

    breakers = {
        "award_is_active": _set(award__state="suspended"),
        "no_other_change_waits": _set(award__bank_change_pending=True),
        "award_still_pays": _set(award__state="completed"),
        "not_the_requester": lambda change, world: (
            setattr(change, "requested_by_id", world.finance.id) or {}
        ),
    }


CASES: dict[str, Case] = {
    case.entity: case
    for case in (
        AssociationCase(),
        CallCase(),
        ApplicationCase(),
        ReviewCase(),
        AwardCase(),
        TrancheCase(),
        ReportCase(),
        BankChangeCase(),
    )
}

__all__ = ["CASES", "Document"]
