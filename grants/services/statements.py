"""Statement reconciliation: a camt.053 bank statement of one of the programme's accounts
confirms the payments of the files sent to the bank.

Each booked debit is matched to a tranche by its end-to-end id (the one our payment file
gave it), then, for a payment keyed in at the bank by hand, by its amount and the grant's
reference in the remittance information. A matched tranche becomes paid through its
lifecycle (``disbursements.act``: the award's lock, the four-eyes rules, the ledger), with
the bank's reference and value date. A line matching nothing, or a tranche its lifecycle
refuses to mark paid, is kept for a person to resolve.

A statement is read whole before anything is written: a file that is not a camt.053, is
of an account the programme does not have, or is in another currency changes nothing.
The same statement imported twice (the same bytes or the same statement id on the same
account) is recognised and changes nothing.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from grants import banking
from grants.extensions import db
from grants.models.accounts import User
from grants.models.applications import Application
from grants.models.awards import Award, Tranche
from grants.models.payments import BankStatement, DebtorAccount, PaymentFileItem, StatementLine
from grants.orm import utcnow
from grants.services import audit, disbursements
from grants.services.documents import store_file
from grants.services.errors import DomainError, InvalidInput, NotFound
from grants.services.figures import check_may_read

CAMT_053 = "urn:iso:std:iso:20022:tech:xsd:camt.053."
#: The largest statement read (a month of a busy account is far below).
SIZE_LIMIT = 10 * 1024 * 1024
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_pis=True
)
PAYABLE = ("approved", "payment_failed")


class StatementRefused(InvalidInput):
    """The file cannot be read as a statement of the programme: nothing was written."""

    def __init__(self, message: str):
        super().__init__(message, {"statement": [message]})


@dataclass(frozen=True)
class Debit:
    """One booked debit of the statement, as the bank wrote it."""

    bank_reference: str
    end_to_end_id: str
    amount: Decimal
    currency: str
    value_date: date
    remittance: str
    creditor_name: str
    exchange_rate: Decimal | None
    target_currency: str


@dataclass(frozen=True)
class ParsedStatement:
    reference: str
    iban: str
    currency: str
    created_on: date | None
    debits: list[Debit]


@dataclass(frozen=True)
class ImportResult:
    statement: BankStatement
    already_imported: bool


# --- reading ------------------------------------------------------------------------------


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _children(element: etree._Element | None, name: str) -> list[etree._Element]:
    if element is None:
        return []
    return [child for child in element if isinstance(child.tag, str) and _local(child) == name]


def _find(element: etree._Element | None, path: str) -> etree._Element | None:
    for name in path.split("/"):
        found = _children(element, name)
        element = found[0] if found else None
        if element is None:
            return None
    return element


def _text(element: etree._Element | None, path: str) -> str:
    found = _find(element, path)
    return " ".join((found.text or "").split()) if found is not None else ""


def _date(element: etree._Element | None, where: str) -> date | None:
    raw = _text(element, f"{where}/Dt") or _text(element, f"{where}/DtTm")[:10]
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _decimal(raw: str) -> Decimal | None:
    try:
        value = Decimal(raw)
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


def _unreadable() -> StatementRefused:
    return StatementRefused(
        _(
            "This file is not a camt.053 bank statement the product can read; ask the bank "
            "for the day's statement in ISO 20022 camt.053 format."
        )
    )


def parse_camt_053(content: bytes) -> ParsedStatement:
    """The account, currency and booked debits of a camt.053 (any version, 001.02 to
    001.12: the elements read here kept their names)."""
    try:
        root = etree.fromstring(content, _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        raise _unreadable() from None
    namespace = etree.QName(root).namespace or ""
    if not namespace.startswith(CAMT_053) or _local(root) != "Document":
        raise _unreadable()
    statements = _children(_find(root, "BkToCstmrStmt"), "Stmt")
    if not statements:
        raise _unreadable()
    if len(statements) > 1:
        raise StatementRefused(
            _(
                "This file holds %(count)s statements; import one statement at a time.",
                count=len(statements),
            )
        )
    [stmt] = statements
    account = _find(stmt, "Acct")
    iban = banking.normalise_iban(_text(account, "Id/IBAN"))
    reference = _text(stmt, "Id")
    if not iban or not reference:
        raise _unreadable()
    currency = _text(account, "Ccy")
    debits = []
    for entry in _children(stmt, "Ntry"):
        if _text(entry, "CdtDbtInd") != "DBIT":
            continue
        status = _text(entry, "Sts/Cd") or _text(entry, "Sts")
        if status != "BOOK":
            continue
        debits.extend(_entry_debits(entry))
    created = _text(stmt, "CreDtTm") or _text(_find(root, "BkToCstmrStmt"), "GrpHdr/CreDtTm")
    try:
        created_on = date.fromisoformat(created[:10]) if created else None
    except ValueError:
        created_on = None
    return ParsedStatement(reference[:35], iban, currency, created_on, debits)


def _entry_debits(entry: etree._Element) -> list[Debit]:
    amount_element = _find(entry, "Amt")
    if amount_element is None:
        raise _unreadable()
    entry_amount = _decimal(amount_element.text or "")
    entry_currency = amount_element.get("Ccy", "")
    value_date = _date(entry, "ValDt") or _date(entry, "BookgDt")
    entry_reference = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
    if entry_amount is None or value_date is None:
        raise _unreadable()
    details = [tx for group in _children(entry, "NtryDtls") for tx in _children(group, "TxDtls")]
    if not details:
        return [
            Debit(
                entry_reference,
                "",
                entry_amount,
                entry_currency,
                value_date,
                _text(entry, "AddtlNtryInf")[:140],
                "",
                None,
                "",
            )
        ]
    debits = []
    for tx in details:
        amount = (
            _find(tx, "Amt") if _find(tx, "Amt") is not None else _find(tx, "AmtDtls/TxAmt/Amt")
        )
        if amount is None and len(details) == 1:
            amount = amount_element
        if amount is None or _decimal(amount.text or "") is None:
            raise _unreadable()
        end_to_end = _text(tx, "Refs/EndToEndId")
        remittance = " ".join(
            (u.text or "").strip() for u in _children(_find(tx, "RmtInf"), "Ustrd")
        )
        creditor = _text(tx, "RltdPties/Cdtr/Pty/Nm") or _text(tx, "RltdPties/Cdtr/Nm")
        exchange = _find(tx, "AmtDtls/TxAmt/CcyXchg")
        debits.append(
            Debit(
                _text(tx, "Refs/AcctSvcrRef") or entry_reference,
                "" if end_to_end.upper() == "NOTPROVIDED" else end_to_end[:35],
                _decimal(amount.text or ""),
                amount.get("Ccy", entry_currency),
                value_date,
                remittance[:140],
                creditor[:140],
                _decimal(_text(exchange, "XchgRate")) if exchange is not None else None,
                _text(exchange, "TrgtCcy") if exchange is not None else "",
            )
        )
    return debits


# --- importing ----------------------------------------------------------------------------


def _account_of(parsed: ParsedStatement) -> DebtorAccount:
    accounts = list(
        db.session.scalars(select(DebtorAccount).where(DebtorAccount.iban == parsed.iban))
    )
    if not accounts:
        raise StatementRefused(
            _(
                "This statement is of the account %(iban)s, which is not one of the "
                "programme's accounts; nothing was imported.",
                iban=banking.format_iban(parsed.iban),
            )
        )
    currencies = {debit.currency for debit in parsed.debits} | (
        {parsed.currency} if parsed.currency else set()
    )
    matching = [a for a in accounts if {a.currency} >= currencies]
    if not matching:
        account = accounts[0]
        other = sorted(currencies - {account.currency}) or [parsed.currency]
        raise StatementRefused(
            _(
                "This statement is in %(currency)s, but the programme's account %(name)s is "
                "kept in %(account_currency)s; nothing was imported.",
                currency=", ".join(other),
                name=account.name,
                account_currency=account.currency,
            )
        )
    return matching[0]


def _by_end_to_end(debit: Debit) -> Tranche | None:
    if not debit.end_to_end_id:
        return None
    item = db.session.scalars(
        select(PaymentFileItem).where(PaymentFileItem.end_to_end_id == debit.end_to_end_id)
    ).one_or_none()
    return item.tranche if item is not None else None


def _by_amount_and_reference(debit: Debit, currency: str) -> Tranche | None:
    """Exactly one payable tranche of this amount and currency whose grant reference the
    bank's remittance information names; none when it is ambiguous."""
    if not debit.remittance:
        return None
    candidates = db.session.scalars(
        select(Tranche)
        .join(Award, Award.id == Tranche.award_id)
        .where(
            Tranche.state.in_(PAYABLE),
            Tranche.amount == debit.amount,
            Award.currency == currency,
        )
        .options(selectinload(Tranche.award).selectinload(Award.application))
    ).all()
    words = debit.remittance.upper()
    named = [t for t in candidates if t.payment_reference.upper() in words]
    if len(named) != 1:
        reference_only = [
            t
            for t in candidates
            if t.award.application.reference and t.award.application.reference.upper() in words
        ]
        named = reference_only if len(reference_only) == 1 else named
    return named[0] if len(named) == 1 else None


def _reconcile(person: User, debit: Debit, currency: str, now: datetime) -> tuple[str, int | None]:
    tranche = _by_end_to_end(debit) or _by_amount_and_reference(debit, currency)
    if tranche is None:
        return "unmatched", None
    if tranche.state == "paid":
        return "already_paid", tranche.id
    if tranche.amount != debit.amount or tranche.award.currency != currency:
        return "refused", tranche.id
    rate = None
    if debit.exchange_rate is not None and debit.target_currency == tranche.award.budget_currency:
        rate = debit.exchange_rate
    try:
        with db.session.begin_nested():
            disbursements.act(
                person,
                tranche.id,
                "pay",
                now=now,
                payment_date=debit.value_date,
                bank_reference=debit.bank_reference[:100],
                amount=debit.amount,
                bank_exchange_rate=rate,
            )
    except DomainError:
        return "refused", tranche.id
    return "matched", tranche.id


def import_statement(
    person: User, filename: str, content: bytes, now: datetime | None = None
) -> ImportResult:
    """Read the statement whole, then store it, record each debit and pay what matches."""
    check_may_read(person, "statements")
    now = now or utcnow()
    if not content:
        raise StatementRefused(_("The file is empty; choose the statement the bank sent."))
    if len(content) > SIZE_LIMIT:
        raise StatementRefused(_("The file is larger than 10 MB; import one statement at a time."))
    parsed = parse_camt_053(content)
    account = _account_of(parsed)
    digest = hashlib.sha256(content).hexdigest()
    earlier = db.session.scalars(
        select(BankStatement).where(
            (BankStatement.sha256 == digest)
            | (
                (BankStatement.debtor_account_id == account.id)
                & (BankStatement.reference == parsed.reference)
            )
        )
    ).first()
    if earlier is not None:
        return ImportResult(earlier, True)
    stored = store_file("statements", io.BytesIO(content), "application/xml")
    statement = BankStatement(
        debtor_account_id=account.id,
        reference=parsed.reference,
        sha256=digest,
        filename=(filename or "statement.xml")[:200],
        storage_key=stored.key,
        size=stored.size,
        currency=account.currency,
        created_on=parsed.created_on,
        imported_by_id=person.id,
        imported_at=now,
    )
    db.session.add(statement)
    db.session.flush()
    counts: dict[str, int] = {}
    for debit in parsed.debits:
        outcome, tranche_id = _reconcile(person, debit, account.currency, now)
        counts[outcome] = counts.get(outcome, 0) + 1
        db.session.add(
            StatementLine(
                statement_id=statement.id,
                bank_reference=debit.bank_reference[:100],
                end_to_end_id=debit.end_to_end_id,
                amount=debit.amount,
                value_date=debit.value_date,
                remittance=debit.remittance,
                creditor_name=debit.creditor_name,
                exchange_rate=debit.exchange_rate,
                target_currency=debit.target_currency[:3],
                outcome=outcome,
                tranche_id=tranche_id,
            )
        )
    db.session.flush()
    audit.record(
        person,
        "statement.imported",
        ("statement", statement.id),
        {outcome: [None, count] for outcome, count in sorted(counts.items())},
        note=parsed.reference,
    )
    return ImportResult(statement, False)


# --- reading what was imported ------------------------------------------------------------


def statements(person: User, page: int = 1, per_page: int = 25):
    check_may_read(person, "statements")
    statement = select(BankStatement).order_by(
        BankStatement.imported_at.desc(), BankStatement.id.desc()
    )
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


def statement(person: User, statement_id: int) -> BankStatement:
    check_may_read(person, "statements")
    found = db.session.scalars(
        select(BankStatement)
        .where(BankStatement.id == statement_id)
        .options(
            selectinload(BankStatement.lines)
            .selectinload(StatementLine.tranche)
            .selectinload(Tranche.award)
            .selectinload(Award.application)
            .selectinload(Application.association)
        )
    ).one_or_none()
    if found is None:
        raise NotFound(_("No such statement."))
    return found


def to_resolve(person: User, page: int = 1, per_page: int = 50):
    """Lines of every statement that paid no tranche: a person decides what they were."""
    check_may_read(person, "statements")
    statement = (
        select(StatementLine)
        .where(StatementLine.outcome.in_(("unmatched", "refused")))
        .options(
            selectinload(StatementLine.statement),
            selectinload(StatementLine.tranche)
            .selectinload(Tranche.award)
            .selectinload(Award.application),
        )
        .order_by(StatementLine.value_date, StatementLine.id)
    )
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)
