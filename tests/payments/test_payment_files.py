"""Payment files: pain.001.001.09 valid against the official schema, totals as the ledger
will have them, one file per tranche unless cancelled, and each refusal changing nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from lxml import etree
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import (
    AuditRow,
    BankDetailsChange,
    DebtorAccount,
    PaymentFile,
    PaymentFileItem,
)
from grants.services import bank_changes, payment_files, payment_runs
from grants.services.errors import Conflict, InvalidInput
from grants.services.workflow import fire
from tests.fixtures.programme import NOW
from tests.payments.helpers import GENERATED, PROGRAMME, add_account, approved_tranche, generate

NS = {"p": payment_files.PAIN_001}


def _document(payment_file: PaymentFile) -> etree._ElementTree:
    from grants.services.documents import open_document_key

    with open_document_key(payment_file.storage_key) as stream:
        return etree.parse(stream)


def _counts() -> tuple[int, int, int]:
    return (
        db.session.scalar(select(func.count(PaymentFile.id))),
        db.session.scalar(select(func.count(PaymentFileItem.id))),
        db.session.scalar(select(func.count(AuditRow.id))),
    )


def test_a_run_makes_a_file_the_schema_accepts_with_each_transfer(world):
    account = add_account(world)
    first, second = approved_tranche(world), approved_tranche(world)
    second.award.iban, second.award.account_number = "", "00012345678901"
    second.award.bic = "ECOCSNDA"
    [payment_file] = generate(world, [first, second], account)

    document = _document(payment_file)
    payment_files.pain_001_schema().assertValid(document)
    assert document.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:MsgId", namespaces=NS) == (
        payment_file.message_id
    )
    assert document.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:NbOfTxs", namespaces=NS) == "2"
    control = document.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", namespaces=NS)
    assert Decimal(control) == payment_file.total == first.amount + second.amount
    block = document.find("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert block.findtext("p:DbtrAcct/p:Id/p:IBAN", namespaces=NS) == "DE89370400440532013000"
    assert block.findtext("p:DbtrAcct/p:Ccy", namespaces=NS) == "USD"
    assert block.findtext("p:DbtrAgt/p:FinInstnId/p:BICFI", namespaces=NS) == "COBADEFFXXX"
    assert block.findtext("p:ReqdExctnDt/p:Dt", namespaces=NS) == GENERATED.date().isoformat()
    transfers = block.findall("p:CdtTrfTxInf", NS)
    by_tranche = {item.tranche_id: item for item in payment_file.items}
    assert [t.findtext("p:PmtId/p:EndToEndId", namespaces=NS) for t in transfers] == [
        by_tranche[first.id].end_to_end_id,
        by_tranche[second.id].end_to_end_id,
    ]
    one, two = transfers
    assert one.find("p:Amt/p:InstdAmt", NS).text == "12800.00"
    assert one.find("p:Amt/p:InstdAmt", NS).get("Ccy") == "USD"
    assert one.findtext("p:Cdtr/p:Nm", namespaces=NS) == "ASLD"
    assert one.findtext("p:CdtrAcct/p:Id/p:IBAN", namespaces=NS) == first.award.iban
    assert one.findtext("p:CdtrAgt/p:FinInstnId/p:BICFI", namespaces=NS) == "CRLYFRPP"
    assert one.findtext("p:RmtInf/p:Ustrd", namespaces=NS) == first.payment_reference
    # An account without IBAN is given by its number.
    assert two.findtext("p:CdtrAcct/p:Id/p:Othr/p:Id", namespaces=NS) == "00012345678901"
    assert (payment_file.count, payment_file.currency, payment_file.state) == (
        2,
        "USD",
        "generated",
    )
    row = db.session.scalars(
        select(AuditRow).where(AuditRow.kind == "payment_file.generated")
    ).one()
    assert row.record_id == payment_file.id and row.actor_id == world.finance.id
    # The run no longer offers what is in a file.
    assert first not in payment_runs.current_run(world.finance).tranches


def test_one_file_per_currency_each_from_its_account(world):
    usd = add_account(world)
    eur = add_account(world, "EUR", "FR1420041010050500013M02606", "PSSTFRPPLYO")
    first, second = approved_tranche(world), approved_tranche(world)
    second.award.currency = "EUR"
    files = payment_files.generate(
        world.finance,
        [first.id, second.id],
        {"USD": usd.id, "EUR": eur.id},
        GENERATED.date(),
        PROGRAMME,
        now=GENERATED,
    )
    assert sorted((f.currency, f.debtor_account_id, f.count) for f in files) == [
        ("EUR", eur.id, 1),
        ("USD", usd.id, 1),
    ]
    eur_file = next(f for f in files if f.currency == "EUR")
    document = _document(eur_file)
    payment_files.pain_001_schema().assertValid(document)
    assert document.findtext(".//p:SvcLvl/p:Cd", namespaces=NS) == "SEPA"


def test_a_tranche_goes_in_one_file_until_that_file_is_cancelled(world):
    account = add_account(world)
    tranche = approved_tranche(world)
    [first] = generate(world, [tranche], account)
    before = _counts()
    with pytest.raises(Conflict) as refused:
        generate(world, [tranche], account)
    assert "already in a payment file" in refused.value.message
    assert first.message_id in refused.value.message
    assert _counts() == before

    with pytest.raises(InvalidInput) as no_reason:
        payment_files.cancel(world.finance, first.id, "  ")
    assert no_reason.value.message == "Say why the file is cancelled."
    assert first.state == "generated"

    payment_files.cancel(world.finance, first.id, "The bank refused the file.", now=GENERATED)
    assert first.state == "cancelled" and not first.items[0].active
    row = db.session.scalars(
        select(AuditRow).where(AuditRow.kind == "payment_file.cancelled")
    ).one()
    assert row.note == "The bank refused the file." and row.record_id == first.id
    with pytest.raises(Conflict):
        payment_files.cancel(world.finance, first.id, "again")
    [second] = generate(world, [tranche], account)
    assert second.id != first.id and second.items[0].end_to_end_id != first.items[0].end_to_end_id


def test_the_database_refuses_a_tranche_in_two_active_files(world):
    from sqlalchemy.exc import IntegrityError

    account = add_account(world)
    tranche = approved_tranche(world)
    [payment_file] = generate(world, [tranche], account)
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(
            PaymentFileItem(
                payment_file_id=payment_file.id,
                tranche_id=tranche.id,
                end_to_end_id="OTHER-1",
                amount=tranche.amount,
                creditor_name="ASLD",
                remittance="x",
            )
        )
        db.session.flush()


def test_bank_details_changed_after_approval_refuse_the_run(world):
    account = add_account(world)
    tranche = approved_tranche(world)
    award = tranche.award
    change = bank_changes.request_bank_change(
        world.applicant,
        award,
        {
            "account_holder": "ASLD Bruxelles",
            "iban": "BE68539007547034",
            "account_number": "",
            "bank_name": "Belfius",
            "bic": "GKCCBEBB",
        },
        "We moved to Brussels.",
        now=NOW + timedelta(hours=1),
    )
    fire(change, "approve", world.finance_b, now=NOW + timedelta(hours=2))
    assert change.state == "approved" and not award.bank_change_pending
    before = _counts()
    with pytest.raises(Conflict) as refused:
        generate(world, [tranche], account)
    assert refused.value.message == (
        f"The bank details of {tranche.payment_reference} changed after the tranche was "
        "approved; return it for a new approval before it is paid."
    )
    assert _counts() == before
    assert db.session.scalar(select(func.count(BankDetailsChange.id))) == 1


def test_an_account_the_programme_does_not_have_is_refused(world):
    add_account(world, "EUR", "FR1420041010050500013M02606", "PSSTFRPPLYO")
    tranche = approved_tranche(world)
    before = _counts()
    for accounts in ({}, {"USD": 999999}, {"USD": db.session.scalar(select(DebtorAccount.id))}):
        with pytest.raises(InvalidInput) as refused:
            payment_files.generate(
                world.finance, [tranche.id], accounts, GENERATED.date(), PROGRAMME, now=GENERATED
            )
        assert refused.value.message == (
            "Choose one of the programme's accounts in USD to pay the USD tranches from."
        )
    assert _counts() == before


def test_a_past_execution_date_and_an_empty_run_are_refused(world):
    account = add_account(world)
    tranche = approved_tranche(world)
    before = _counts()
    with pytest.raises(InvalidInput) as past:
        payment_files.generate(
            world.finance,
            [tranche.id],
            {"USD": account.id},
            GENERATED.date() - timedelta(days=1),
            PROGRAMME,
            now=GENERATED,
        )
    assert past.value.message == "The execution date cannot be in the past."
    with pytest.raises(InvalidInput) as empty:
        generate(world, [], account)
    assert empty.value.message == "Choose the tranches of the payment run first."
    assert _counts() == before


@pytest.mark.parametrize(
    ("field", "values", "message"),
    [
        ("iban", {"iban": "DE89370400440532013001"}, "check digits do not match"),
        ("bic", {"bic": "PSSTFRPPLYO"}, "The SWIFT/BIC is for a bank in"),
        ("currency", {"currency": "EURO"}, "Give a currency code in use"),
        ("name", {"name": " "}, "Give the account's name."),
    ],
)
def test_a_debtor_account_is_checked_before_it_is_added(world, field, values, message):
    given = {
        "name": "Operations",
        "iban": "DE89370400440532013000",
        "bic": "COBADEFFXXX",
        "currency": "EUR",
        **values,
    }
    with pytest.raises(InvalidInput) as refused:
        payment_files.add_debtor_account(world.admin, **given)
    assert message in refused.value.errors[field][0]
    assert db.session.scalar(select(func.count(DebtorAccount.id))) == 0
    assert not db.session.scalar(
        select(func.count(AuditRow.id)).where(AuditRow.kind == "debtor_account.added")
    )


def test_an_account_is_added_once_and_by_an_administrator(world):
    from grants.services.errors import Forbidden

    account = add_account(world, "EUR")
    assert (account.iban, account.bic, account.currency) == (
        "DE89370400440532013000",
        "COBADEFFXXX",
        "EUR",
    )
    with pytest.raises(InvalidInput) as twice:
        add_account(world, "EUR", "de89 3704 0044 0532 0130 00")
    assert twice.value.errors["iban"] == [
        "This account is already one of the programme's accounts."
    ]
    with pytest.raises(Forbidden):
        payment_files.add_debtor_account(
            world.finance, "X", "DE89370400440532013000", "COBADEFFXXX", "USD"
        )
    assert db.session.scalar(select(func.count(DebtorAccount.id))) == 1
