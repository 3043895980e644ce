"""Changes of a grant's bank details, through their lifecycle (``workflows.bank_change``).

Every step locks the award row first (``disbursements.lock_award``), as the tranches'
steps do: a request, a decision and a tranche's approval or payment on the same grant
therefore queue on one lock, and whoever comes second sees the first's outcome. No
tranche is approved or paid between a request and its decision, and two finance
officers deciding at once do not both pass (the second is told it was decided).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from grants import text_limits as limits
from grants.banking import bank_details_problems
from grants.extensions import db
from grants.models.accounts import User
from grants.models.awards import Award, BankDetailsChange
from grants.services import audit
from grants.services.awards import visible_award
from grants.services.disbursements import lock_award
from grants.services.errors import Conflict, InvalidInput, NotFound, NotPermitted
from grants.services.workflow import context, fire
from workflows.bank_change import DETAIL_FIELDS, BankChangeLifecycle

#: What is fired on a change once it exists (its request is ``request_bank_change``).
DECISIONS = ("approve", "refuse", "cancel")

#: The audit row each step writes, on the grant's record.
AUDIT_KINDS = {
    "request": "bank_change.requested",
    "approve": "bank_change.approved",
    "refuse": "bank_change.refused",
    "cancel": "bank_change.cancelled",
}


def masked(field: str, value: str | None) -> str:
    """An account number as the audit trail keeps it: its last four characters."""
    value = value or ""
    if field in ("iban", "account_number") and len(value) > 4:
        return "•" * (len(value) - 4) + value[-4:]
    return value


def _account(record: Any) -> dict[str, str]:
    return {field: masked(field, getattr(record, field)) for field in DETAIL_FIELDS}


def _audit(
    person: User, transition: str, change: BankDetailsChange, before: dict, note: str | None
) -> None:
    """The step in the audit trail of the grant: who, from where, and the account to pay
    before and after (the grant's for a decision; the one asked for, for a request)."""
    after = _account(change if transition == "request" else change.award)
    changes = {name: [before[name], after[name]] for name in before if before[name] != after[name]}
    changes["state"] = [None if transition == "request" else "requested", change.state]
    audit.record(
        person,
        AUDIT_KINDS[transition],
        ("award", change.award_id),
        changes,
        note=(note or "").strip(),
    )


def check_may_request(person: User, award: Award) -> None:
    """Whoever may not ask for a change on this grant is refused (403) before anything of
    theirs is read: only its association's members may."""
    change = BankDetailsChange(award=award)
    problem = BankChangeLifecycle.permission_problem("request", change, context(person))
    if problem:
        raise NotPermitted(problem)


def request_bank_change(
    member: User,
    award: Award,
    details: dict[str, str],
    reason: str,
    now: datetime | None = None,
) -> BankDetailsChange:
    """The association asks to be paid to another account, saying why; no tranche of the
    grant is approved or paid until a finance officer decides.

    Refused with nothing written: 403 for whoever is not a member, 422 with field
    errors for bad details or no reason, 422 with the reason when the grant is not
    active or another change already waits."""
    details = {name: (details.get(name) or "").strip() for name in DETAIL_FIELDS}
    reason = (reason or "").strip()
    check_may_request(member, award)
    change = BankDetailsChange(award=award, reason=reason, **details)
    ctx = context(member, now=now)
    errors = limits.problems({**details, "reason": reason}, limits.BANK_CHANGE)
    if not errors:
        errors = bank_details_problems(details)
    if not reason:
        errors.setdefault("reason", []).append(_("Say why the bank details change."))
    if errors:
        raise InvalidInput(_("The bank details are not valid."), errors)
    lock_award(award.id)
    # Under the lock: is the grant active, does no other change wait? Asked before the
    # row is written, so a refusal leaves nothing behind.
    BankChangeLifecycle.check("request", change, ctx, BankChangeLifecycle.initial_value())
    with db.session.begin_nested():
        db.session.add(change)
        db.session.flush()
        fire(change, "request", member, comment=reason, now=ctx.now)
        _audit(member, "request", change, _account(award), reason)
    return change


def visible_change(person: User, change_id: int) -> BankDetailsChange:
    """A change of bank details of a grant the person may see, else 404."""
    change = db.session.get(BankDetailsChange, change_id)
    if change is None:
        raise NotFound(_("No such change of bank details."))
    visible_award(person, change.award_id)
    return change


def act(
    person: User,
    change_id: int,
    transition: str,
    comment: str | None = None,
    version: Any = None,
    now: datetime | None = None,
) -> BankDetailsChange:
    """Approve, refuse or withdraw a change under the grant's lock. ``version`` is the
    one the person read: when the change moved on since, the answer is 409 and nothing
    is written."""
    if transition not in DECISIONS:
        raise NotFound(_("No such action."))
    change = visible_change(person, change_id)
    lock_award(change.award_id)
    db.session.refresh(change)
    if version is not None and str(version).strip() != str(change.version):
        raise Conflict(_("This change of bank details changed since you opened it; read it again."))
    before = _account(change.award)
    fire(change, transition, person, comment=comment, now=now)
    _audit(person, transition, change, before, comment)
    return change


def bank_changes(award: Award) -> Select:
    """Every change of bank details asked for on the grant, newest first, to page."""
    return (
        select(BankDetailsChange)
        .where(BankDetailsChange.award_id == award.id)
        .options(
            selectinload(BankDetailsChange.requested_by),
            selectinload(BankDetailsChange.decided_by),
        )
        .order_by(BankDetailsChange.id.desc())
    )


def pending_bank_change(award: Award) -> BankDetailsChange | None:
    """The change that waits for a decision, if one does."""
    if not award.bank_change_pending:
        return None
    return db.session.scalars(
        select(BankDetailsChange)
        .where(BankDetailsChange.award_id == award.id, BankDetailsChange.state == "requested")
        .options(selectinload(BankDetailsChange.requested_by))
    ).first()


#: How many decided changes a grant's page shows (the API lists them all, a page at a time).
DECIDED_SHOWN = 5


def decided_bank_changes(award: Award) -> list[BankDetailsChange]:
    """The latest decided changes of the grant, with who asked and who decided, in one
    query: who approved, refused or withdrew which account, and when."""
    return list(
        db.session.scalars(
            select(BankDetailsChange)
            .where(
                BankDetailsChange.award_id == award.id,
                BankDetailsChange.state.in_(("approved", "refused", "cancelled")),
            )
            .options(
                joinedload(BankDetailsChange.requested_by),
                joinedload(BankDetailsChange.decided_by),
            )
            .order_by(BankDetailsChange.id.desc())
            .limit(DECIDED_SHOWN)
        )
    )
