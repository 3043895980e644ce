"""A change of the bank details of a grant: asked for by the association, decided by a
finance officer.

A member of the association asks for the change, saying why; while it waits, no tranche
of the grant is approved or paid (``tranche.bank_details_settled``). A finance officer
other than the person who asked approves it (the new details replace the grant's: the
next payments go there) or refuses it with the reason; a member may withdraw it before
that. The same segregation of duties as tranches: whoever requested never decides.

A change is written as ``new`` and requested in the same transaction, so that the
request is a transition like the others (its history row, its notifications); no
change stays ``new``.
"""

from __future__ import annotations

from typing import Any

from workflows.base import DESTRUCTIVE, PRIMARY, Context, Lifecycle, State, rule
from workflows.rules import member_of_association, not_the_requester
from workflows.sentences import Sentence, StateName, _l

APPLICANT = "applicant"
FINANCE = "finance_officer"

#: What an approval copies onto the award: the account its tranches are paid to.
DETAIL_FIELDS = ("account_holder", "iban", "account_number", "bank_name", "bic")
#: Awards whose bank details may still change: money may still be paid on them.
PAYABLE_AWARD_STATES = ("active", "suspended")


def award_is_active(change: Any, ctx: Context) -> Sentence | None:
    """The grant is active."""
    if change.award.state != "active":
        return _l(
            "Bank details change on active grants; this one is %(state)s.",
            state=StateName("award", change.award.state),
        )
    return None


def no_other_change_waits(change: Any, ctx: Context) -> Sentence | None:
    """No other change of the grant's bank details waits for a decision."""
    if change.award.bank_change_pending:
        return _l("A change of bank details already waits for a decision on this grant.")
    return None


def award_still_pays(change: Any, ctx: Context) -> Sentence | None:
    """The grant may still be paid (active or suspended)."""
    if change.award.state not in PAYABLE_AWARD_STATES:
        return _l(
            "The grant is %(state)s: nothing more is paid on it, so its bank details no "
            "longer change.",
            state=StateName("award", change.award.state),
        )
    return None


#: Whoever asked for the change never decides it (the tranches' rule).
not_the_asker = not_the_requester(
    _l("You asked for this change of bank details; another finance officer must decide it.")
)


def record_request(change: Any, ctx: Context) -> None:
    change.requested_by_id = ctx.actor.id if ctx.actor else None
    change.requested_at = ctx.now
    change.award.bank_change_pending = True


def _record_decision(change: Any, ctx: Context) -> None:
    change.decided_by_id = ctx.actor.id if ctx.actor else None
    change.decided_at = ctx.now
    change.decision_comment = (ctx.comment or "").strip()
    change.award.bank_change_pending = False


def apply_details(change: Any, ctx: Context) -> None:
    """The new details replace the grant's: the next payments go to that account."""
    _record_decision(change, ctx)
    for name in DETAIL_FIELDS:
        setattr(change.award, name, getattr(change, name))


def record_refusal(change: Any, ctx: Context) -> None:
    _record_decision(change, ctx)


def record_withdrawal(change: Any, ctx: Context) -> None:
    _record_decision(change, ctx)


class BankChangeLifecycle(Lifecycle):
    entity = "bank_change"
    title = "a change of bank details"

    new = State("New", initial=True, value="new")
    requested = State("Requested", value="requested")
    approved = State("Approved", value="approved", final=True)
    refused = State("Refused", value="refused", final=True)
    cancelled = State("Cancelled", value="cancelled", final=True)

    request = new.to(requested)
    approve = requested.to(approved)
    refuse = requested.to(refused)
    cancel = requested.to(cancelled)

    next_steps = {
        "requested": _l(
            "A finance officer other than the person who asked decides next; no tranche is "
            "approved or paid meanwhile."
        ),
        "approved": _l("The next payments go to the new account."),
        "refused": _l("Payments still go to the account on file."),
        "cancelled": _l("Payments still go to the account on file."),
    }
    results = {
        ("request", "requested"): _l(
            "The new bank details wait for a finance officer's decision; no tranche is "
            "approved or paid meanwhile."
        ),
        ("approve", "approved"): _l(
            "The new bank details are approved: the next payments go to the new account."
        ),
        ("refuse", "refused"): _l(
            "The new bank details are refused: payments still go to the account on file."
        ),
        ("cancel", "cancelled"): _l(
            "The change of bank details is withdrawn: payments still go to the account on file."
        ),
    }

    rules = {
        "request": rule(
            APPLICANT,
            who=member_of_association,
            who_fails=_l("Only members of the association change its bank details."),
            guards=(award_is_active, no_other_change_waits),
            effect=record_request,
            tone=PRIMARY,
        ),
        "approve": rule(
            FINANCE,
            duties=(not_the_asker,),
            guards=(award_still_pays,),
            effect=apply_details,
            summary=_l("A finance officer other than the person who asked."),
            tone=PRIMARY,
        ),
        "refuse": rule(
            FINANCE,
            duties=(not_the_asker,),
            comment_required=True,
            comment_label="reason",
            effect=record_refusal,
            tone=DESTRUCTIVE,
        ),
        "cancel": rule(
            APPLICANT,
            who=member_of_association,
            who_fails=_l("Only members of the association withdraw its change of bank details."),
            effect=record_withdrawal,
            tone=DESTRUCTIVE,
        ),
    }
