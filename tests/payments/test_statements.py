"""Statement reconciliation: a camt.053 written as a bank writes it pays the tranches of
the file through their lifecycle; what matches nothing is listed; the same statement twice,
a foreign file, another currency or another account's statement change nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import (
    AuditRow,
    BankStatement,
    HistoryEntry,
    LedgerEntry,
    StatementLine,
)
from grants.services import disbursements, payment_files, statements
from grants.services.errors import InvalidInput
from tests.fixtures import camt053
from tests.fixtures.camt053 import Booking
from tests.payments.helpers import LATER, STATEMENT_DAY, add_account, approved_tranche, generate

DEBTOR_IBAN = "DE89370400440532013000"


def _state() -> tuple:
    """Everything an import may change."""
    return (
        db.session.scalar(select(func.count(BankStatement.id))),
        db.session.scalar(select(func.count(StatementLine.id))),
        db.session.scalar(select(func.count(LedgerEntry.id))),
        db.session.scalar(select(func.count(HistoryEntry.id))),
        db.session.scalar(select(func.count(AuditRow.id))),
    )


def _import(world, content: bytes, person=None):
    return statements.import_statement(person or world.finance_b, "camt053.xml", content, now=LATER)


def _booking(item, reference: str, **fields) -> Booking:
    return Booking(
        amount=item.amount,
        bank_reference=reference,
        value_date=STATEMENT_DAY,
        end_to_end_id=item.end_to_end_id,
        remittance=item.remittance,
        creditor=item.creditor_name,
        **fields,
    )


def test_the_statement_pays_the_file_and_the_ledger_has_the_file_total(world):
    account = add_account(world)
    first, second, third = (approved_tranche(world) for _ in range(3))
    [payment_file] = generate(world, [first, second, third], account)
    items = {item.tranche_id: item for item in payment_file.items}
    content = camt053.statement(
        DEBTOR_IBAN,
        "USD",
        [
            _booking(items[first.id], "BANK-0001"),
            _booking(items[second.id], "BANK-0002"),
            Booking(Decimal("75.10"), "BANK-FEES", STATEMENT_DAY, remittance="Account fees"),
            Booking(Decimal("1000"), "BANK-IN", STATEMENT_DAY, credit=True),
        ],
    )
    result = _import(world, content)
    assert not result.already_imported
    assert (first.state, first.bank_reference, first.payment_date) == (
        "paid",
        "BANK-0001",
        STATEMENT_DAY,
    )
    assert (second.state, second.bank_reference) == ("paid", "BANK-0002")
    assert third.state == "approved"  # in the file, not on the statement
    assert first.paid_by_id == world.finance_b.id
    history = db.session.scalars(
        select(HistoryEntry).where(
            HistoryEntry.entity_type == "tranche",
            HistoryEntry.entity_id == first.id,
            HistoryEntry.transition == "pay",
        )
    ).one()
    assert history.actor_id == world.finance_b.id
    lines = {line.bank_reference: line for line in result.statement.lines}
    assert set(lines) == {"BANK-0001", "BANK-0002", "BANK-FEES"}  # debits only
    assert lines["BANK-0001"].outcome == "matched"
    assert lines["BANK-FEES"].outcome == "unmatched"
    assert [line.bank_reference for line in statements.to_resolve(world.finance).items] == [
        "BANK-FEES"
    ]
    assert [item.tranche_id for item in payment_files.awaiting_statement(account.id)] == [third.id]
    # The ledger has what the file sent, less what the statement has not confirmed.
    paid = sum(
        (disbursements.ledger_paid_total(t.award_id) for t in (first, second, third)),
        Decimal("0"),
    )
    assert paid == payment_file.total - third.amount == Decimal("25600.00")
    row = db.session.scalars(select(AuditRow).where(AuditRow.kind == "statement.imported")).one()
    assert row.changes == {"matched": [None, 2], "unmatched": [None, 1]}

    # The rest of the file comes on the next day's statement.
    _import(
        world,
        camt053.statement(
            DEBTOR_IBAN, "USD", [_booking(items[third.id], "BANK-0003")], "STMT-2027-03-06"
        ),
    )
    assert third.state == "paid"
    total = sum(
        (disbursements.ledger_paid_total(t.award_id) for t in (first, second, third)),
        Decimal("0"),
    )
    assert total == payment_file.total
    assert payment_files.awaiting_statement(account.id) == []


def test_the_same_statement_twice_changes_nothing(world):
    account = add_account(world)
    tranche = approved_tranche(world)
    [payment_file] = generate(world, [tranche], account)
    content = camt053.statement(DEBTOR_IBAN, "USD", [_booking(payment_file.items[0], "B-1")])
    first = _import(world, content)
    before = _state()
    again = _import(world, content)
    assert again.already_imported and again.statement.id == first.statement.id
    # The same statement sent again by the bank, written anew, is the same statement.
    rewritten = camt053.statement(
        DEBTOR_IBAN, "USD", [_booking(payment_file.items[0], "B-1")], opening=Decimal("1")
    )
    assert _import(world, rewritten).already_imported
    assert _state() == before
    assert tranche.state == "paid" and tranche.bank_reference == "B-1"


def test_a_payment_keyed_in_by_hand_is_matched_by_amount_and_reference(world):
    add_account(world)
    tranche = approved_tranche(world)
    other = approved_tranche(world)  # same amount, another grant
    content = camt053.statement(
        DEBTOR_IBAN,
        "USD",
        [
            Booking(
                tranche.amount,
                "MANUAL-77",
                STATEMENT_DAY,
                remittance=f"Grant {tranche.payment_reference} Diaspora",
            )
        ],
    )
    result = _import(world, content)
    assert [line.outcome for line in result.statement.lines] == ["matched"]
    assert tranche.state == "paid" and tranche.bank_reference == "MANUAL-77"
    assert other.state == "approved"


def test_the_four_eyes_rule_still_holds_for_a_statement(world):
    """The requester of a tranche cannot mark it paid by importing the statement: the
    line is kept for another finance officer, and the tranche stays approved."""
    account = add_account(world)
    tranche = approved_tranche(world)
    [payment_file] = generate(world, [tranche], account)
    world.officer.roles.extend(world.finance.roles)  # the requester is also in finance
    content = camt053.statement(DEBTOR_IBAN, "USD", [_booking(payment_file.items[0], "B-9")])
    result = _import(world, content, person=world.officer)
    assert [line.outcome for line in result.statement.lines] == ["refused"]
    assert tranche.state == "approved" and tranche.bank_reference == ""
    assert (
        db.session.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.kind == "payment"))
        == 0
    )


def test_the_bank_rate_of_a_converted_payment_sits_beside_the_locked_rate(world):
    account = add_account(world)
    tranche = approved_tranche(world)
    award = tranche.award
    award.application.budget_currency = "XOF"
    award.exchange_rate = Decimal("600")
    [payment_file] = generate(world, [tranche], account)
    content = camt053.statement(
        DEBTOR_IBAN,
        "USD",
        [
            _booking(
                payment_file.items[0],
                "FX-1",
                exchange_rate=Decimal("605.5"),
                target_currency="XOF",
            )
        ],
    )
    result = _import(world, content)
    [line] = result.statement.lines
    assert (line.exchange_rate, line.target_currency) == (Decimal("605.5"), "XOF")
    payment = db.session.scalars(
        select(LedgerEntry).where(LedgerEntry.kind == "payment", LedgerEntry.award_id == award.id)
    ).one()
    assert payment.exchange_rate == Decimal("600")
    assert payment.bank_exchange_rate == Decimal("605.5")
    assert payment.exchange_difference == Decimal("70400.00")  # 12,800 × 5.5 XOF


def _refused(world, content: bytes, message: str) -> None:
    before = _state()
    with pytest.raises(InvalidInput) as refused:
        _import(world, content)
    assert refused.value.message == message
    assert refused.value.errors == {"statement": [message]}
    assert _state() == before


UNREADABLE = (
    "This file is not a camt.053 bank statement the product can read; ask the bank for the "
    "day's statement in ISO 20022 camt.053 format."
)


def test_an_unreadable_or_foreign_file_changes_nothing(world):
    account = add_account(world)
    tranche = approved_tranche(world)
    [payment_file] = generate(world, [tranche], account)
    from grants.services.documents import open_document_key

    with open_document_key(payment_file.storage_key) as stream:
        our_own_file = stream.read()
    for content in (
        b"%PDF-1.7 not a statement",
        b"<Document><BkToCstmrStmt>",
        our_own_file,  # a pain.001 is not a statement
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
    ):
        _refused(world, content, UNREADABLE)
    _refused(world, b"", "The file is empty; choose the statement the bank sent.")
    assert tranche.state == "approved"


def test_a_statement_in_another_currency_changes_nothing(world):
    account = add_account(world)
    tranche = approved_tranche(world)
    [payment_file] = generate(world, [tranche], account)
    content = camt053.statement(DEBTOR_IBAN, "EUR", [_booking(payment_file.items[0], "B-1")])
    _refused(
        world,
        content,
        "This statement is in EUR, but the programme's account Programme account USD is kept "
        "in USD; nothing was imported.",
    )
    assert tranche.state == "approved"


def test_a_statement_of_an_account_the_programme_does_not_have_changes_nothing(world):
    add_account(world)
    content = camt053.statement(
        "FR1420041010050500013M02606", "USD", [Booking(Decimal("10"), "X", STATEMENT_DAY)]
    )
    _refused(
        world,
        content,
        "This statement is of the account FR14 2004 1010 0505 0001 3M02 606, which is not one "
        "of the programme's accounts; nothing was imported.",
    )


def test_the_fixture_keeps_to_the_camt_053_model():
    with pytest.raises(camt053.ModelViolation):
        camt053.statement(
            DEBTOR_IBAN, "usd", [Booking(Decimal("1"), "X", STATEMENT_DAY)]
        )  # a currency is three capitals
