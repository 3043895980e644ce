"""A report on a grant: interim or final, submitted by the association, accepted."""

from __future__ import annotations

from typing import Any

from workflows.base import Context, Lifecycle, State, rule
from workflows.rules import member_of_association

APPLICANT = "applicant"
OFFICER = "programme_officer"


def award_is_running(report: Any, ctx: Context) -> str | None:
    if report.award.state not in ("active", "suspended"):
        return f"The award is {report.award.state}; reports are submitted on running grants."
    return None


def narrative_written(report: Any, ctx: Context) -> str | None:
    if not (report.activities or "").strip() or not (report.results or "").strip():
        return "Describe the activities carried out and the results before submitting."
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

    rules = {
        "submit": rule(
            APPLICANT,
            who=member_of_association,
            who_fails="Only members of the association can submit its reports.",
            guards=(award_is_running, narrative_written),
            effect=record_submission,
        ),
        "request_changes": rule(OFFICER, comment_required=True),
        "accept": rule(OFFICER, effect=record_acceptance),
    }
