"""The disbursement and reporting steps of the scenario through the pages: acceptance
with bank details, four eyes with two finance officers, a payment run, a bank change,
and a report with its variance rule. Each refusal says why and changes nothing."""

from __future__ import annotations

import csv
import html
import io
from decimal import Decimal

from sqlalchemy import select

from grants.extensions import db
from grants.models import LedgerEntry, Notification
from tests.clients import text_of
from tests.fixtures.programme import make_award

GOOD_BANK = {
    "account_holder": "Association des Sénégalais de Lyon",
    "iban": "FR14 2004 1010 0505 0001 3M02 606",
    "account_number": "",
    "bank_name": "La Banque Postale",
    "bic": "PSSTFRPPLYO",
}


def _accept_form(**changes):
    return {
        "signatory_name": "Awa Ndiaye",
        "signatory_role": "Présidente",
        "letter_read": "y",
        **GOOD_BANK,
        **changes,
    }


def test_accepting_with_a_malformed_iban_says_why_and_changes_nothing(world, login):
    award = make_award(world)
    award.iban = ""
    awa = login(world.applicant)
    response = awa.post(f"/grants/{award.id}/accept", data=_accept_form(iban="FR14 2004 1010"))
    assert response.status_code == 422
    assert "An IBAN from France has 27 characters; this one has 12." in text_of(response)
    assert award.state == "offered" and award.iban == ""
    world.applicant.locale = "fr"  # read in the association's language
    response = awa.post(f"/grants/{award.id}/accept", data=_accept_form(bic="GEBABEBB"))
    assert response.status_code == 422
    assert (
        "Le code SWIFT/BIC désigne une banque du pays Belgique (BE), "
        "l'IBAN un compte du pays France (FR)."
    ) in html.unescape(text_of(response))
    assert award.state == "offered" and award.iban == ""
    world.applicant.locale = "en"
    response = awa.post(f"/grants/{award.id}/accept", data=_accept_form(letter_read=""))
    assert response.status_code == 422
    assert "Confirm that you read the award letter." in text_of(response)
    assert award.state == "offered"


def test_the_association_reads_its_letter_and_accepts(world, login):
    award = make_award(world)
    awa = login(world.applicant)
    letter = awa.get(f"/grants/{award.id}/letter.pdf")
    assert letter.status_code == 200 and letter.mimetype == "application/pdf"
    assert letter.data.startswith(b"%PDF")
    response = awa.post(f"/grants/{award.id}/accept", data=_accept_form())
    assert response.status_code == 303
    assert award.state == "active"
    assert award.iban == "FR1420041010050500013M02606" and award.bic == "PSSTFRPPLYO"
    page = text_of(awa.get(f"/grants/{award.id}"))
    assert "FR14 2004 1010 0505 0001 3M02 606" in page
    [commitment] = db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.award_id == award.id)
    ).all()
    assert commitment.kind == "commitment" and commitment.amount == Decimal("32000")


def test_four_eyes_and_a_payment_run_through_the_pages(world, login):
    award = make_award(world, state="active")
    award.iban, award.bic = "FR1420041010050500013M02606", "PSSTFRPPLYO"
    first = award.tranches[0]  # USD 12,800: two approvals
    officer, finance_a, finance_b = (
        login(world.officer),
        login(world.finance),
        login(world.finance_b),
    )
    assert officer.post(f"/grants/tranches/{first.id}/request").status_code == 303
    assert first.state == "requested"

    queue = text_of(finance_a.get("/finance/"))
    assert award.application.reference in queue and "$12,800.00" in queue
    finance_a.post(f"/grants/tranches/{first.id}/approve")
    assert first.state == "requested" and first.current_approver_ids == {world.finance.id}
    # A's queue no longer offers it; approving again is refused with the reason.
    assert award.application.reference not in text_of(finance_a.get("/finance/"))
    again = finance_a.post(f"/grants/tranches/{first.id}/approve", follow_redirects=True)
    assert "You already approved this tranche" in text_of(again)
    assert len(first.approvals) == 1

    finance_b.post(f"/grants/tranches/{first.id}/approve")
    assert first.state == "approved"

    run = text_of(finance_b.get(f"/finance/run?tranche={first.id}"))
    assert "The run: 1 tranche" in run
    export = finance_b.get(f"/finance/run?tranche={first.id}&format=csv")
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
    assert rows[1][4] == "FR1420041010050500013M02606" and rows[1][8] == "12800.00"

    wrong = finance_b.post(
        f"/grants/tranches/{first.id}/pay",
        data={"payment_date": "2027-03-01", "bank_reference": "X", "amount": "12000"},
        follow_redirects=True,
    )
    assert "The amount paid must equal the approved amount, 12,800.00 USD." in text_of(wrong)
    assert first.state == "approved"
    paid = finance_b.post(
        f"/grants/tranches/{first.id}/pay",
        data={
            "payment_date": "2026-11-20",
            "bank_reference": "SN-2027-0611-001",
            "amount": "12800.00",
        },
    )
    assert paid.status_code == 303 and first.state == "paid"
    assert award.paid_total == Decimal("12800.00")
    grant = text_of(login(world.applicant).get(f"/grants/{award.id}"))
    assert "SN-2027-0611-001" in grant and "paid" in grant


def test_new_bank_details_hold_payments_until_a_finance_officer_approves(world, login):
    award = make_award(world, state="active")
    third = award.tranches[2]
    third.condition_report_id = None
    officer, finance, awa = login(world.officer), login(world.finance), login(world.applicant)
    officer.post(f"/grants/tranches/{third.id}/request")
    finance.post(f"/grants/tranches/{third.id}/approve")
    assert third.state == "approved"

    bad = awa.post(
        f"/grants/{award.id}/bank-details",
        data={**GOOD_BANK, "iban": "BE68539007547035", "reason": "New bank"},
    )
    assert bad.status_code == 422
    assert "check digits do not match" in text_of(bad) and not award.bank_change_pending
    asked = awa.post(
        f"/grants/{award.id}/bank-details",
        data={
            "account_holder": "ASLD Bruxelles",
            "iban": "BE68539007547034",
            "bank_name": "Belfius",
            "bic": "GKCCBEBB",
            "reason": "The association moved its account.",
        },
    )
    assert asked.status_code == 303 and award.bank_change_pending
    assert db.session.scalars(
        select(Notification).where(Notification.rule == "bank_change_requested")
    ).first()

    refused = login(world.finance_b).post(
        f"/grants/tranches/{third.id}/pay",
        data={"payment_date": "2026-11-20", "bank_reference": "R", "amount": "6400.00"},
        follow_redirects=True,
    )
    assert "New bank details of the association wait for a finance officer's decision" in (
        html.unescape(text_of(refused))
    )
    assert third.state == "approved"

    change_id = db.session.scalar(
        select(db.text("id")).select_from(db.text("bank_details_changes"))
    )
    finance.post(f"/grants/bank-changes/{change_id}/approve")
    assert not award.bank_change_pending and award.iban == "BE68539007547034"


def _report_form(award, **changes):
    first, second = award.application.budget_lines
    return {
        "activities": "Trained 20 young people.",
        "results": "12 are employed.",
        "difficulties": "",
        "next_steps": "",
        # An interim report answers for the first tranche's 40 % of each line.
        f"actual-{first.id}": "8000",  # 40 % of 20,000: on plan
        f"explanation-{first.id}": "",
        f"actual-{second.id}": "9000",  # 40 % of 18,000 is 7,200: 25 % over
        f"explanation-{second.id}": "",
        **changes,
    }


def test_a_report_with_an_unexplained_variance_cannot_be_submitted(world, login):
    award = make_award(world, state="active")
    interim = next(r for r in award.reports if r.kind == "interim")
    awa = login(world.applicant)
    page = f"/grants/{award.id}/reports/{interim.id}"

    bad = awa.post(
        page, data=_report_form(award, **{f"actual-{award.application.budget_lines[0].id}": "lots"})
    )
    assert bad.status_code == 422
    assert "Give the amount as a number, such as 1,250.50." in text_of(bad)
    assert interim.spending == [] and interim.activities == "Trained 20"

    assert awa.post(page, data=_report_form(award)).status_code == 303
    refused = awa.post(f"{page}/submit", follow_redirects=True)
    assert (
        "Explain the spending more than 10 % above what was planned for the period: Trainers."
        in text_of(refused)
    )
    assert interim.state == "scheduled"

    second = award.application.budget_lines[1]
    awa.post(page, data=_report_form(award, **{f"explanation-{second.id}": "Two more trainers."}))
    assert awa.post(f"{page}/submit").status_code == 303
    assert interim.state == "submitted"

    officer = login(world.officer)
    officer.post(f"{page}/review", data={"decision": "changes", "indicators": "Give them by sex."})
    assert interim.state == "changes_requested"
    assert interim.review_comments == {"indicators": "Give them by sex."}
    assert "Give them by sex." in text_of(awa.get(page))

    awa.post(f"{page}/submit")
    officer.post(f"{page}/review", data={"decision": "accept"})
    assert interim.state == "accepted"
    # The second tranche waited for this report: the officer hears it can be requested.
    told = db.session.scalars(
        select(Notification.recipient_id).where(Notification.rule == "tranche_requestable")
    ).all()
    assert world.officer.id in told
    second_tranche = award.tranches[1]
    assert officer.post(f"/grants/tranches/{second_tranche.id}/request").status_code == 303
    assert second_tranche.state == "requested"


def test_another_associations_report_is_not_found(world, login):
    award = make_award(world, state="active")
    report = award.reports[0]
    outsider = login(world.outsider)
    assert outsider.get(f"/grants/{award.id}/reports/{report.id}").status_code == 404
    assert outsider.post(f"/grants/{award.id}/reports/{report.id}/submit").status_code == 404
    assert outsider.get(f"/grants/{award.id}").status_code == 404
    assert report.state == "scheduled"
