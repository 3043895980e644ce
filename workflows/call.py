"""A call for proposals: drafted, published, closed at its deadline, archived."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from workflows.base import Context, Lifecycle, State, rule
from workflows.rules import format_moment

OFFICER = "programme_officer"


def has_title_and_description(call: Any, ctx: Context) -> str | None:
    if not (call.text("title", call.language) or "").strip():
        return "The call needs a title in its main language."
    if not (call.text("description", call.language) or "").strip():
        return "The call needs a description in its main language."
    return None


def dates_are_coherent(call: Any, ctx: Context) -> str | None:
    if call.opens_at is None or call.closes_at is None:
        return "The call needs an opening and a closing date."
    if call.opens_at >= call.closes_at:
        return "The call must open before it closes."
    if call.closes_at <= ctx.now:
        return "The closing date must be in the future."
    return None


def envelope_is_positive(call: Any, ctx: Context) -> str | None:
    if not call.envelope or call.envelope <= 0:
        return "The envelope must be greater than zero."
    return None


def grant_limits_are_coherent(call: Any, ctx: Context) -> str | None:
    if call.max_grant is None or call.max_grant <= 0:
        return "The maximum grant must be greater than zero."
    if call.min_grant > call.max_grant:
        return "The minimum grant must not be above the maximum grant."
    if call.envelope and call.max_grant > call.envelope:
        return "The maximum grant must not be above the envelope."
    return None


def rubric_weights_sum_to_100(call: Any, ctx: Context) -> str | None:
    if not call.criteria:
        return "The rubric needs at least one criterion."
    total = sum((criterion.weight for criterion in call.criteria), Decimal("0"))
    if total != Decimal("100"):
        return f"The criteria weights add up to {total.normalize():f} %, not 100 %."
    return None


def requires_a_document(call: Any, ctx: Context) -> str | None:
    if not any(document_type.required for document_type in call.document_types):
        return "The call needs at least one required document type."
    return None


def deadline_reached(call: Any, ctx: Context) -> str | None:
    """The system closes a call only once its deadline has passed."""
    if ctx.is_system and call.closes_at and ctx.now < call.closes_at:
        return f"The deadline, {format_moment(call.closes_at, call.timezone)}, has not passed."
    return None


def new_deadline_is_later(call: Any, ctx: Context) -> str | None:
    new = ctx.data.get("closes_at")
    if new is None:
        return None
    if getattr(new, "tzinfo", None) is None:
        return "The new deadline needs a time zone."
    if call.closes_at and new <= call.closes_at:
        return (
            "The new deadline must be later than the current one, "
            f"{format_moment(call.closes_at, call.timezone)}."
        )
    if new <= ctx.now:
        return "The new deadline must be in the future."
    return None


def set_deadline(call: Any, ctx: Context) -> None:
    call.closes_at = ctx.data["closes_at"]


class CallLifecycle(Lifecycle):
    entity = "call"
    title = "a call"

    draft = State("Draft", initial=True, value="draft")
    open = State("Open", value="open")
    closed = State("Closed", value="closed")
    archived = State("Archived", value="archived", final=True)
    cancelled = State("Cancelled", value="cancelled", final=True)

    publish = draft.to(open)
    close = open.to(closed)
    archive = closed.to(archived)
    cancel = draft.to(cancelled) | open.to(cancelled)
    extend_deadline = open.to.itself(internal=True)

    rules = {
        "publish": rule(
            OFFICER,
            guards=(
                has_title_and_description,
                dates_are_coherent,
                envelope_is_positive,
                grant_limits_are_coherent,
                rubric_weights_sum_to_100,
                requires_a_document,
            ),
        ),
        "close": rule(
            OFFICER,
            system=True,
            guards=(deadline_reached,),
            summary="By the system at the deadline, or early by an officer.",
        ),
        "archive": rule(OFFICER),
        "cancel": rule(OFFICER, comment_required=True, comment_label="reason"),
        "extend_deadline": rule(
            OFFICER, requires=("closes_at",), guards=(new_deadline_is_later,), effect=set_deadline
        ),
    }
