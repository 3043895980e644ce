"""Verification of a diaspora association by a programme officer."""

from __future__ import annotations

from typing import Any

from workflows.base import DESTRUCTIVE, PRIMARY, Context, Lifecycle, State, rule
from workflows.sentences import Names, Sentence, _l

OFFICER = "programme_officer"

#: The documents an association provides before it can be verified, by purpose.
REQUIRED_DOCUMENTS: dict[str, Sentence] = {
    "registration_certificate": _l("Registration certificate"),
    "statutes": _l("Statutes"),
}


def registration_documents_present(association: Any, ctx: Context) -> Sentence | None:
    """Its registration certificate and statutes are uploaded (the current versions)."""
    known: dict[int, set[str]] = ctx.cached("verification_documents", dict)
    if association.id not in known:
        known.update(association.verification_purposes())
    present = known[association.id]
    missing = [name for purpose, name in REQUIRED_DOCUMENTS.items() if purpose not in present]
    if missing:
        return _l(
            "The association has not provided these documents yet: %(names)s.",
            names=Names(missing),
        )
    return None


class AssociationLifecycle(Lifecycle):
    entity = "association"
    title = "an association"
    #: A verified association stays on the books; it has no final state.
    validate_final_reachability = False

    pending = State("Waiting for verification", initial=True, value="pending")
    verified = State("Verified", value="verified")
    rejected = State("Rejected", value="rejected", final=True)
    suspended = State("Suspended", value="suspended")

    verify = pending.to(verified)
    reject = pending.to(rejected)
    suspend = verified.to(suspended)
    reinstate = suspended.to(verified)

    next_steps = {
        "verified": _l("Its members can apply to calls for verified associations."),
        "suspended": _l("Its members cannot submit applications until it is reinstated."),
        "rejected": _l("This is final."),
    }

    rules = {
        "verify": rule(
            OFFICER,
            guards=(registration_documents_present,),
            summary=_l("The registration documents check out."),
            tone=PRIMARY,
        ),
        "reject": rule(
            OFFICER,
            comment_required=True,
            comment_label="reason",
            summary=_l("Not a diaspora association eligible for the programme."),
            tone=DESTRUCTIVE,
        ),
        "suspend": rule(
            OFFICER,
            comment_required=True,
            comment_label="reason",
            summary=_l("Stop its applications until the matter is cleared."),
            tone=DESTRUCTIVE,
        ),
        "reinstate": rule(OFFICER, comment_required=True, comment_label="reason"),
    }
