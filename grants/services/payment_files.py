"""Payment files: the programme's debtor accounts and the ISO 20022 pain.001.001.09
credit-transfer files a payment run produces, one per debtor account and currency.

A file is generated once and kept in the document store; what it says is also kept row by
row (``PaymentFileItem``), so the statement that comes back can be matched to it. A tranche
is in at most one file that is not cancelled (a partial unique index says so whatever the
code does): paying it twice would take two files. Cancelling a file is audited.

The XML is built with lxml and checked against the official schema (shipped by
``sepaxml``) before anything is stored: a file the bank would refuse is never kept.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources

from flask_babel import gettext as _
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from grants import banking
from grants.extensions import db
from grants.models.accounts import User
from grants.models.applications import Application
from grants.models.awards import Award, BankDetailsChange, Tranche
from grants.models.payments import DebtorAccount, PaymentFile, PaymentFileItem
from grants.orm import utcnow
from grants.reference import active_currencies
from grants.roles import ADMIN
from grants.services import audit, payment_runs
from grants.services.documents import open_document_key, store_file
from grants.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from grants.services.figures import check_may_read

PAIN_001 = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"
CONTENT_TYPE = "application/xml"
#: What the bank reads as the programme's name on the file (ISO 20022 Max140Text).
NAME_LIMIT = 140
#: ISO 20022 Max35Text: message, payment and end-to-end identifications.
ID_LIMIT = 35


@cache
def pain_001_schema() -> etree.XMLSchema:
    """The official pain.001.001.09 schema, as ``sepaxml`` ships it."""
    path = resources.files("sepaxml") / "schemas" / "pain.001.001.09.xsd"
    with path.open("rb") as stream:
        return etree.XMLSchema(etree.parse(stream))


# --- debtor accounts ----------------------------------------------------------------------


def debtor_accounts() -> list[DebtorAccount]:
    return list(
        db.session.scalars(
            select(DebtorAccount).order_by(DebtorAccount.currency, DebtorAccount.name)
        )
    )


def add_debtor_account(actor: User, name: str, iban: str, bic: str, currency: str) -> DebtorAccount:
    """A new account the programme pays from: IBAN checksum, BIC shape and the BIC's
    country against the IBAN's, a currency in use; an account is added once per currency."""
    if ADMIN not in actor.role_names:
        raise Forbidden(_("Only an administrator adds the programme's accounts."))
    name = (name or "").strip()
    iban = banking.normalise_iban(iban or "")
    bic = banking.normalise_bic(bic or "")
    currency = (currency or "").strip().upper()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Give the account's name.")]
    elif len(name) > 70:
        errors["name"] = [_("The account's name has at most 70 characters.")]
    if problem := banking.iban_problem(iban):
        errors["iban"] = [str(problem)]
    if problem := banking.bic_problem(bic):
        errors["bic"] = [str(problem)]
    elif "iban" not in errors and (problem := banking.bic_matches_iban(bic, iban)):
        errors["bic"] = [str(problem)]
    if currency not in active_currencies():
        errors["currency"] = [_("Give a currency code in use, such as EUR or USD.")]
    if not errors and db.session.scalar(
        select(DebtorAccount.id).where(
            DebtorAccount.iban == iban, DebtorAccount.currency == currency
        )
    ):
        errors["iban"] = [_("This account is already one of the programme's accounts.")]
    if errors:
        raise InvalidInput(_("The account was not added."), errors)
    account = DebtorAccount(
        name=name,
        iban=iban,
        bic=bic,
        currency=currency,
        created_by_id=actor.id,
        created_at=utcnow(),
    )
    db.session.add(account)
    db.session.flush()
    audit.record(
        actor,
        "debtor_account.added",
        ("debtor_account", account.id),
        {
            "name": [None, name],
            "iban": [None, iban],
            "bic": [None, bic],
            "currency": [None, currency],
        },
    )
    return account


# --- generating ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Transfer:
    """One credit transfer as the file says it."""

    tranche: Tranche
    end_to_end_id: str
    creditor_name: str
    iban: str
    account_number: str
    bic: str
    remittance: str


def _changed_after_approval(tranches: Sequence[Tranche]) -> list[Tranche]:
    """Tranches whose grant's bank details were changed after the tranche's last
    approval: the approvers vouched for another account."""
    award_ids = {tranche.award_id for tranche in tranches}
    if not award_ids:
        return []
    changes: dict[int, datetime] = dict(
        db.session.execute(
            select(BankDetailsChange.award_id, func.max(BankDetailsChange.decided_at))
            .where(
                BankDetailsChange.award_id.in_(award_ids),
                BankDetailsChange.state == "approved",
            )
            .group_by(BankDetailsChange.award_id)
        ).all()
    )
    changed = []
    for tranche in tranches:
        decided = changes.get(tranche.award_id)
        approvals = [a.approved_at for a in tranche.approvals if a.cycle == tranche.cycle]
        if decided is not None and approvals and decided > max(approvals):
            changed.append(tranche)
    return changed


def _in_active_files(tranche_ids: Sequence[int]) -> dict[int, str]:
    rows = db.session.execute(
        select(PaymentFileItem.tranche_id, PaymentFile.message_id)
        .join(PaymentFile, PaymentFile.id == PaymentFileItem.payment_file_id)
        .where(PaymentFileItem.tranche_id.in_(list(tranche_ids)), PaymentFileItem.active)
    )
    return dict(rows.all())


def _label(tranche: Tranche) -> str:
    return tranche.payment_reference


def _text(value: str, limit: int = NAME_LIMIT) -> str:
    return " ".join((value or "").split())[:limit]


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attributes) -> etree._Element:
    element = etree.SubElement(parent, f"{{{PAIN_001}}}{tag}", attributes)
    if text is not None:
        element.text = text
    return element


def _amount(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01')):f}"


def build_pain_001(
    message_id: str,
    account: DebtorAccount,
    transfers: Sequence[Transfer],
    execution_date: date,
    created_at: datetime,
    initiating_party: str,
) -> bytes:
    """The pain.001.001.09 document of one payment file: one payment information block
    drawn on ``account``, one credit transfer per tranche."""
    total = sum((t.tranche.amount for t in transfers), Decimal("0"))
    root = etree.Element(f"{{{PAIN_001}}}Document", nsmap={None: PAIN_001})
    initiation = _sub(root, "CstmrCdtTrfInitn")
    header = _sub(initiation, "GrpHdr")
    _sub(header, "MsgId", message_id)
    _sub(header, "CreDtTm", created_at.replace(microsecond=0).isoformat())
    _sub(header, "NbOfTxs", str(len(transfers)))
    _sub(header, "CtrlSum", _amount(total))
    _sub(_sub(header, "InitgPty"), "Nm", _text(initiating_party))
    block = _sub(initiation, "PmtInf")
    _sub(block, "PmtInfId", message_id)
    _sub(block, "PmtMtd", "TRF")
    _sub(block, "NbOfTxs", str(len(transfers)))
    _sub(block, "CtrlSum", _amount(total))
    sepa = account.currency == "EUR" and all(t.iban for t in transfers)
    if sepa:
        _sub(_sub(_sub(block, "PmtTpInf"), "SvcLvl"), "Cd", "SEPA")
    _sub(_sub(block, "ReqdExctnDt"), "Dt", execution_date.isoformat())
    _sub(_sub(block, "Dbtr"), "Nm", _text(account.name))
    debtor_account = _sub(block, "DbtrAcct")
    _sub(_sub(debtor_account, "Id"), "IBAN", account.iban)
    _sub(debtor_account, "Ccy", account.currency)
    _sub(_sub(_sub(block, "DbtrAgt"), "FinInstnId"), "BICFI", account.bic)
    _sub(block, "ChrgBr", "SLEV" if sepa else "SHAR")
    for transfer in transfers:
        item = _sub(block, "CdtTrfTxInf")
        payment_id = _sub(item, "PmtId")
        _sub(payment_id, "InstrId", transfer.end_to_end_id)
        _sub(payment_id, "EndToEndId", transfer.end_to_end_id)
        amount = _sub(item, "Amt")
        _sub(amount, "InstdAmt", _amount(transfer.tranche.amount), Ccy=account.currency)
        if transfer.bic:
            _sub(_sub(_sub(item, "CdtrAgt"), "FinInstnId"), "BICFI", transfer.bic)
        _sub(_sub(item, "Cdtr"), "Nm", _text(transfer.creditor_name))
        creditor_id = _sub(_sub(item, "CdtrAcct"), "Id")
        if transfer.iban:
            _sub(creditor_id, "IBAN", transfer.iban)
        else:
            _sub(_sub(creditor_id, "Othr"), "Id", transfer.account_number)
        _sub(_sub(item, "RmtInf"), "Ustrd", transfer.remittance)
    document = etree.ElementTree(root)
    pain_001_schema().assertValid(document)
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _new_message_id(now: datetime) -> str:
    return f"DG-{now:%Y%m%d}-{secrets.token_hex(4).upper()}"


def generate(
    person: User,
    tranche_ids: Sequence[int],
    accounts: Mapping[str, int | None],
    execution_date: date,
    programme_name: str,
    now: datetime | None = None,
) -> list[PaymentFile]:
    """One file per currency of the chosen tranches, each drawn on the account chosen for
    that currency; all of them or none, and nothing written when one is refused."""
    check_may_read(person, "payment_files")
    now = now or utcnow()
    in_files = _in_active_files(tranche_ids) if tranche_ids else {}
    if in_files:
        tranches = db.session.scalars(select(Tranche).where(Tranche.id.in_(list(in_files))))
        message = _(
            "These tranches are already in a payment file: %(tranches)s. Cancel that file "
            "first to put them in another.",
            tranches=", ".join(f"{_label(t)} ({in_files[t.id]})" for t in tranches),
        )
        raise Conflict(message, {"tranche": [message]})
    chosen = payment_runs.chosen_for_file(person, tranche_ids)
    changed = _changed_after_approval(chosen)
    if changed:
        message = _(
            "The bank details of %(tranches)s changed after the tranche was approved; "
            "return it for a new approval before it is paid.",
            tranches=", ".join(_label(t) for t in changed),
        )
        raise Conflict(message, {"tranche": [message]})
    if execution_date < now.date():
        message = _("The execution date cannot be in the past.")
        raise InvalidInput(message, {"execution_date": [message]})
    by_currency: dict[str, list[Tranche]] = {}
    for tranche in chosen:
        by_currency.setdefault(tranche.award.currency, []).append(tranche)
    plan: list[tuple[DebtorAccount, list[Tranche]]] = []
    for currency in sorted(by_currency):
        account_id = accounts.get(currency)
        account = db.session.get(DebtorAccount, account_id) if account_id else None
        if account is None or account.currency != currency:
            message = _(
                "Choose one of the programme's accounts in %(currency)s to pay the %(currency)s "
                "tranches from.",
                currency=currency,
            )
            raise InvalidInput(message, {f"account_{currency}": [message]})
        plan.append((account, by_currency[currency]))
    with db.session.begin_nested():
        return [
            _write_file(person, account, tranches, execution_date, programme_name, now)
            for account, tranches in plan
        ]


def _write_file(
    person: User,
    account: DebtorAccount,
    tranches: list[Tranche],
    execution_date: date,
    programme_name: str,
    now: datetime,
) -> PaymentFile:
    message_id = _new_message_id(now)
    transfers = [
        Transfer(
            tranche=tranche,
            end_to_end_id=f"{message_id}-{tranche.id}"[:ID_LIMIT],
            creditor_name=tranche.award.account_holder
            or tranche.award.application.association.name,
            iban=tranche.award.iban,
            account_number=tranche.award.account_number,
            bic=tranche.award.bic,
            remittance=_text(tranche.payment_reference),
        )
        for tranche in tranches
    ]
    content = build_pain_001(message_id, account, transfers, execution_date, now, programme_name)
    stored = store_file("payment-files", io.BytesIO(content), CONTENT_TYPE)
    payment_file = PaymentFile(
        debtor_account_id=account.id,
        message_id=message_id,
        currency=account.currency,
        total=sum((t.amount for t in tranches), Decimal("0")),
        count=len(tranches),
        execution_date=execution_date,
        storage_key=stored.key,
        size=stored.size,
        sha256=stored.sha256,
        created_by_id=person.id,
        created_at=now,
    )
    db.session.add(payment_file)
    try:
        with db.session.begin_nested():
            db.session.flush()
            db.session.add_all(
                PaymentFileItem(
                    payment_file_id=payment_file.id,
                    tranche_id=t.tranche.id,
                    end_to_end_id=t.end_to_end_id,
                    amount=t.tranche.amount,
                    creditor_name=_text(t.creditor_name),
                    iban=t.iban,
                    account_number=t.account_number,
                    bic=t.bic,
                    remittance=t.remittance,
                )
                for t in transfers
            )
            db.session.flush()
    except IntegrityError:
        raise Conflict(
            _("Someone put these tranches in another payment file meanwhile; reload the run.")
        ) from None
    audit.record(
        person,
        "payment_file.generated",
        ("payment_file", payment_file.id),
        {
            "total": [None, payment_file.total],
            "currency": [None, payment_file.currency],
            "tranches": [None, [t.id for t in tranches]],
        },
        note=message_id,
    )
    return payment_file


# --- reading and cancelling ---------------------------------------------------------------


def payment_files(person: User, page: int = 1, per_page: int = 25):
    """Newest first, with their account, in a fixed number of queries."""
    check_may_read(person, "payment_files")
    statement = select(PaymentFile).order_by(PaymentFile.created_at.desc(), PaymentFile.id.desc())
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


def payment_file(person: User, file_id: int) -> PaymentFile:
    check_may_read(person, "payment_files")
    found = db.session.scalars(
        select(PaymentFile)
        .where(PaymentFile.id == file_id)
        .options(
            selectinload(PaymentFile.items)
            .selectinload(PaymentFileItem.tranche)
            .selectinload(Tranche.award)
            .selectinload(Award.application)
            .selectinload(Application.association)
        )
    ).one_or_none()
    if found is None:
        raise NotFound(_("No such payment file."))
    return found


def content_of(person: User, payment_file: PaymentFile) -> bytes:
    """The file's bytes as generated; reading it is audited like any export."""
    check_may_read(person, "payment_files")
    with open_document_key(payment_file.storage_key) as stream:
        content = stream.read()
    if hashlib.sha256(content).hexdigest() != payment_file.sha256:
        raise Conflict(_("The stored payment file does not match what was generated."))
    audit.append(person, "export.downloaded", ("payment_file", payment_file.id), note="pain.001")
    return content


def cancel(person: User, file_id: int, reason: str, now: datetime | None = None) -> PaymentFile:
    """The bank will not execute this file: its tranches may go in another one."""
    check_may_read(person, "payment_files")
    payment_file = payment_file_for_update(file_id)
    reason = (reason or "").strip()
    if not reason:
        message = _("Say why the file is cancelled.")
        raise InvalidInput(message, {"reason": [message]})
    if payment_file.state == "cancelled":
        raise Conflict(_("This payment file is already cancelled."))
    paid = [item for item in payment_file.items if item.tranche.state == "paid"]
    if paid:
        raise Conflict(
            _(
                "Tranches of this file are already paid (%(count)s); a file the bank "
                "executed cannot be cancelled.",
                count=len(paid),
            )
        )
    payment_file.state = "cancelled"
    payment_file.cancelled_by_id = person.id
    payment_file.cancelled_at = now or utcnow()
    payment_file.cancel_reason = reason
    for item in payment_file.items:
        item.active = False
    db.session.flush()
    audit.record(
        person,
        "payment_file.cancelled",
        ("payment_file", payment_file.id),
        {"state": ["generated", "cancelled"]},
        note=reason,
    )
    return payment_file


def payment_file_for_update(file_id: int) -> PaymentFile:
    db.session.execute(select(PaymentFile.id).where(PaymentFile.id == file_id).with_for_update())
    found = db.session.scalars(
        select(PaymentFile)
        .where(PaymentFile.id == file_id)
        .options(selectinload(PaymentFile.items).selectinload(PaymentFileItem.tranche))
        .execution_options(populate_existing=True)
    ).one_or_none()
    if found is None:
        raise NotFound(_("No such payment file."))
    return found


def awaiting_statement(account_id: int | None = None) -> list[PaymentFileItem]:
    """Transfers of files not cancelled whose tranche no statement has shown paid yet:
    what a person follows up with the bank."""
    statement = (
        select(PaymentFileItem)
        .join(PaymentFile, PaymentFile.id == PaymentFileItem.payment_file_id)
        .join(Tranche, Tranche.id == PaymentFileItem.tranche_id)
        .where(PaymentFileItem.active, Tranche.state.in_(("approved", "payment_failed")))
        .options(
            selectinload(PaymentFileItem.payment_file),
            selectinload(PaymentFileItem.tranche)
            .selectinload(Tranche.award)
            .selectinload(Award.application),
        )
        .order_by(PaymentFile.created_at, PaymentFileItem.id)
        .limit(200)
    )
    if account_id is not None:
        statement = statement.where(PaymentFile.debtor_account_id == account_id)
    return list(db.session.scalars(statement))
