"""The words people read for states, transitions, kinds and sectors, in their language.

One table per thing named; ``state_label`` and ``transition_label`` are the way pages,
messages and the state machines' sentences name a lifecycle's states and transitions.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

AWARD_STATE_LABELS = {
    "offered": lazy_pgettext("award state", "offered, waiting for acceptance"),
    "active": lazy_pgettext("award state", "active"),
    "declined": lazy_pgettext("award state", "declined"),
    "suspended": lazy_pgettext("award state", "suspended"),
    "terminated": lazy_pgettext("award state", "terminated"),
    "completed": lazy_pgettext("award state", "completed"),
}
TRANCHE_STATE_LABELS = {
    "planned": lazy_pgettext("tranche state", "planned"),
    "requested": lazy_pgettext("tranche state", "requested, waiting for approval"),
    "approved": lazy_pgettext("tranche state", "approved, waiting for payment"),
    "paid": lazy_pgettext("tranche state", "paid"),
    "payment_failed": lazy_pgettext("tranche state", "payment failed"),
    "cancelled": lazy_pgettext("tranche state", "cancelled"),
}
BANK_CHANGE_STATE_LABELS = {
    "new": lazy_pgettext("bank change state", "being asked for"),
    "requested": lazy_pgettext("bank change state", "requested, waiting for a decision"),
    "approved": lazy_pgettext("bank change state", "approved"),
    "refused": lazy_pgettext("bank change state", "refused"),
    "cancelled": lazy_pgettext("bank change state", "withdrawn"),
}
REPORT_STATE_LABELS = {
    "scheduled": _l("to submit"),
    "submitted": _l("submitted, under review"),
    "changes_requested": _l("changes requested"),
    "accepted": _l("accepted"),
}
REPORT_KIND_LABELS = {"interim": _l("interim"), "final": _l("final")}
TRANCHE_ACTION_LABELS = {
    "request": _l("Request"),
    "approve": _l("Approve"),
    "pay": _l("Record the payment"),
    "fail": _l("Payment failed"),
    "return": _l("Send back"),
    "cancel": _l("Cancel"),
}
LEDGER_KIND_LABELS = {
    "commitment": _l("commitment"),
    "payment": _l("payment"),
    "refund": _l("refund"),
}
SECTION_LABELS = {
    "activities": _l("Activities carried out"),
    "results": _l("Results"),
    "difficulties": _l("Difficulties"),
    "next_steps": _l("Next steps"),
    "spending": _l("Spending"),
    "indicators": _l("Indicators"),
}
SECTOR_LABELS = {
    "employment": _l("Employment"),
    "education": _l("Education"),
    "health": _l("Health"),
    "human_rights_social_security": _l("Human rights & social security"),
}
APPLICATION_STATE_LABELS = {
    "draft": lazy_pgettext("application state", "draft"),
    "concept_submitted": lazy_pgettext("application state", "concept note submitted"),
    "concept_declined": lazy_pgettext("application state", "concept note declined"),
    "proposal_draft": lazy_pgettext("application state", "full proposal in preparation"),
    "submitted": lazy_pgettext("application state", "submitted"),
    "eligible": lazy_pgettext("application state", "eligible"),
    "ineligible": lazy_pgettext("application state", "ineligible"),
    "in_review": lazy_pgettext("application state", "in review"),
    "reviewed": lazy_pgettext("application state", "reviewed"),
    "awarded": lazy_pgettext("application state", "awarded"),
    "waitlisted": lazy_pgettext("application state", "on the waiting list"),
    "rejected": lazy_pgettext("application state", "rejected"),
    "withdrawn": lazy_pgettext("application state", "withdrawn"),
}
ASSOCIATION_STATE_LABELS = {
    "pending": _l("waiting for verification"),
    "verified": _l("verified"),
    "rejected": _l("rejected"),
    "suspended": _l("suspended"),
}
CALL_STATE_LABELS = {
    "draft": _l("draft"),
    "open": _l("open"),
    "closed": _l("closed"),
    "archived": _l("archived"),
    "cancelled": _l("cancelled"),
}
REVIEW_STATE_LABELS = {
    "assigned": lazy_pgettext("review state", "assigned"),
    "conflicted": lazy_pgettext("review state", "conflict of interest declared"),
    "submitted": lazy_pgettext("review state", "submitted"),
}
#: Every state of every lifecycle, by the machine's entity name (``workflows.MACHINES``).
STATE_LABELS = {
    "association": ASSOCIATION_STATE_LABELS,
    "call": CALL_STATE_LABELS,
    "application": APPLICATION_STATE_LABELS,
    "review": REVIEW_STATE_LABELS,
    "award": AWARD_STATE_LABELS,
    "tranche": TRANCHE_STATE_LABELS,
    "report": REPORT_STATE_LABELS,
    "bank_change": BANK_CHANGE_STATE_LABELS,
}
#: Every transition of every lifecycle: the button, the confirmation, the history line.
TRANSITION_LABELS = {
    "association": {
        "verify": lazy_pgettext("association transition", "Verify"),
        "reject": lazy_pgettext("association transition", "Reject"),
        "suspend": lazy_pgettext("association transition", "Suspend"),
        "reinstate": lazy_pgettext("association transition", "Reinstate"),
    },
    "call": {
        "publish": lazy_pgettext("call transition", "Publish"),
        "close": lazy_pgettext("call transition", "Close"),
        "archive": lazy_pgettext("call transition", "Archive"),
        "cancel": lazy_pgettext("call transition", "Cancel"),
        "extend_deadline": lazy_pgettext("call transition", "Extend the deadline"),
    },
    "application": {
        "submit": lazy_pgettext("application transition", "Submit"),
        "submit_concept": lazy_pgettext("application transition", "Submit the concept note"),
        "invite_proposal": lazy_pgettext("application transition", "Invite a full proposal"),
        "decline_concept": lazy_pgettext("application transition", "Decline the concept note"),
        "submit_proposal": lazy_pgettext("application transition", "Submit the full proposal"),
        "mark_eligible": lazy_pgettext("application transition", "Mark eligible"),
        "mark_ineligible": lazy_pgettext("application transition", "Mark ineligible"),
        "return_to_applicant": lazy_pgettext("application transition", "Return to the applicants"),
        "start_review": lazy_pgettext("application transition", "Start the review"),
        "complete_review": lazy_pgettext("application transition", "Complete the review"),
        "award": lazy_pgettext("application transition", "Award"),
        "waitlist": lazy_pgettext("application transition", "Put on the waiting list"),
        "reject": lazy_pgettext("application transition", "Reject"),
        "withdraw": lazy_pgettext("application transition", "Withdraw"),
    },
    "review": {
        "declare_conflict": lazy_pgettext("review transition", "Declare a conflict"),
        "submit": lazy_pgettext("review transition", "Submit"),
        "reopen": lazy_pgettext("review transition", "Reopen"),
    },
    "award": {
        "accept": lazy_pgettext("award transition", "Accept"),
        "decline": lazy_pgettext("award transition", "Decline"),
        "suspend": lazy_pgettext("award transition", "Suspend"),
        "resume": lazy_pgettext("award transition", "Resume"),
        "terminate": lazy_pgettext("award transition", "Terminate"),
        "complete": lazy_pgettext("award transition", "Complete"),
    },
    "tranche": TRANCHE_ACTION_LABELS,
    "report": {
        "submit": lazy_pgettext("report transition", "Submit"),
        "request_changes": lazy_pgettext("report transition", "Request changes"),
        "accept": lazy_pgettext("report transition", "Accept"),
    },
    "bank_change": {
        "request": lazy_pgettext("bank change transition", "Ask for the change"),
        "approve": lazy_pgettext("bank change transition", "Approve the new details"),
        "refuse": lazy_pgettext("bank change transition", "Refuse the new details"),
        "cancel": lazy_pgettext("bank change transition", "Withdraw the change"),
    },
}
RECOMMENDATION_LABELS = {
    "fund": _l("Fund"),
    "fund_with_conditions": _l("Fund with conditions"),
    "do_not_fund": _l("Do not fund"),
}
ROLE_LABELS = {
    "applicant": _l("association member"),
    "evaluator": _l("evaluator"),
    "programme_officer": _l("programme officer"),
    "finance_officer": _l("finance officer"),
    "admin": _l("admin"),
}
#: What a transition asks for in its comment box (``Rule.comment_label``).
COMMENT_LABELS = {
    "comment": _l("comment"),
    "reason": _l("reason"),
    "feedback": _l("feedback"),
}


def state_label(entity: str, state: str) -> str:
    """The words for ``state`` of an ``entity`` lifecycle; the raw value if unknown."""
    label = STATE_LABELS.get(entity, {}).get(state)
    return state if label is None else str(label)


#: Rows of a history that are no transition: what an officer recorded about the record.
HISTORY_LABELS = {
    "application": {
        "duplicate": lazy_pgettext("application history", "Recorded as a duplicate"),
        "not_duplicate": lazy_pgettext("application history", "Recorded as not a duplicate"),
    },
}


def transition_label(entity: str, name: str) -> str:
    """The words for the transition ``name`` of an ``entity`` lifecycle, as on a button."""
    label = TRANSITION_LABELS.get(entity, {}).get(name) or HISTORY_LABELS.get(entity, {}).get(name)
    return name if label is None else str(label)
