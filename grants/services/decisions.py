"""The committee's decisions on a call: awards, waiting list, rejections, in one go.

All outcomes of a meeting are recorded in one transaction through the application
machine. The call row is locked first (SELECT … FOR UPDATE on PostgreSQL), so two officers
recording decisions at once cannot together award more than the envelope; the set is
refused whole, saying by how much it exceeds it. Each award is created ``offered`` with its
tranches (the last one takes the rounding remainder, so they add up to the award exactly)
and its reports, both from the call's schedules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _
from sqlalchemy import select

from grants import text_limits as limits
from grants.extensions import db
from grants.models.accounts import User
from grants.models.applications import Application
from grants.models.awards import Award, Report, Tranche
from grants.models.calls import Call
from grants.models.reviews import Decision
from grants.roles import PROGRAMME_OFFICER
from grants.services import award_letters
from grants.services.errors import Forbidden, InvalidInput
from grants.services.workflow import fire

KINDS = ("award", "waitlist", "reject")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Outcome:
    application_id: int
    kind: str
    amount: Decimal | None = None
    conditions: str = ""
    feedback: str = ""
    #: Units of the budget currency per programme currency, when the budget is in another
    #: currency; fixed on the meeting's date.
    exchange_rate: Decimal | None = None


def tranche_amounts(amount: Decimal, percentages: list[Decimal]) -> list[Decimal]:
    """Split an award by the schedule; the last tranche takes the rounding remainder."""
    if not percentages:
        return [amount]
    shares = [(amount * p / 100).quantize(CENT, rounding=ROUND_HALF_UP) for p in percentages]
    shares[-1] = amount - sum(shares[:-1], Decimal("0"))
    return shares


def create_award(application: Application, outcome: Outcome, meeting: date) -> Award:
    call = application.call
    award = Award(
        application_id=application.id,
        association_id=application.association_id,
        amount=outcome.amount,
        currency=call.currency,
        conditions=outcome.conditions,
        state="offered",
    )
    if outcome.exchange_rate is not None:
        award.exchange_rate, award.exchange_rate_date = outcome.exchange_rate, meeting
    db.session.add(award)
    db.session.flush()
    start = application.start_date or meeting
    reports = {}
    for item in call.report_schedule or []:
        report = Report(
            award_id=award.id,
            kind=item["kind"],
            due_date=start + relativedelta(months=int(item["months"])),
        )
        db.session.add(report)
        reports[item["kind"]] = report
    db.session.flush()
    schedule = call.tranche_schedule or [{"percentage": "100", "after_report": None}]
    amounts = tranche_amounts(outcome.amount, [Decimal(t["percentage"]) for t in schedule])
    for position, (item, share) in enumerate(zip(schedule, amounts, strict=True), start=1):
        condition = reports.get(item.get("after_report") or "")
        db.session.add(
            Tranche(
                award_id=award.id,
                position=position,
                percentage=Decimal(item["percentage"]),
                amount=share,
                condition_report_id=condition.id if condition else None,
            )
        )
    db.session.flush()
    return award


def problems(
    call: Call, meeting_date: date | None, outcomes: list[Outcome]
) -> dict[str, list[str]]:
    """Everything wrong with a meeting's outcomes at once, by the field it concerns
    (``meeting_date``, ``outcomes``, ``amount-<id>``, ``rate-<id>``, ``text-<id>`` for the
    feedback, ``outcome-<id>``: the ranking page's fields);
    an empty dict when they can be recorded. Reads only."""
    errors: dict[str, list[str]] = {}
    if meeting_date is None:
        errors["meeting_date"] = [_("Give the date of the committee's meeting.")]
    if not outcomes:
        errors["outcomes"] = [_("Choose at least one application and its outcome.")]
        return errors
    applications = {
        a.id: a
        for a in db.session.scalars(
            select(Application).where(
                Application.call_id == call.id,
                Application.id.in_([o.application_id for o in outcomes]),
            )
        )
    }
    for outcome in outcomes:
        application = applications.get(outcome.application_id)
        key = outcome.application_id
        if application is None or outcome.kind not in KINDS:
            errors[f"outcome-{key}"] = [_("Unknown application or outcome.")]
            continue
        if outcome.kind == "award" and (outcome.amount is None or outcome.amount <= 0):
            errors[f"amount-{key}"] = [
                _("Give the amount awarded to %(reference)s.", reference=application.reference)
            ]
        if (
            outcome.kind == "award"
            and application.budget_currency not in (None, "", call.currency)
            and (outcome.exchange_rate is None or outcome.exchange_rate <= 0)
        ):
            errors[f"rate-{key}"] = [
                _(
                    "Give the exchange rate for %(reference)s: %(budget)s per %(currency)s "
                    "on the meeting's date.",
                    reference=application.reference,
                    budget=application.budget_currency,
                    currency=call.currency,
                )
            ]
        text = outcome.conditions if outcome.kind == "award" else outcome.feedback
        problem = limits.DECISION_TEXT.problem((text or "").strip())
        if problem:
            errors[f"text-{key}"] = [problem]
        if outcome.kind == "reject" and not outcome.feedback.strip():
            errors[f"text-{key}"] = [
                _(
                    "Give %(reference)s the feedback the association will read.",
                    reference=application.reference,
                )
            ]
    new = sum(
        (o.amount for o in outcomes if o.kind == "award" and o.amount and o.amount > 0),
        Decimal("0"),
    )
    already = call.awarded_total()
    if already + new > call.envelope:
        over = already + new - call.envelope
        errors["outcomes"] = [
            _(
                "These awards exceed the envelope of %(envelope)s %(currency)s by %(over)s "
                "%(currency)s (%(already)s already awarded).",
                envelope=f"{call.envelope:,.2f}",
                currency=call.currency,
                over=f"{over:,.2f}",
                already=f"{already:,.2f}",
            )
        ]
    return errors


def record(
    officer: User,
    call: Call,
    meeting_date: date | None,
    present: str,
    minutes: str,
    outcomes: list[Outcome],
) -> Decision:
    """Record a meeting's outcomes, all or nothing; refused with every problem at once."""
    if PROGRAMME_OFFICER not in officer.role_names:
        raise Forbidden(_("Only a programme officer records the committee's decisions."))
    db.session.execute(select(Call.id).where(Call.id == call.id).with_for_update())
    db.session.refresh(call)
    errors = problems(call, meeting_date, outcomes)
    errors.update(
        limits.problems(
            {"present": (present or "").strip(), "minutes": (minutes or "").strip()},
            {"present": limits.MEETING_PRESENT, "minutes": limits.MEETING_MINUTES},
        )
    )
    if any(outcome.kind == "award" for outcome in outcomes):
        # An award is offered only with a letter the programme's certificate can sign.
        try:
            award_letters.check_can_sign()
        except InvalidInput as refused:
            errors.setdefault("outcomes", []).extend(refused.errors["outcomes"])
    if errors:
        messages = [message for field in errors.values() for message in field]
        raise InvalidInput(
            messages[0] if len(messages) == 1 else _("Some decisions are incomplete."), errors
        )
    applications = {
        a.id: a
        for a in db.session.scalars(
            select(Application).where(
                Application.id.in_([o.application_id for o in outcomes]),
            )
        )
    }
    decision = Decision(
        call_id=call.id,
        meeting_date=meeting_date,
        present=present.strip(),
        minutes=minutes.strip(),
        recorded_by_id=officer.id,
    )
    db.session.add(decision)
    db.session.flush()
    for outcome in outcomes:
        application = applications[outcome.application_id]
        if outcome.kind == "award":
            fire(
                application,
                "award",
                officer,
                comment=outcome.conditions or None,
                amount=str(outcome.amount),
                decision=decision.id,
            )
            create_award(application, outcome, meeting_date)
        elif outcome.kind == "waitlist":
            fire(
                application,
                "waitlist",
                officer,
                comment=outcome.feedback or None,
                decision=decision.id,
            )
        else:
            fire(application, "reject", officer, comment=outcome.feedback, decision=decision.id)
    return decision
