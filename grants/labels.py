"""The words people read for states and kinds of the money side, in their language."""

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
