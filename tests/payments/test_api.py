"""The payment files and statements through the API: what the bank was sent and what
its statement confirmed, for finance officers only; the ledger shows the bank's rate."""

from __future__ import annotations

from decimal import Decimal

from grants.services import statements
from tests.api.test_api import assert_error, bearer
from tests.fixtures import camt053
from tests.fixtures.camt053 import Booking
from tests.payments.helpers import LATER, STATEMENT_DAY, add_account, approved_tranche, generate


def test_files_statements_and_the_ledger_through_the_api(world, client):
    account = add_account(world)
    tranche = approved_tranche(world)
    tranche.award.application.budget_currency = "XOF"
    tranche.award.exchange_rate = Decimal("600")
    [payment_file] = generate(world, [tranche], account)
    [item] = payment_file.items
    content = camt053.statement(
        "DE89370400440532013000",
        "USD",
        [
            Booking(
                item.amount,
                "BNK-1",
                STATEMENT_DAY,
                item.end_to_end_id,
                item.remittance,
                exchange_rate=Decimal("598.25"),
                target_currency="XOF",
            ),
            Booking(Decimal("3.20"), "BNK-FEE", STATEMENT_DAY, remittance="Fees"),
        ],
    )
    result = statements.import_statement(world.finance_b, "s.xml", content, now=LATER)
    finance = bearer(world.finance)

    listed = client.get("/api/v1/finance/payment-files", headers=finance).get_json()
    assert listed["total"] == 1
    [row] = listed["items"]
    assert (row["message_id"], row["total"], row["count"], row["currency"], row["state"]) == (
        payment_file.message_id,
        "12800.00",
        1,
        "USD",
        "generated",
    )
    one = client.get(f"/api/v1/finance/payment-files/{payment_file.id}", headers=finance)
    [transfer] = one.get_json()["transfers"]
    assert transfer == {
        "tranche_id": tranche.id,
        "end_to_end_id": item.end_to_end_id,
        "amount": "12800.00",
        "creditor_name": "ASLD",
        "iban": tranche.award.iban,
        "account_number": "",
        "bic": "CRLYFRPP",
        "remittance": tranche.payment_reference,
        "tranche_state": "paid",
    }
    statement = client.get(
        f"/api/v1/finance/statements/{result.statement.id}", headers=finance
    ).get_json()
    assert [
        (line["bank_reference"], line["outcome"], line["tranche_id"]) for line in statement["lines"]
    ] == [("BNK-1", "matched", tranche.id), ("BNK-FEE", "unmatched", None)]
    assert statement["lines"][0]["exchange_rate"] == "598.250000"

    ledger = client.get(f"/api/v1/awards/{tranche.award_id}/ledger", headers=bearer(world.officer))
    payment = next(e for e in ledger.get_json()["items"] if e["kind"] == "payment")
    assert (payment["exchange_rate"], payment["bank_exchange_rate"]) == ("600.000000", "598.250000")
    assert payment["exchange_difference"] == "-22400.00"  # 12,800 × −1.75 XOF

    for person in (world.officer, world.admin, world.applicant):
        assert_error(
            client.get("/api/v1/finance/payment-files", headers=bearer(person)), 403, "forbidden"
        )
    assert_error(client.get("/api/v1/finance/statements/999999", headers=finance), 404, "not_found")
