"""A report on a grant: interim or final, submitted by the association, accepted."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from workflows.base import PRIMARY, Context, Lifecycle, State, rule
from workflows.rules import member_of_association
from workflows.sentences import Names, Sentence, StateName, _l

APPLICANT = "applicant"
OFFICER = "programme_officer"


def award_is_running(report: Any, ctx: Context) -> Sentence | None:
    if report.award.state not in ("active", "suspended"):
        return _l(
            "The award is %(state)s; reports are submitted on running grants.",
            state=StateName("award", report.award.state),
        )
    return None


def narrative_written(report: Any, ctx: Context) -> Sentence | None:
    if not (report.activities or "").strip() or not (report.results or "").strip():
        return _l("Describe the activities carried out and the results before submitting.")
    return None


#: A budget line spent further than this from its plan needs an explanation.
VARIANCE_LIMIT = Decimal("0.10")


def period_share(report: Any) -> Decimal:
    """The share of the budget planned to be spent by the time of ``report``.

    A final report answers for the whole budget. An interim one answers for the period
    it covers: the share of the grant released before it, the tranches that wait for no
    report or for an earlier one (40 % when the first tranche is 40 %). Without a
    schedule of tranches, the whole budget.
    """
    if report.kind != "interim":
        return Decimal(1)
    award = report.award
    this_or_later = {
        other.id
        for other in award.reports
        if other.id == report.id or other.due_date >= report.due_date
    }
    tranches = [t for t in award.tranches if t.state != "cancelled"]
    released = sum(
        (t.percentage for t in tranches if t.condition_report_id not in this_or_later), Decimal(0)
    )
    if not released:
        return Decimal(1)
    return min(released / 100, Decimal(1))


def spending_lines(report: Any) -> list[dict[str, Any]]:
    """Each budget line with what the report says was spent, what was planned for the
    report's period, the variance (a fraction of that plan, None when nothing is planned
    or spent) and the explanation.

    A line needs an explanation when it is off its plan by more than ``VARIANCE_LIMIT``:
    either way for a final report; only above it for an interim one, since spending
    less than the period's share mid-project is the normal pace of a project, not a
    deviation."""
    share = period_share(report)
    final = report.kind != "interim"
    given = {int(row["budget_line_id"]): row for row in report.spending or []}
    lines = []
    for line in report.award.application.budget_lines:
        row = given.get(line.id, {})
        actual = Decimal(str(row["actual"])) if row.get("actual") not in (None, "") else None
        planned = (line.total * share).quantize(Decimal("0.01"))
        off = (actual - planned) / planned if actual is not None and planned else None
        explanation = (row.get("explanation") or "").strip()
        deviates = off is not None and (off > VARIANCE_LIMIT or (final and -off > VARIANCE_LIMIT))
        lines.append(
            {
                "line": line,
                "budget": line.total,
                "planned": planned,
                "actual": actual,
                "variance": off,
                "explanation": explanation,
                "unexplained": deviates and not explanation,
            }
        )
    return lines


def unexplained_lines(report: Any) -> list[str]:
    """Budget lines off their plan for the period by more than 10 % with no explanation."""
    return [
        row["line"].description or row["line"].category
        for row in spending_lines(report)
        if row["unexplained"]
    ]


def spending_explained(report: Any, ctx: Context) -> Sentence | None:
    missing = unexplained_lines(report)
    if not missing:
        return None
    if report.kind == "interim":
        return _l(
            "Explain the spending more than 10 %% above what was planned for the period: "
            "%(names)s.",
            names=Names(missing),
        )
    return _l(
        "Explain the spending that differs from the budget by more than 10 %%: %(names)s.",
        names=Names(missing),
    )


def record_submission(report: Any, ctx: Context) -> None:
    report.submitted_at = ctx.now


def record_acceptance(report: Any, ctx: Context) -> None:
    report.accepted_at = ctx.now


class ReportLifecycle(Lifecycle):
    entity = "report"
    title = "a report"

    scheduled = State("Scheduled", initial=True, value="scheduled")
    submitted = State("Submitted", value="submitted")
    changes_requested = State("Changes requested", value="changes_requested")
    accepted = State("Accepted", value="accepted", final=True)

    submit = scheduled.to(submitted) | changes_requested.to(submitted)
    request_changes = submitted.to(changes_requested)
    accept = submitted.to(accepted)

    next_steps = {
        "submitted": _l("The programme office reads it next."),
        "changes_requested": _l("The association changes it and submits it again."),
        "accepted": _l("Tranches that waited for this report can be requested."),
    }

    rules = {
        "submit": rule(
            APPLICANT,
            who=member_of_association,
            who_fails=_l("Only members of the association can submit its reports."),
            guards=(award_is_running, narrative_written, spending_explained),
            effect=record_submission,
            tone=PRIMARY,
        ),
        # What must change, per section (the review form's), or in one comment.
        "request_changes": rule(OFFICER, comment_required=True, accepts=("review_comments",)),
        "accept": rule(OFFICER, effect=record_acceptance, tone=PRIMARY),
    }
