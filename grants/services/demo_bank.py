"""The demo's bank: the programme's account, and the camt.053 statement a bank would send
back once it executed a payment file, so that the whole round (run, pain.001, statement,
tranches paid) can be walked through without a real bank."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from lxml import etree
from sqlalchemy import select

from grants.extensions import db
from grants.models.accounts import User
from grants.models.payments import DebtorAccount, PaymentFile
from grants.orm import utcnow
from grants.services import payment_files

CAMT_053 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
#: The programme's account at the demo bank (Belfius, Brussels), paying in US dollars.
ACCOUNT = {
    "name": "Diaspora Grants programme",
    "iban": "BE71096123456769",
    "bic": "GKCCBEBB",
    "currency": "USD",
}
OPENING_BALANCE = Decimal("250000.00")


def seed_programme_account(admin: User) -> DebtorAccount:
    """The programme's account, once."""
    found = db.session.scalars(
        select(DebtorAccount).where(
            DebtorAccount.iban == ACCOUNT["iban"], DebtorAccount.currency == ACCOUNT["currency"]
        )
    ).one_or_none()
    return found or payment_files.add_debtor_account(admin, **ACCOUNT)


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attributes):
    element = etree.SubElement(parent, f"{{{CAMT_053}}}{tag}", attributes)
    if text is not None:
        element.text = text
    return element


def _amount(parent: etree._Element, tag: str, value: Decimal, currency: str) -> None:
    _sub(parent, tag, f"{value.quantize(Decimal('0.01')):f}", Ccy=currency)


def _balance(statement: etree._Element, code: str, value: Decimal, currency: str, day: date):
    balance = _sub(statement, "Bal")
    _sub(_sub(_sub(balance, "Tp"), "CdOrPrtry"), "Cd", code)
    _amount(balance, "Amt", abs(value), currency)
    _sub(balance, "CdtDbtInd", "CRDT" if value >= 0 else "DBIT")
    _sub(_sub(balance, "Dt"), "Dt", day.isoformat())


def statement_for(payment_file: PaymentFile, now: datetime | None = None) -> bytes:
    """The camt.053.001.08 statement of the day the bank executed ``payment_file``: each
    transfer booked as a debit with the file's end-to-end id and a bank reference."""
    now = now or utcnow()
    day = min(payment_file.execution_date, now.date())
    account = payment_file.debtor_account
    currency = payment_file.currency
    root = etree.Element(f"{{{CAMT_053}}}Document", nsmap={None: CAMT_053})
    report = _sub(root, "BkToCstmrStmt")
    header = _sub(report, "GrpHdr")
    _sub(header, "MsgId", f"DEMOBANK-{payment_file.message_id}"[:35])
    _sub(header, "CreDtTm", now.replace(microsecond=0).isoformat())
    statement = _sub(report, "Stmt")
    _sub(statement, "Id", f"STMT-{payment_file.message_id}"[:35])
    _sub(statement, "CreDtTm", now.replace(microsecond=0).isoformat())
    account_element = _sub(statement, "Acct")
    _sub(_sub(account_element, "Id"), "IBAN", account.iban)
    _sub(account_element, "Ccy", currency)
    _balance(statement, "OPBD", OPENING_BALANCE, currency, day)
    _balance(statement, "CLBD", OPENING_BALANCE - payment_file.total, currency, day)
    for number, item in enumerate(payment_file.items, start=1):
        reference = f"DEMO{day:%y%m%d}{payment_file.id:04d}{number:03d}"
        entry = _sub(statement, "Ntry")
        _amount(entry, "Amt", item.amount, currency)
        _sub(entry, "CdtDbtInd", "DBIT")
        _sub(_sub(entry, "Sts"), "Cd", "BOOK")
        _sub(_sub(entry, "BookgDt"), "Dt", day.isoformat())
        _sub(_sub(entry, "ValDt"), "Dt", day.isoformat())
        _sub(entry, "AcctSvcrRef", reference)
        domain = _sub(_sub(entry, "BkTxCd"), "Domn")
        _sub(domain, "Cd", "PMNT")
        family = _sub(domain, "Fmly")
        _sub(family, "Cd", "ICDT")
        _sub(family, "SubFmlyCd", "ESCT")
        transaction = _sub(_sub(entry, "NtryDtls"), "TxDtls")
        refs = _sub(transaction, "Refs")
        _sub(refs, "AcctSvcrRef", reference)
        _sub(refs, "EndToEndId", item.end_to_end_id)
        _amount(transaction, "Amt", item.amount, currency)
        _sub(transaction, "CdtDbtInd", "DBIT")
        party = _sub(_sub(_sub(transaction, "RltdPties"), "Cdtr"), "Pty")
        _sub(party, "Nm", item.creditor_name)
        _sub(_sub(transaction, "RmtInf"), "Ustrd", item.remittance)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
