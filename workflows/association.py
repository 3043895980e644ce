"""Verification of a diaspora association by a programme officer."""

from __future__ import annotations

from workflows.base import Lifecycle, State, rule
from workflows.sentences import _l

OFFICER = "programme_officer"


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

    rules = {
        "verify": rule(OFFICER, summary=_l("The registration documents check out.")),
        "reject": rule(
            OFFICER,
            comment_required=True,
            comment_label="reason",
            summary=_l("Not a diaspora association eligible for the programme."),
        ),
        "suspend": rule(
            OFFICER,
            comment_required=True,
            comment_label="reason",
            summary=_l("Stop its applications until the matter is cleared."),
        ),
        "reinstate": rule(OFFICER, comment_required=True, comment_label="reason"),
    }
