"""A call for proposals: drafted, published, closed at its deadline, archived."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from workflows.base import DESTRUCTIVE, PRIMARY, Context, Lifecycle, State, rule
from workflows.sentences import Moment, Sentence, _l

OFFICER = "programme_officer"


def has_title_and_description(call: Any, ctx: Context) -> Sentence | None:
    if not (call.text("title", call.language) or "").strip():
        return _l("The call needs a title in its main language.")
    if not (call.text("description", call.language) or "").strip():
        return _l("The call needs a description in its main language.")
    return None


def dates_are_coherent(call: Any, ctx: Context) -> Sentence | None:
    if call.opens_at is None or call.closes_at is None:
        return _l("The call needs an opening and a closing date.")
    if call.opens_at >= call.closes_at:
        return _l("The call must open before it closes.")
    if call.closes_at <= ctx.now:
        return _l("The closing date must be in the future.")
    return None


def envelope_is_positive(call: Any, ctx: Context) -> Sentence | None:
    if not call.envelope or call.envelope <= 0:
        return _l("The envelope must be greater than zero.")
    return None


def grant_limit_problems(
    envelope: Decimal | None, min_grant: Decimal | None, max_grant: Decimal | None
) -> dict[str, Sentence]:
    """The order of a call's amounts, by field: smallest grant ≤ largest grant ≤ envelope
    (an envelope of zero is not set yet). Checked when a call is saved, and again when it
    is published."""
    if min_grant is not None and max_grant is not None and min_grant > max_grant:
        return {"max_grant": _l("The minimum grant must not be above the maximum grant.")}
    if envelope and max_grant is not None and max_grant > envelope:
        return {"max_grant": _l("The maximum grant must not be above the envelope.")}
    return {}


def grant_limits_are_coherent(call: Any, ctx: Context) -> Sentence | None:
    if call.max_grant is None or call.max_grant <= 0:
        return _l("The maximum grant must be greater than zero.")
    problems = grant_limit_problems(call.envelope, call.min_grant, call.max_grant)
    return next(iter(problems.values()), None)


def rubric_weights_sum_to_100(call: Any, ctx: Context) -> Sentence | None:
    if not call.criteria:
        return _l("The rubric needs at least one criterion.")
    total = sum((criterion.weight for criterion in call.criteria), Decimal("0"))
    if total != Decimal("100"):
        return _l(
            "The criteria weights add up to %(total)s %%, not 100 %%.",
            total=f"{total.normalize():f}",
        )
    return None


def requires_a_document(call: Any, ctx: Context) -> Sentence | None:
    if not any(document_type.required for document_type in call.document_types):
        return _l("The call needs at least one required document type.")
    return None


def deadline_reached(call: Any, ctx: Context) -> Sentence | None:
    """The system closes a call only once its deadline has passed."""
    if ctx.is_system and call.closes_at and ctx.now < call.closes_at:
        return _l(
            "The deadline, %(deadline)s, has not passed.",
            deadline=Moment(call.closes_at, call.timezone),
        )
    return None


def new_deadline_is_later(call: Any, ctx: Context) -> Sentence | None:
    new = ctx.data.get("closes_at")
    if new is None:
        return None
    if getattr(new, "tzinfo", None) is None:
        return _l("The new deadline needs a time zone.")
    if call.closes_at and new <= call.closes_at:
        return _l(
            "The new deadline must be later than the current one, %(deadline)s.",
            deadline=Moment(call.closes_at, call.timezone),
        )
    if new <= ctx.now:
        return _l("The new deadline must be in the future.")
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

    next_steps = {
        "open": _l("Associations can apply until the deadline."),
        "closed": _l("The applications are screened and evaluated next."),
        "cancelled": _l("This is final; the call takes no application."),
    }

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
            tone=PRIMARY,
        ),
        "close": rule(
            OFFICER,
            system=True,
            guards=(deadline_reached,),
            summary=_l("By the system at the deadline, or early by an officer."),
        ),
        "archive": rule(OFFICER),
        "cancel": rule(OFFICER, comment_required=True, comment_label="reason", tone=DESTRUCTIVE),
        "extend_deadline": rule(
            OFFICER, requires=("closes_at",), guards=(new_deadline_is_later,), effect=set_deadline
        ),
    }
