"""The audit trail of bank-detail changes, staff invitations and passkeys: the auditor's
"who approved this bank change" answered from the grant's page."""

from __future__ import annotations

from sqlalchemy import select

from grants.extensions import db
from grants.models.audit import AuditRow
from grants.services import bank_changes, staff_invitations
from tests.fixtures.programme import make_award

NEW_ACCOUNT = {
    "account_holder": "ASLD Bruxelles",
    "iban": "BE68539007547034",
    "account_number": "",
    "bank_name": "Belfius",
    "bic": "GKCCBEBB",
}


def _rows(kind: str) -> list[AuditRow]:
    return list(db.session.scalars(select(AuditRow).filter_by(kind=kind).order_by(AuditRow.id)))


def test_who_approved_this_bank_change_is_on_the_grants_page(world, login):
    award = make_award(world, state="active")
    change = bank_changes.request_bank_change(world.applicant, award, NEW_ACCOUNT, "New bank")
    bank_changes.act(world.finance, change.id, "approve")
    db.session.flush()
    [asked] = _rows("bank_change.requested")
    [approved] = _rows("bank_change.approved")
    assert (asked.actor_id, asked.record_type, asked.record_id) == (
        world.applicant.id,
        "award",
        award.id,
    )
    assert asked.note == "New bank"
    assert approved.actor_id == world.finance.id
    # The account number is kept masked: its last four characters only.
    assert approved.changes["iban"][1].endswith("7034") and "5390075" not in str(approved.changes)
    assert approved.changes["state"] == ["requested", "approved"]
    page = login(world.admin).get(f"/grants/{award.id}").get_data(as_text=True)
    assert "Change of bank details approved" in page and world.finance.display_name in page


def test_a_refusal_keeps_the_account_and_says_why(world):
    award = make_award(world, state="active")
    change = bank_changes.request_bank_change(world.applicant, award, NEW_ACCOUNT, "New bank")
    bank_changes.act(world.finance, change.id, "refuse", comment="Not the association's name")
    [refused] = _rows("bank_change.refused")
    assert refused.note == "Not the association's name"
    assert refused.changes == {"state": ["requested", "refused"]}


def test_invitations_sent_accepted_and_withdrawn_are_audited(world):
    invitation = staff_invitations.invite(world.admin, "new.officer@example.org", ["evaluator"])
    [sent] = _rows("invitation.sent")
    assert sent.actor_id == world.admin.id and sent.changes["roles"] == [[], ["evaluator"]]
    other = staff_invitations.invite(world.admin, "gone@example.org", ["finance_officer"])
    staff_invitations.revoke(world.admin, other.id)
    [withdrawn] = _rows("invitation.revoked")
    assert withdrawn.note == "gone@example.org"
    token = staff_invitations.link_token(invitation)
    person = staff_invitations.accept(token, "a-long-passphrase-of-four-words")
    [accepted] = _rows("invitation.accepted")
    assert accepted.actor_id == person.id and accepted.note == "password"
