"""Money through the API: the payment run and its file for the bank, the finance queue,
the programme's totals, a grant's ledger and refunds, and changes of bank details;
each figure checked against the ledger or the page's own service, each refusal shown to
leave nothing written."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from grants.extensions import db
from grants.models.awards import BankDetailsChange, LedgerEntry
from grants.roles import FINANCE_OFFICER
from grants.services import bank_changes, disbursements, payment_runs
from tests.api.test_api import assert_error, bearer
from tests.fixtures.people import make_user
from tests.fixtures.programme import NOW, make_award
from tests.queries import cost_of
from tests.spreadsheets import assert_well_made, read_csv, read_workbook

NEW_DETAILS = {
    "account_holder": "ASLD Bruxelles",
    "iban": "BE68539007547034",
    "bank_name": "Belfius",
    "bic": "GKCCBEBB",
    "reason": "We moved to Brussels.",
}
RUN_HEADER = [
    "Tranche",
    "Reference",
    "Association",
    "Account holder",
    "IBAN",
    "Account number",
    "Bank",
    "SWIFT/BIC",
    "Amount",
    "Currency",
    "Payment reference",
]


def approved_tranche(world, currency: str = "USD", amount: Decimal = Decimal("32000")):
    """The first tranche of an active grant, requested by the officer and approved by
    finance officers other than ``world.finance`` (two above the programme's
    threshold): ready for ``world.finance`` to pay."""
    award = make_award(world, state="active", amount=amount)
    award.currency = currency
    tranche = award.tranches[0]
    disbursements.act(world.officer, tranche.id, "request", now=NOW)
    disbursements.act(world.finance_b, tranche.id, "approve", now=NOW)
    if tranche.state == "requested":
        disbursements.act(make_user(FINANCE_OFFICER), tranche.id, "approve", now=NOW)
    db.session.flush()
    assert tranche.state == "approved"
    return tranche


@pytest.fixture
def run(world):
    return [
        approved_tranche(world, "USD", Decimal("32000")),
        approved_tranche(world, "USD", Decimal("10000.50")),
        approved_tranche(world, "EUR", Decimal("18000")),
    ]


def _ledger_count() -> int:
    return db.session.scalar(select(func.count(LedgerEntry.id)))


# --- the payment run ------------------------------------------------------------------------


def test_the_payment_run_with_totals_per_currency(world, client, run):
    answer = client.get("/api/v1/finance/payment-run", headers=bearer(world.finance))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert [item["tranche_id"] for item in body["items"]] == [t.id for t in run]
    first = body["items"][0]
    assert first["amount"] == "12800.00" and first["currency"] == "USD"
    assert first["iban"] == "FR7630006000011234567890189" and first["bic"] == "CRLYFRPP"
    assert first["payment_reference"] == f"{run[0].award.application.reference} T1"
    assert first["bank_change_pending"] is False
    assert body["totals"] == [
        {"currency": "EUR", "amount": "7200.00", "count": 1},
        {"currency": "USD", "amount": "16800.20", "count": 2},
    ]
    # The page's service, on the same data, says the same.
    expected = payment_runs.current_run(world.finance).totals
    assert [(t["currency"], Decimal(t["amount"]), t["count"]) for t in body["totals"]] == [
        (t.currency, t.amount, t.count) for t in expected
    ]
    assert body["total"] == 3 and body["next"] is None and body["limit"] == 200
    paged = client.get(
        "/api/v1/finance/payment-run?per_page=2", headers=bearer(world.finance)
    ).get_json()
    assert len(paged["items"]) == 2 and paged["next"].endswith("page=2")
    assert paged["totals"] == body["totals"]


def test_the_payment_file_as_csv_and_xlsx_is_the_pages_file(world, client, run, login):
    query = "&".join(f"tranche={t.id}" for t in run)
    headers = bearer(world.finance)
    answer = client.get(f"/api/v1/exports/payment-run?{query}&format=csv", headers=headers)
    assert answer.status_code == 200 and answer.is_streamed
    assert answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"].startswith('attachment; filename="payment-run-')
    header, *rows = read_csv(answer.get_data())
    assert header == RUN_HEADER
    assert [row[0] for row in rows] == [str(t.id) for t in run]
    assert [(row[8], row[9]) for row in rows] == [
        ("12800.00", "USD"),
        ("4000.20", "USD"),
        ("7200.00", "EUR"),
    ]
    page = login(world.finance).get(f"/finance/run?{query}&format=csv")
    assert read_csv(page.get_data()) == [header, *rows]

    workbook = client.get(f"/api/v1/exports/payment-run?{query}&format=xlsx", headers=headers)
    assert workbook.mimetype == spreadsheet_type()
    assert workbook.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = read_workbook(workbook.get_data())
    assert_well_made(sheet)
    values = sheet.values()
    assert values[0] == RUN_HEADER
    assert [row[8] for row in values[1:]] == [12800.0, 4000.2, 7200.0]


def spreadsheet_type() -> str:
    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_a_payment_file_is_refused_with_the_reason(world, client, run):
    headers = bearer(world.finance)
    before = _ledger_count()
    none = assert_error(
        client.get("/api/v1/exports/payment-run?format=csv", headers=headers), 422, "invalid"
    )
    assert set(none["errors"]) == {"tranche"}
    outside = assert_error(
        client.get(f"/api/v1/exports/payment-run?tranche={run[0].id}&tranche=999", headers=headers),
        422,
        "invalid",
    )
    assert "999" in outside["message"] and "tranche" in outside["errors"]
    bad_format = assert_error(
        client.get(f"/api/v1/exports/payment-run?tranche={run[0].id}&format=pdf", headers=headers),
        422,
        "invalid",
    )
    assert set(bad_format["errors"]) == {"format"}
    bank_changes.request_bank_change(
        world.applicant, run[1].award, {k: v for k, v in NEW_DETAILS.items() if k != "reason"}, "x"
    )
    db.session.flush()
    held = assert_error(
        client.get(
            f"/api/v1/exports/payment-run?tranche={run[0].id}&tranche={run[1].id}",
            headers=headers,
        ),
        409,
        "conflict",
    )
    assert held["errors"] == {"tranche": [str(run[1].id)]}
    listed = client.get("/api/v1/finance/payment-run", headers=headers).get_json()
    assert [i["bank_change_pending"] for i in listed["items"]] == [False, True, False]
    assert [t.state for t in run] == ["approved"] * 3 and _ledger_count() == before


# --- the queue ---------------------------------------------------------------------------


def test_the_queues_of_finance(world, client):
    award = make_award(world, state="active")
    tranche = award.tranches[0]
    disbursements.act(world.officer, tranche.id, "request", now=NOW)
    disbursements.act(world.finance, tranche.id, "approve", now=NOW)
    db.session.flush()
    mine = client.get("/api/v1/finance/queue", headers=bearer(world.finance)).get_json()
    assert mine["queue"] == "approve" and mine["items"] == [] and mine["totals"] == []
    other = client.get("/api/v1/finance/queue?queue=approve", headers=bearer(world.finance_b))
    body = other.get_json()
    [item] = body["items"]
    assert item["tranche_id"] == tranche.id and item["amount"] == "12800.00"
    assert item["state"] == "requested" and item["waiting_since"].startswith("2027-03-01")
    assert body["totals"] == [{"currency": "USD", "amount": "12800.00", "count": 1}]
    assert disbursements.queue_totals("approve", world.finance_b) == [
        ("USD", Decimal("12800.00"), 1)
    ]
    assert_error(
        client.get("/api/v1/finance/queue?queue=later", headers=bearer(world.finance)),
        422,
        "invalid",
    )


# --- totals, ledger, refunds -----------------------------------------------------------------


def test_totals_are_the_ledgers(world, client):
    from tests.dashboards.dataset import build

    build(world)
    headers = bearer(world.officer)
    body = client.get("/api/v1/finance/totals", headers=headers).get_json()
    assert body["by"] == "call"
    assert [(i["group"], i["currency"], i["committed"], i["paid"]) for i in body["items"]] == [
        ("EC-HEA-D2", "EUR", "18000.00", "7000.00"),
        ("SN-EMP-D1", "USD", "30000.00", "12000.00"),
    ]
    by_country = client.get("/api/v1/finance/totals?by=country", headers=headers).get_json()
    assert [(i["group"], i["paid"]) for i in by_country["items"]] == [
        (group, f"{paid:.2f}") for group, _c, _m, paid in disbursements.programme_totals("country")
    ]
    assert_error(client.get("/api/v1/finance/totals?by=donor", headers=headers), 422, "invalid")
    assert_error(
        client.get("/api/v1/finance/totals", headers=bearer(world.applicant)), 403, "forbidden"
    )


def test_a_refund_on_the_ledger(world, client):
    tranche = approved_tranche(world)
    disbursements.act(
        world.finance_b,
        tranche.id,
        "pay",
        payment_date=date.today(),
        bank_reference="PAY-1",
        amount=tranche.amount,
    )
    db.session.flush()
    award = tranche.award
    url = f"/api/v1/awards/{award.id}/refunds"
    headers = bearer(world.finance)
    before = _ledger_count()
    above = assert_error(
        client.post(
            url,
            json={"amount": "20000.00", "value_date": "2026-11-30", "reference": "R-1"},
            headers=headers,
        ),
        422,
        "invalid",
    )
    assert set(above["errors"]) == {"amount"}
    unknown = assert_error(
        client.post(
            url,
            json={"amount": "100", "value_date": "2026-11-30", "reference": "R-1", "note": "x"},
            headers=headers,
        ),
        422,
        "invalid",
    )
    assert set(unknown["errors"]) == {"note"}
    assert _ledger_count() == before
    assert_error(
        client.post(
            url,
            json={"amount": "100", "value_date": "2026-11-30", "reference": "R-1"},
            headers=bearer(world.applicant),
        ),
        403,
        "forbidden",
    )
    made = client.post(
        url,
        json={"amount": "800.5", "value_date": "2026-11-30", "reference": "R-1"},
        headers=headers,
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    assert made.get_json()["amount"] == "800.50" and made.get_json()["kind"] == "refund"
    ledger = client.get(f"/api/v1/awards/{award.id}/ledger", headers=headers).get_json()
    assert [(e["kind"], e["amount"]) for e in ledger["items"]] == [
        ("payment", "12800.00"),
        ("refund", "800.50"),
    ]
    assert ledger["paid_total"] == "11999.50"
    assert Decimal(ledger["paid_total"]) == disbursements.ledger_paid_total(award.id)
    assert_error(
        client.get(f"/api/v1/awards/{award.id}/ledger", headers=bearer(world.applicant)),
        403,
        "forbidden",
    )


# --- bank details --------------------------------------------------------------------------


def _changes(award) -> int:
    return db.session.scalar(
        select(func.count(BankDetailsChange.id)).where(BankDetailsChange.award_id == award.id)
    )


def test_the_association_asks_and_a_finance_officer_decides(world, client):
    award = make_award(world, state="active")
    url = f"/api/v1/awards/{award.id}/bank-changes"
    member = bearer(world.applicant)
    bad = assert_error(
        client.post(url, json={**NEW_DETAILS, "iban": "BE68539007547035"}, headers=member),
        422,
        "invalid",
    )
    assert "iban" in bad["errors"]
    extra = assert_error(
        client.post(url, json={**NEW_DETAILS, "swift": "X"}, headers=member), 422, "invalid"
    )
    assert set(extra["errors"]) == {"swift"}
    assert _changes(award) == 0 and award.bank_change_pending is False
    assert_error(
        client.post(url, json=NEW_DETAILS, headers=bearer(world.officer)), 403, "forbidden"
    )
    assert_error(
        client.post(url, json=NEW_DETAILS, headers=bearer(world.outsider)), 404, "not_found"
    )

    asked = client.post(url, json=NEW_DETAILS, headers=member)
    assert asked.status_code == 201, asked.get_data(as_text=True)
    change = asked.get_json()
    assert change["state"] == "requested" and change["iban"] == "BE68539007547034"
    offered = {o["name"]: o["allowed"] for o in change["allowed_transitions"]}
    assert offered == {"approve": False, "refuse": False, "cancel": True}
    # A second change while one waits: the lifecycle's reason, nothing written.
    again = assert_error(client.post(url, json=NEW_DETAILS, headers=member), 422, "invalid")
    assert "already waits" in again["message"] + str(again.get("errors", ""))
    assert _changes(award) == 1
    listed = client.get(url, headers=bearer(world.finance)).get_json()
    assert [c["id"] for c in listed["items"]] == [change["id"]] and listed["total"] == 1
    offered = {o["name"]: o["allowed"] for o in listed["items"][0]["allowed_transitions"]}
    assert offered == {"approve": True, "refuse": True, "cancel": False}

    decide = f"/api/v1/bank-changes/{change['id']}/decision"
    assert_error(
        client.post(decide, json={"decision": "approve"}, headers=bearer(world.officer)),
        403,
        "forbidden",
    )
    refused = assert_error(
        client.post(decide, json={"decision": "reject"}, headers=bearer(world.finance)),
        422,
        "invalid",
    )
    assert "A reason is required." in str(refused)
    db.session.expire_all()
    assert award.iban == "FR7630006000011234567890189" and award.bank_change_pending
    approved = client.post(decide, json={"decision": "approve"}, headers=bearer(world.finance))
    assert approved.status_code == 200 and approved.get_json()["state"] == "approved"
    db.session.expire_all()
    assert award.iban == "BE68539007547034" and not award.bank_change_pending
    assert_error(
        client.post(decide, json={"decision": "approve"}, headers=bearer(world.finance_b)),
        409,
        "conflict",
    )


# --- who may -------------------------------------------------------------------------------

ROLES = ("applicant", "outsider", "evaluator", "officer", "finance", "admin")


def _expected(ok: set[str], refused: int = 403) -> dict[str, int]:
    return {role: 200 if role in ok else refused for role in ROLES}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/finance/payment-run", _expected({"finance"})),
        ("/finance/queue", _expected({"finance"})),
        ("/finance/totals", _expected({"officer", "finance", "admin"})),
        ("/dashboards/finance", _expected({"finance"})),
        ("/dashboards/programme", _expected({"officer", "admin"})),
        ("/exports/tranches", _expected({"officer", "finance", "admin"})),
        ("/exports/indicators", _expected({"officer", "admin"})),
        ("/exports/chart?dashboard=finance&chart=waiting", _expected({"finance"})),
        ("/exports/chart?dashboard=programme&chart=funnel", _expected({"officer", "admin"})),
    ],
)
def test_who_reads_the_figures(world, client, path, expected):
    seen = {}
    for role in ROLES:
        answer = client.get(f"/api/v1{path}", headers=bearer(getattr(world, role)))
        answer.close()
        seen[role] = answer.status_code
    assert seen == expected


def test_a_grants_money_is_for_its_association_and_the_staff(world, client):
    award = make_award(world, state="active")
    seen = {}
    for role in ROLES:
        headers = bearer(getattr(world, role))
        seen[role] = (
            client.get(f"/api/v1/awards/{award.id}/bank-changes", headers=headers).status_code,
            client.get(f"/api/v1/awards/{award.id}/ledger", headers=headers).status_code,
        )
    assert seen == {
        "applicant": (200, 403),
        "outsider": (404, 403),
        "evaluator": (404, 403),
        "officer": (200, 200),
        "finance": (200, 200),
        "admin": (200, 200),
    }


# --- cost ----------------------------------------------------------------------------------


def test_the_run_and_the_queue_cost_the_same_whatever_their_size(world, client):
    headers = bearer(world.finance)
    for _ in range(2):
        approved_tranche(world)
    client.get("/api/v1/finance/payment-run", headers=headers)  # warm the caches

    def costs() -> tuple[int, int]:
        return (
            cost_of(client, "/api/v1/finance/payment-run", headers=headers),
            cost_of(client, "/api/v1/finance/queue?queue=pay", headers=headers),
        )

    small = costs()
    for _ in range(6):
        approved_tranche(world)
    large = costs()
    assert client.get("/api/v1/finance/payment-run", headers=headers).get_json()["total"] == 8
    assert large[0] <= small[0] + 2 and large[1] <= small[1] + 2, (small, large)


def test_a_grants_timeline_says_what_is_due_next(world, client):
    award = make_award(world, state="active")
    url = f"/api/v1/awards/{award.id}/timeline"
    body = client.get(url, headers=bearer(world.applicant)).get_json()
    assert [m["what"] for m in body["items"]][:3] == [
        "Grant offered",
        "Interim report",
        "Final report",
    ]
    assert body["items"][1]["when"] == "2027-12-01" and body["items"][1]["done"] is False
    assert body["next_due"] == body["items"][1]
    assert_error(client.get(url, headers=bearer(world.outsider)), 404, "not_found")
    assert client.get(url, headers=bearer(world.finance)).status_code == 200
