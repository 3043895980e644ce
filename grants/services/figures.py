"""Who reads the programme's figures and files: the dashboards, the finance queue, the
payment run, the programme's totals, a grant's ledger and the officers' exports.

Declared once here; the pages (their ``role_required``) and the API (through
``check_may_read``) ask the same table, so a page and its API twin never disagree.
"""

from __future__ import annotations

from grants.models.accounts import User
from grants.policy import PROGRAMME, STAFF
from grants.roles import ADMIN, FINANCE_OFFICER
from grants.services.errors import Forbidden
from workflows.base import roles_sentence

FINANCE = frozenset({FINANCE_OFFICER})

#: What is read → the roles that read it.
READERS: dict[str, frozenset[str]] = {
    "programme_dashboard": PROGRAMME,
    "finance_dashboard": FINANCE,
    "finance_queue": FINANCE,
    "payment_run": FINANCE,
    "payment_files": FINANCE,
    "statements": FINANCE,
    "debtor_accounts": FINANCE | {ADMIN},
    "programme_totals": STAFF,
    "ledger": STAFF,
    "applications_export": PROGRAMME,
    "tranches_export": STAFF,
    "indicators_export": PROGRAMME,
}


def readers(what: str) -> tuple[str, ...]:
    """The roles that read ``what``, for ``role_required``."""
    return tuple(sorted(READERS[what]))


def check_may_read(person: User, what: str) -> None:
    """403 with the roles that may, before anything is computed."""
    if not READERS[what] & person.role_names:
        raise Forbidden(str(roles_sentence(READERS[what])))
