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


def spending_lines(report: Any) -> list[dict[str, Any]]:
    """Each budget line with what the report says was spent, its variance (a fraction of
    the plan, None when nothing is planned or spent) and its explanation."""
    given = {int(row["budget_line_id"]): row for row in report.spending or []}
    lines = []
    for line in report.award.application.budget_lines:
        row = given.get(line.id, {})
        actual = Decimal(str(row["actual"])) if row.get("actual") not in (None, "") else None
        off = (actual - line.total) / line.total if actual is not None and line.total else None
        explanation = (row.get("explanation") or "").strip()
        lines.append(
            {
                "line": line,
                "planned": line.total,
                "actual": actual,
                "variance": off,
                "explanation": explanation,
                "unexplained": off is not None and abs(off) > VARIANCE_LIMIT and not explanation,
            }
        )
    return lines


def unexplained_lines(report: Any) -> list[str]:
    """Budget lines whose spending is off by more than 10 % with no explanation."""
    return [
        row["line"].description or row["line"].category
        for row in spending_lines(report)
        if row["unexplained"]
    ]


def spending_explained(report: Any, ctx: Context) -> Sentence | None:
    missing = unexplained_lines(report)
    if missing:
        return _l(
            "Explain the spending that differs from the budget by more than 10 %%: %(names)s.",
            names=Names(missing),
        )
    return None


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
