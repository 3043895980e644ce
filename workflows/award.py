"""An award: offered to the association, accepted, followed until completed."""

from __future__ import annotations

from typing import Any

from workflows.base import DESTRUCTIVE, PRIMARY, Context, Lifecycle, State, rule
from workflows.rules import member_of_association
from workflows.sentences import Names, Sentence, Sentences, _l, ngettext

APPLICANT = "applicant"
OFFICER = "programme_officer"

ACCEPTANCE_FIELDS = (
    "signatory_name",
    "signatory_role",
    "account_holder",
    "iban",
    "account_number",
    "bank_name",
    "bic",
)


def _given(award: Any, ctx: Context, name: str) -> str:
    value = ctx.data.get(name, getattr(award, name, None))
    return str(value or "").strip()


def letter_acknowledged(award: Any, ctx: Context) -> Sentence | None:
    missing = [
        words
        for name, words in (
            ("signatory_name", _l("name of the signatory")),
            ("signatory_role", _l("role of the signatory")),
        )
        if not _given(award, ctx, name)
    ]
    if len(missing) == 2:
        return _l("Confirm you read the award letter: name and role of the signatory required.")
    if missing:
        return _l("Confirm you read the award letter: %(names)s required.", names=missing[0])
    return None


def bank_details_given(award: Any, ctx: Context) -> Sentence | None:
    """Bank details present and valid: an IBAN (mod 97) or account number, a SWIFT/BIC
    of the IBAN's country, the holder and the bank."""
    from grants.banking import BANK_FIELDS, bank_details_problems

    details = {name: _given(award, ctx, name) for name in BANK_FIELDS}
    problems = bank_details_problems(details)
    if problems:
        return Sentences(message for messages in problems.values() for message in messages)
    return None


def acceptance_texts_fit(award: Any, ctx: Context) -> Sentence | None:
    """The signatory and bank details within their limits (``grants.text_limits``)."""
    from grants import text_limits

    given = {name: _given(award, ctx, name) for name in ACCEPTANCE_FIELDS}
    limits = {**text_limits.SIGNATORY, **text_limits.BANK_DETAILS}
    problems = text_limits.problems(given, limits)
    if problems:
        return Sentences(message for messages in problems.values() for message in messages)
    return None


def record_acceptance(award: Any, ctx: Context) -> None:
    from grants.banking import BANK_FIELDS, bank_details_problems

    for name in ("signatory_name", "signatory_role"):
        if name in ctx.data:
            setattr(award, name, str(ctx.data[name]).strip())
    details = {name: _given(award, ctx, name) for name in BANK_FIELDS}
    bank_details_problems(details)  # normalised: IBAN and BIC without spaces, upper case
    for name, value in details.items():
        setattr(award, name, value)
    award.accepted_at = ctx.now


def grant_is_finished(award: Any, ctx: Context) -> Sentence | None:
    reasons = []
    finals = [report for report in award.reports if report.kind == "final"]
    if not finals or any(report.state != "accepted" for report in finals):
        reasons.append(_l("the final report is not accepted"))
    open_tranches = [t for t in award.tranches if t.state not in ("paid", "cancelled")]
    if open_tranches:
        reasons.append(
            ngettext(
                "%(num)d tranche is neither paid nor cancelled",
                "%(num)d tranches are neither paid nor cancelled",
                len(open_tranches),
            )
        )
    if reasons:
        return _l("The grant cannot be completed: %(reasons)s.", reasons=Names(reasons))
    return None


class AwardLifecycle(Lifecycle):
    entity = "award"
    title = "an award"

    offered = State("Offered", initial=True, value="offered")
    active = State("Active", value="active")
    declined = State("Declined", value="declined", final=True)
    suspended = State("Suspended", value="suspended")
    terminated = State("Terminated", value="terminated", final=True)
    completed = State("Completed", value="completed", final=True)

    accept = offered.to(active)
    decline = offered.to(declined)
    suspend = active.to(suspended)
    resume = suspended.to(active)
    terminate = active.to(terminated) | suspended.to(terminated)
    complete = active.to(completed)

    _member = dict(
        who=member_of_association,
        who_fails=_l("Only members of the association can answer the award offer."),
    )

    next_steps = {
        "active": _l("Tranches can be requested as the schedule allows."),
        "suspended": _l("No tranche is paid until the award is resumed."),
        "declined": _l("This is final."),
        "terminated": _l("This is final; nothing more is paid."),
        "completed": _l("This is final."),
    }

    rules = {
        "accept": rule(
            APPLICANT,
            requires=("letter_read",),
            accepts=ACCEPTANCE_FIELDS,
            guards=(letter_acknowledged, acceptance_texts_fit, bank_details_given),
            effect=record_acceptance,
            **_member,
            tone=PRIMARY,
        ),
        "decline": rule(
            APPLICANT, comment_required=True, comment_label="reason", **_member, tone=DESTRUCTIVE
        ),
        "suspend": rule(OFFICER, comment_required=True, comment_label="reason", tone=DESTRUCTIVE),
        "resume": rule(OFFICER, comment_required=True, comment_label="reason"),
        "terminate": rule(OFFICER, comment_required=True, comment_label="reason", tone=DESTRUCTIVE),
        "complete": rule(OFFICER, system=True, guards=(grant_is_finished,)),
    }
