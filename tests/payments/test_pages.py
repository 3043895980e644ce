"""The finance officer's walk without JavaScript: an administrator adds the programme's
account, finance generates the run's pain.001, downloads it, imports the bank's camt.053,
and the grant shows the tranche paid with the bank's reference."""

from __future__ import annotations

import html
import io

import time_machine
from lxml import etree
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import BankStatement, DebtorAccount, PaymentFile
from grants.services import payment_files
from tests.clients import text_of as page_text
from tests.fixtures import camt053
from tests.fixtures.camt053 import Booking
from tests.payments.helpers import LATER, STATEMENT_DAY, approved_tranche


def text_of(response) -> str:
    return html.unescape(page_text(response))


def _upload(client, content: bytes, name: str = "statement.xml"):
    return client.post(
        "/finance/statements",
        data={"statement": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_an_administrator_adds_the_programme_account_and_a_bad_iban_is_explained(world, login):
    admin = login(world.admin)
    bad = admin.post(
        "/finance/accounts",
        data={
            "name": "Operations",
            "iban": "DE89 3704 0044 0532 0130 01",
            "bic": "COBADEFF",
            "currency": "USD",
        },
    )
    assert bad.status_code == 422
    assert "The IBAN's check digits do not match: check for a typing mistake." in text_of(bad)
    assert db.session.scalar(select(func.count(DebtorAccount.id))) == 0
    good = admin.post(
        "/finance/accounts",
        data={
            "name": "Operations",
            "iban": "DE89 3704 0044 0532 0130 00",
            "bic": "COBADEFF",
            "currency": "USD",
        },
    )
    assert good.status_code == 303
    page = text_of(login(world.finance).get("/finance/accounts"))
    assert "Operations" in page and "DE89 3704 0044 0532 0130 00" in page
    assert "Add the account" not in page  # finance reads, the administrator adds


def test_generate_download_and_reconcile_through_the_pages(world, login):
    payment_files.add_debtor_account(
        world.admin, "Operations", "DE89370400440532013000", "COBADEFFXXX", "USD"
    )
    account = db.session.scalars(select(DebtorAccount)).one()
    tranche = approved_tranche(world)
    reference = tranche.payment_reference
    with time_machine.travel(LATER, tick=False):
        finance = login(world.finance)
        run = text_of(finance.get(f"/finance/run?tranche={tranche.id}"))
        assert "Payment file for the bank (ISO 20022)" in run
        assert "Pay the USD tranches from" in run

        past = finance.post(
            "/finance/files",
            data={"tranche": tranche.id, "account_USD": account.id, "execution_date": "2027-01-01"},
            follow_redirects=True,
        )
        assert "The execution date cannot be in the past." in text_of(past)
        assert db.session.scalar(select(func.count(PaymentFile.id))) == 0

        made = finance.post(
            "/finance/files",
            data={
                "tranche": tranche.id,
                "account_USD": account.id,
                "execution_date": LATER.date().isoformat(),
            },
        )
        assert made.status_code == 303
        payment_file = db.session.scalars(select(PaymentFile)).one()
        page = text_of(finance.get(made.location))
        assert payment_file.message_id in page and "12,800.00" in page and reference in page

        listed = text_of(finance.get("/finance/files"))
        assert payment_file.message_id in listed and "$12,800.00" in listed

        download = finance.get(f"/finance/files/{payment_file.id}/pain.001.xml")
        assert download.status_code == 200 and download.mimetype == "application/xml"
        document = etree.fromstring(download.get_data())
        payment_files.pain_001_schema().assertValid(etree.ElementTree(document))

        again = finance.post(
            "/finance/files",
            data={
                "tranche": tranche.id,
                "account_USD": account.id,
                "execution_date": LATER.date().isoformat(),
            },
            follow_redirects=True,
        )
        assert "already in a payment file" in text_of(again)
        assert db.session.scalar(select(func.count(PaymentFile.id))) == 1

        foreign = _upload(finance, b"Date;Amount\n2027-03-04;12800\n", "statement.csv")
        assert foreign.status_code == 422
        assert "This file is not a camt.053 bank statement" in text_of(foreign)
        assert db.session.scalar(select(func.count(BankStatement.id))) == 0

        [item] = payment_file.items
        content = camt053.statement(
            "DE89370400440532013000",
            "USD",
            [
                Booking(
                    item.amount,
                    "BNK-2027-0304-1",
                    STATEMENT_DAY,
                    item.end_to_end_id,
                    item.remittance,
                    item.creditor_name,
                ),
                Booking(item.amount, "BNK-UNKNOWN", STATEMENT_DAY, remittance="Unknown"),
            ],
        )
        imported = _upload(finance, content)
        assert imported.status_code == 303
        statement = text_of(finance.get(imported.location))
        assert "paid the tranche" in statement and "no tranche found" in statement
        assert tranche.state == "paid" and tranche.bank_reference == "BNK-2027-0304-1"

        twice = _upload(finance, content)
        assert "was already imported" in text_of(finance.get(twice.location))
        assert db.session.scalar(select(func.count(BankStatement.id))) == 1

        statements_page = text_of(finance.get("/finance/statements"))
        assert "Debits to resolve" in statements_page and "BNK-UNKNOWN" in statements_page

        cancel = finance.post(
            f"/finance/files/{payment_file.id}/cancel", data={"reason": "x"}, follow_redirects=True
        )
        assert "already paid" in text_of(cancel) and payment_file.state == "generated"

    grant = text_of(login(world.applicant).get(f"/grants/{tranche.award_id}"))
    assert "BNK-2027-0304-1" in grant
