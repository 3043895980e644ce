"""Awards seen by people: who may see one, the award letter, acceptance, the timeline,
and the report's contents (spending against the budget, indicators, co-financing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from grants import policy
from grants import text_limits as limits
from grants.extensions import db
from grants.labels import state_label
from grants.minus_sign import is_negative, minus_in_front
from grants.models.accounts import User
from grants.models.applications import Application
from grants.models.awards import Award, Report
from grants.numbers import NumberRefused, read_number
from grants.services.associations import STAFF_ROLES, is_member
from grants.services.errors import Forbidden, GuardFailed, InvalidInput, NotFound
from grants.services.workflow import context, fire, history_of, machine_for
from workflows.report import period_share, spending_lines

STAFF = STAFF_ROLES
SECTIONS = ("activities", "results", "difficulties", "next_steps", "spending", "indicators")
#: The report's narrative: what the association writes, section by section.
NARRATIVE = ("activities", "results", "difficulties", "next_steps")


def visible_award(person: User, award_id: int) -> Award:
    """An award the person may see (``policy.AWARDS``), else 404."""
    return policy.AWARDS.get(person, award_id)


def visible_report(person: User, award_id: int, report_id: int) -> Report:
    award = visible_award(person, award_id)
    report = db.session.get(Report, report_id)
    if report is None or report.award_id != award.id:
        raise NotFound(_("No such report."))
    return report


def report_taking_documents(person: User, award_id: int, report_id: int) -> Report:
    """A report the person may add documents to: one of its association's members, while
    it is not yet submitted (or sent back for changes)."""
    report = visible_report(person, award_id, report_id)
    if not is_member(person, report.award.application.association):
        raise Forbidden(_("Only members of the association add documents to its reports."))
    if report.state not in ("scheduled", "changes_requested"):
        raise InvalidInput(
            _("This report is submitted; its documents can no longer change."),
            {"report": [_("The report is submitted.")]},
        )
    return report


def awards_for(person: User, state: str = "", page: int = 1):
    statement = (
        select(Award)
        .join(Application, Application.id == Award.application_id)
        .order_by(Award.offered_at.desc(), Award.id.desc())
    )
    condition = policy.AWARDS.condition(person)
    if condition is not None:
        statement = statement.where(condition)
    if state:
        statement = statement.where(Award.state == state)
    return db.paginate(statement, page=page, per_page=25, error_out=False)


# --- the award letter --------------------------------------------------------------------


def letter_language(award: Award, requested: str | None, fallback: str) -> str:
    from grants.models.accounts import LOCALES

    if requested in LOCALES:
        return requested
    for language in award.application.association.working_languages or []:
        if language in LOCALES:
            return language
    return fallback


def award_letter(award: Award, locale: str) -> bytes:
    """The signed letter in ``locale``, as issued (``award_letters.issue``): the same bytes
    every time, those whose SHA-256 acceptance records."""
    from grants.services import award_letters

    return award_letters.letter_bytes(award_letters.issue(award, locale))


def award_letter_unsigned(award: Award, locale: str) -> bytes:
    """The letter in ``locale`` from the award as offered, before it is signed."""
    from grants.letters import AwardLetter, LetterReport, LetterTranche, render_award_letter
    from grants.services import award_letters

    application = award.application
    call = application.call
    association = application.association
    reports = {r.id: r.kind for r in award.reports}
    letter = AwardLetter(
        programme=current_app.config["PROGRAMME_NAME"],
        reference=application.reference or "",
        call_title=call.text("title", locale),
        association_name=association.name,
        association_country=association.residence_country,
        amount=award.amount,
        currency=award.currency,
        budget_currency=application.budget_currency,
        exchange_rate=award.exchange_rate,
        exchange_rate_date=award.exchange_rate_date,
        conditions=award.conditions or "",
        offered_on=award.offered_at.date(),
        start_date=application.start_date,
        duration_months=application.duration_months,
        tranches=tuple(
            LetterTranche(
                t.position, t.percentage, t.amount, reports.get(t.condition_report_id or 0)
            )
            for t in award.tranches
        ),
        reports=tuple(LetterReport(r.kind, r.due_date) for r in award.reports),
        check_url=current_app.config["BASE_URL"].rstrip("/") + award_letters.CHECK_PATH,
    )
    return render_award_letter(letter, locale)


# --- acceptance ----------------------------------------------------------------------------


def accept(
    member: User,
    award: Award,
    form: dict[str, Any],
    now: datetime | None = None,
    letter_locale: str | None = None,
) -> None:
    """Accept the offer: the letter read, the signatory, valid bank details (the award
    lifecycle's ``accept`` says what it requires and accepts); recorded with the address,
    the user agent and the SHA-256 of the letter read, the one ``letter_locale`` (by
    default the association's language, else the member's) serves.

    The letter is issued first when nobody opened it yet; when it cannot be signed the
    acceptance is refused (``LettersCannotBeSigned``) and nothing changes."""
    from grants.services import award_letters

    too_long = limits.problems(form, {**limits.SIGNATORY, **limits.BANK_DETAILS})
    if too_long:
        raise InvalidInput(next(iter(too_long.values()))[0], too_long)
    machine_for(award).check("accept", award, context(member, now=now, data=form), award.state)
    locale = letter_language(award, letter_locale, member.locale or "en")
    letter = award_letters.issue(award, locale, now=now)
    fire(award, "accept", member, now=now, **form)
    award_letters.record_acceptance(member, award, letter)


# --- the timeline ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Moment:
    when: date | datetime | None
    what: str
    done: bool
    detail: str = ""


def timeline(award: Award) -> list[Moment]:
    """Awarded, accepted, each tranche, each report, in order; what is next is the first
    moment not done."""
    moments = [Moment(award.offered_at, _("Grant offered"), True)]
    if award.accepted_at:
        moments.append(
            Moment(award.accepted_at, _("Accepted by %(name)s", name=award.signatory_name), True)
        )
    elif award.state == "offered":
        moments.append(Moment(None, _("Accept the offer"), False))
    for report in award.reports:
        label = _("Interim report") if report.kind == "interim" else _("Final report")
        moments.append(
            Moment(
                report.accepted_at or report.due_date,
                label,
                report.state == "accepted",
                state_label("report", report.state),
            )
        )
    for tranche in award.tranches:
        moments.append(
            Moment(
                tranche.paid_at or tranche.requested_at,
                _("Tranche %(position)s", position=tranche.position),
                tranche.state in ("paid", "cancelled"),
                state_label("tranche", tranche.state),
            )
        )
    if award.state == "completed":
        completed = [h for h in history_of(award) if h.transition == "complete"]
        moments.append(
            Moment(completed[-1].created_at if completed else None, _("Grant completed"), True)
        )

    def key(moment: Moment):
        when = moment.when
        if when is None:
            return (1, date.max)
        return (0, when.date() if isinstance(when, datetime) else when)

    return sorted(moments, key=key)


def next_due(moments: list[Moment]) -> Moment | None:
    return next((m for m in moments if not m.done), None)


# --- the report's contents -------------------------------------------------------------


def _decimal(raw: Any, locale: Any, negative: str) -> Decimal | None:
    """An amount or count written in a report in ``locale``; None when left empty.

    A negative number is refused with ``negative``, the sentence that names what it
    is (an amount spent cannot be negative), however the minus sign was typed."""
    if str(raw if raw is not None else "").strip() == "":
        return None
    if isinstance(raw, str) and is_negative(raw):
        try:
            read_number(minus_in_front(raw)[1:], locale)
        except NumberRefused:
            pass  # not a number either: said below
        else:
            raise NumberRefused(negative)
    try:
        return read_number(raw, locale).quantize(Decimal("0.01"))
    except NumberRefused:
        if isinstance(raw, int | float | Decimal) and not isinstance(raw, bool) and raw < 0:
            raise NumberRefused(negative) from None
        raise


def spending_rows(report: Report) -> list[dict[str, Any]]:
    """The report's spending per budget line, as the report machine judges it."""
    return spending_lines(report)


def report_period_share(report: Report) -> Decimal:
    """The share of the budget the report answers for (1 for a final report)."""
    return period_share(report)


def save_report(member: User, report: Report, form: dict[str, Any], *, locale: Any) -> None:
    """Save the draft of a report; every bad number is named, and nothing is saved then.

    Numbers are read in ``locale``, the writer's (``grants.numbers.MACHINE`` for the API).

    ``form`` has the narrative sections, ``actual-<line id>`` and ``explanation-<line id>``
    per budget line, ``indicator-<i>`` (or ``indicator-<i>-women``/``-men``) per
    indicator of the call, and ``cofinancing-<id>`` per co-financing source.
    """
    if not is_member(member, report.award.application.association):
        raise Forbidden(_("Only members of the association write its reports."))
    if report.state not in ("scheduled", "changes_requested"):
        raise InvalidInput(
            _(
                "This report is %(state)s and can no longer be changed.",
                state=state_label("report", report.state),
            )
        )
    application = report.award.application
    errors: dict[str, list[str]] = limits.problems(
        {section: str(form[section]).strip() for section in NARRATIVE if form.get(section)},
        {section: limits.NARRATIVE for section in NARRATIVE},
    )
    spending = []
    for line in application.budget_lines:
        explanation = str(form.get(f"explanation-{line.id}") or "").strip()
        problem = limits.SPENDING_EXPLANATION.problem(explanation)
        if problem:
            errors[f"explanation-{line.id}"] = [problem]
        try:
            actual = _decimal(
                form.get(f"actual-{line.id}"),
                locale,
                _("The amount spent cannot be negative."),
            )
        except NumberRefused as refused:
            errors[f"actual-{line.id}"] = [refused.message]
            continue
        if actual is not None or explanation:
            spending.append(
                {
                    "budget_line_id": line.id,
                    "actual": str(actual) if actual is not None else "",
                    "explanation": explanation,
                }
            )
    indicators: dict[str, dict[str, str]] = {}
    for index, indicator in enumerate(application.call.indicators or []):
        parts = ("women", "men") if indicator.get("by_sex") else ("value",)
        values = {}
        for part in parts:
            name = f"indicator-{index}" + (f"-{part}" if part != "value" else "")
            try:
                value = _decimal(
                    form.get(name), locale, _("The value of an indicator cannot be negative.")
                )
            except NumberRefused as refused:
                errors[name] = [refused.message]
                continue
            if value is not None:
                values[part] = str(value.normalize() if value == value.to_integral() else value)
        if values:
            indicators[str(index)] = values
    received = {}
    for source in application.cofinancing:
        name = f"cofinancing-{source.id}"
        try:
            value = _decimal(
                form.get(name), locale, _("The co-financing received cannot be negative.")
            )
        except NumberRefused as refused:
            errors[name] = [refused.message]
            continue
        if value is not None:
            received[str(source.id)] = str(value)
    if errors:
        raise InvalidInput(_("The report was not saved: some fields need attention."), errors)
    for section in NARRATIVE:
        if section in form:
            setattr(report, section, str(form.get(section) or "").strip())
    report.spending, report.indicator_values, report.cofinancing_received = (
        spending,
        indicators,
        received,
    )
    db.session.flush()


def request_changes(
    officer: User, report: Report, comments: dict[str, str], now: datetime | None = None
) -> None:
    """Ask for changes with a comment per section; at least one comment. Who may, and
    from which state, is told first (403, 409), then what is wrong with the comments."""
    try:
        machine_for(report).check(
            "request_changes", report, context(officer, now=now), report.state
        )
    except GuardFailed:
        pass  # the comment: written below from the sections, and checked again by fire
    if not isinstance(comments, dict):
        comments = {}
    unknown = sorted(str(k) for k in comments if k not in SECTIONS)
    if unknown:
        message = _("Not a section of the report: %(names)s.", names=", ".join(unknown))
        raise InvalidInput(message, {f"review_comments.{k}": [message] for k in unknown})
    kept = {k: v.strip() for k, v in comments.items() if isinstance(v, str) and (v or "").strip()}
    if not kept:
        raise InvalidInput(
            _("Write what must change in at least one section."),
            {"review_comments": [_("Write what must change in at least one section.")]},
        )
    too_long = limits.problems(kept, dict.fromkeys(kept, limits.REVIEW_COMMENT))
    if too_long:
        raise InvalidInput(
            next(iter(too_long.values()))[0],
            {f"review_comments.{k}": messages for k, messages in too_long.items()},
        )
    summary = "; ".join(f"{section}: {text}" for section, text in kept.items())
    fire(report, "request_changes", officer, comment=summary, now=now)
    report.review_comments = kept
    db.session.flush()
