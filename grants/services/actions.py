"""One entry point to fire a transition on any record, for the pages and the API alike.

Most transitions are the lifecycle's alone (``workflow.fire``). A few carry rules of
their own, declared here once: a tranche's four-eyes approvals and payment run under
its award's lock (``disbursements.act``), as do a change of bank details' decisions
(``bank_changes.act``), a review is submitted with its scores checked
(``evaluation.submit_review``), an award is accepted with the letter read and the
bank details (``awards.accept``), and changes to a report are asked per section
(``awards.request_changes``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from grants.models.accounts import User
from grants.models.awards import Award, BankDetailsChange, Report, Tranche
from grants.models.reviews import Review
from grants.services import awards, bank_changes, disbursements, evaluation
from grants.services.workflow import fire


def _tranche(person: User, tranche: Tranche, name: str, comment: str | None, **data: Any):
    disbursements.act(person, tranche.id, name, comment=comment, **data)


def _bank_change(
    person: User, change: BankDetailsChange, name: str, comment: str | None, **data: Any
):
    bank_changes.act(person, change.id, name, comment=comment, version=data.get("version"))


def _submit_review(person: User, review: Review, name: str, comment: str | None, **data: Any):
    evaluation.submit_review(person, review)


def _accept_award(person: User, award: Award, name: str, comment: str | None, **data: Any):
    awards.accept(person, award, data)


def _request_changes(person: User, report: Report, name: str, comment: str | None, **data: Any):
    if "review_comments" in data:
        awards.request_changes(person, report, data["review_comments"])
    else:
        fire(report, name, person, comment=comment)


#: (record type, transition or None for every transition) → what fires it.
SPECIAL: dict[tuple[type, str | None], Callable[..., None]] = {
    (Tranche, None): _tranche,
    (BankDetailsChange, None): _bank_change,
    (Review, "submit"): _submit_review,
    (Award, "accept"): _accept_award,
    (Report, "request_changes"): _request_changes,
}


def act(person: User, record: Any, name: str, comment: str | None = None, **data: Any) -> None:
    """Fire ``name`` on ``record`` as ``person``, through its special rules if it has
    any; refusals are the lifecycle's (``Forbidden``, ``Conflict``, ``GuardFailed``)."""
    kind = type(record)
    special = SPECIAL.get((kind, name)) or SPECIAL.get((kind, None))
    if special is not None:
        special(person, record, name, comment, **data)
    else:
        fire(record, name, person, comment=comment, **data)
