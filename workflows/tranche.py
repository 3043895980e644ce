"""A tranche of an award: requested by an officer, approved under four eyes, paid.

Segregation of duties: the requester never approves nor pays; nobody approves twice;
a tranche at or above the programme threshold needs two approvals by different finance
officers — the first approval records itself and leaves the tranche ``requested``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from workflows.base import DESTRUCTIVE, PRIMARY, Context, Lifecycle, State, rule
from workflows.rules import not_the_requester as requester_kept_apart
from workflows.sentences import Money, Sentence, Sentences, StateName, _l

OFFICER = "programme_officer"
FINANCE = "finance_officer"
DEFAULT_THRESHOLD = Decimal("10000")


def approvals_needed(tranche: Any, ctx: Context) -> int:
    threshold = Decimal(str(ctx.settings.get("FOUR_EYES_THRESHOLD", DEFAULT_THRESHOLD)))
    return 2 if tranche.amount >= threshold else 1


#: The report a tranche waits for, by the report's kind.
WAITS_FOR_REPORT = {
    "interim": _l("This tranche waits for the interim report to be accepted."),
    "final": _l("This tranche waits for the final report to be accepted."),
}


def award_is_active(tranche: Any, ctx: Context) -> Sentence | None:
    if tranche.award.state != "active":
        return _l(
            "The award is %(state)s; tranches are requested on active awards.",
            state=StateName("award", tranche.award.state),
        )
    return None


def report_condition_met(tranche: Any, ctx: Context) -> Sentence | None:
    report = tranche.condition_report
    if report is not None and report.state != "accepted":
        return WAITS_FOR_REPORT[report.kind]
    return None


def within_remaining_balance(tranche: Any, ctx: Context) -> Sentence | None:
    remaining = tranche.award.remaining_for(tranche)
    if tranche.amount > remaining:
        return _l(
            "The tranche, %(amount)s, is above what remains of the award, %(remaining)s.",
            amount=Money(tranche.amount, tranche.award.currency),
            remaining=Money(remaining, tranche.award.currency),
        )
    return None


not_the_requester = requester_kept_apart(
    _l("You requested this tranche; another finance officer must do this.")
)


def not_approved_twice(tranche: Any, ctx: Context) -> Sentence | None:
    if ctx.actor is not None and ctx.actor.id in tranche.current_approver_ids:
        return _l("You already approved this tranche; a second finance officer must approve it.")
    return None


def bank_details_settled(tranche: Any, ctx: Context) -> Sentence | None:
    """No change of the association's bank details waits for a decision."""
    if tranche.award.bank_change_pending:
        return _l(
            "New bank details of the association wait for a finance officer's decision; "
            "approve and pay this tranche once they are decided."
        )
    return None


def payment_matches(tranche: Any, ctx: Context) -> Sentence | None:
    reasons = []
    raw = ctx.data.get("amount")
    if raw is not None:
        try:
            amount = Decimal(str(raw))
        except (InvalidOperation, ValueError):
            amount = None
        if amount != tranche.amount:
            reasons.append(
                _l(
                    "The amount paid must equal the approved amount, %(amount)s.",
                    amount=Money(tranche.amount, tranche.award.currency),
                )
            )
    paid_on = ctx.data.get("payment_date")
    if paid_on is not None and not isinstance(paid_on, date):
        reasons.append(_l("The payment date is not a date."))
    elif paid_on is not None and paid_on > ctx.now.date():
        reasons.append(_l("The payment date cannot be in the future."))
    return Sentences(reasons) if reasons else None


def record_request(tranche: Any, ctx: Context) -> None:
    tranche.requested_by_id = ctx.actor.id if ctx.actor else None
    tranche.requested_at = ctx.now


def record_approval(tranche: Any, ctx: Context) -> None:
    tranche.add_approval(ctx.actor.id, ctx.now)


def record_payment(tranche: Any, ctx: Context) -> None:
    tranche.paid_by_id = ctx.actor.id if ctx.actor else None
    tranche.paid_at = ctx.now
    tranche.payment_date = ctx.data["payment_date"]
    tranche.bank_reference = str(ctx.data["bank_reference"]).strip()


def record_return(tranche: Any, ctx: Context) -> None:
    """Back to planned: the approvals of this round no longer count."""
    tranche.cycle += 1
    tranche.requested_by_id = None
    tranche.requested_at = None


class TrancheLifecycle(Lifecycle):
    entity = "tranche"
    title = "a tranche"

    planned = State("Planned", initial=True, value="planned")
    requested = State("Requested", value="requested")
    approved = State("Approved", value="approved")
    paid = State("Paid", value="paid", final=True)
    payment_failed = State("Payment failed", value="payment_failed")
    cancelled = State("Cancelled", value="cancelled", final=True)

    request = planned.to(requested)
    approve = requested.to(approved, cond="approvals_complete") | requested.to.itself(
        internal=True, unless="approvals_complete"
    )
    pay = approved.to(paid) | payment_failed.to(paid)
    fail = approved.to(payment_failed)
    locals()["return"] = requested.to(planned) | approved.to(planned)
    cancel = planned.to(cancelled)

    def approvals_complete(self, ctx: Context) -> bool:
        """With this approval, has the tranche as many approvers as it needs?

        Evaluated after the rule's effect recorded the approval being made.
        """
        tranche = self.model
        return len(tranche.current_approver_ids) >= approvals_needed(tranche, ctx)

    next_steps = {
        "requested": _l("A finance officer approves it next."),
        "approved": _l("A finance officer pays it next."),
        "paid": _l("The payment is on the ledger."),
        "payment_failed": _l("Pay it again once the bank details are right."),
        "planned": _l("It can be requested again."),
        "cancelled": _l("Nothing will be paid from it."),
    }
    results = {
        ("approve", "requested"): _l(
            "Tranche %(position)s is approved; a second finance officer must approve it "
            "before payment."
        ),
        ("approve", "approved"): _l(
            "Tranche %(position)s is approved; a finance officer other than the requester "
            "pays it next."
        ),
        ("request", "requested"): _l(
            "Tranche %(position)s is requested; a finance officer approves it next."
        ),
        ("pay", "paid"): _l("Tranche %(position)s is paid; the payment is on the ledger."),
    }

    @classmethod
    def result_values(cls, entity: Any) -> dict[str, Any]:
        return {"position": entity.position}

    rules = {
        "request": rule(
            OFFICER,
            guards=(award_is_active, report_condition_met, within_remaining_balance),
            effect=record_request,
            tone=PRIMARY,
        ),
        "approve": rule(
            FINANCE,
            duties=(not_the_requester, not_approved_twice),
            guards=(award_is_active, bank_details_settled, within_remaining_balance),
            effect=record_approval,
            summary=_l("Two approvers at or above the programme threshold."),
            tone=PRIMARY,
        ),
        "pay": rule(
            FINANCE,
            requires=("payment_date", "bank_reference"),
            accepts=("amount", "bank_exchange_rate"),
            duties=(not_the_requester,),
            guards=(bank_details_settled, payment_matches, within_remaining_balance),
            effect=record_payment,
            tone=PRIMARY,
        ),
        "fail": rule(FINANCE, comment_required=True, comment_label="reason", tone=DESTRUCTIVE),
        "return": rule(
            OFFICER, FINANCE, comment_required=True, comment_label="reason", effect=record_return
        ),
        "cancel": rule(OFFICER, comment_required=True, comment_label="reason", tone=DESTRUCTIVE),
    }
