"""The payment run: approved tranches a finance officer may pay, their totals per
currency, and the tranches chosen for the bank's payment file.

The file is refused while new bank details wait for approval on a chosen tranche: the
bank would be told to pay an account the association asked to leave.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _

from grants.models.accounts import User
from grants.models.awards import Tranche
from grants.services import disbursements
from grants.services.errors import Conflict, InvalidInput
from grants.services.figures import check_may_read


@dataclass(frozen=True)
class RunTotal:
    currency: str
    amount: Decimal
    count: int


@dataclass(frozen=True)
class PaymentRun:
    tranches: list[Tranche]
    totals: list[RunTotal]


def totals_of(tranches: Sequence[Tranche]) -> list[RunTotal]:
    """Per currency, never across: the amount and number of tranches."""
    sums: dict[str, tuple[Decimal, int]] = {}
    for tranche in tranches:
        amount, count = sums.get(tranche.award.currency, (Decimal("0.00"), 0))
        sums[tranche.award.currency] = (amount + tranche.amount, count + 1)
    return [RunTotal(currency, *sums[currency]) for currency in sorted(sums)]


def current_run(person: User) -> PaymentRun:
    """Every tranche the person may pay now (at most ``disbursements.RUN_LIMIT``)."""
    check_may_read(person, "payment_run")
    tranches = disbursements.approved_for_run(person, None)
    return PaymentRun(tranches, totals_of(tranches))


def chosen_for_file(person: User, chosen: Sequence[int]) -> list[Tranche]:
    """The chosen tranches, all in the person's run and none waiting for new bank
    details; otherwise nothing is exported and the reason is named."""
    check_may_read(person, "payment_run")
    if not chosen:
        message = _("Choose the tranches of the payment run first.")
        raise InvalidInput(message, {"tranche": [message]})
    selected = disbursements.approved_for_run(person, chosen)
    outside = sorted(set(chosen) - {tranche.id for tranche in selected})
    if outside:
        message = _(
            "These tranches are not in your payment run: %(ids)s.",
            ids=", ".join(str(number) for number in outside),
        )
        raise InvalidInput(message, {"tranche": [message]})
    held = [tranche for tranche in selected if tranche.award.bank_change_pending]
    if held:
        raise Conflict(
            _(
                "New bank details wait for approval on %(count)s of the chosen tranches; "
                "leave them out of the run.",
                count=len(held),
            ),
            {"tranche": [str(tranche.id) for tranche in held]},
        )
    return selected
