"""The demo's round: finance approves the Lyon grant's first tranche, generates the run's
pain.001 from the programme's account, the demo bank answers with its camt.053, and the
import shows the tranche paid with the bank's reference."""

from __future__ import annotations

from datetime import datetime

import time_machine
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import Award, DebtorAccount, User
from grants.services import disbursements, payment_files, statements
from tests.fixtures.camt053 import check_against_schema

WHEN = datetime.fromisoformat("2026-06-20T09:00:00+00:00")


def test_the_demo_round_from_run_to_statement(app):
    runner = app.test_cli_runner()
    with time_machine.travel(WHEN, tick=False):
        seeded = runner.invoke(args=["demo", "seed"])
        assert seeded.exit_code == 0, (seeded.output, seeded.exception)
        again = runner.invoke(args=["demo", "seed"])
        assert again.exit_code == 0, (again.output, again.exception)
        [account] = db.session.scalars(select(DebtorAccount)).all()
        assert (account.iban, account.currency) == ("BE71096123456769", "USD")
        people = {
            u.email: u for u in db.session.scalars(select(User).where(User.email.like("finance.%")))
        }
        finance_a = people["finance.a@demo.example.org"]
        finance_b = people["finance.b@demo.example.org"]
        award = db.session.scalars(select(Award)).one()
        tranche = award.tranches[0]
        disbursements.act(finance_a, tranche.id, "approve", now=WHEN)
        disbursements.act(finance_b, tranche.id, "approve", now=WHEN)
        [payment_file] = payment_files.generate(
            finance_a, [tranche.id], {"USD": account.id}, WHEN.date(), "Diaspora Grants", now=WHEN
        )

        printed = runner.invoke(args=["demo", "bank-statement", payment_file.message_id])
        assert printed.exit_code == 0, printed.output
        check_against_schema(printed.output.encode())
        result = statements.import_statement(
            finance_b, "statement.xml", printed.output.encode(), now=WHEN
        )
        [line] = result.statement.lines
        assert line.outcome == "matched"
        assert tranche.state == "paid" and tranche.bank_reference == line.bank_reference
        assert tranche.payment_date == WHEN.date()
        assert disbursements.ledger_paid_total(award.id) == payment_file.total

        missing = runner.invoke(args=["demo", "bank-statement", "DG-NOPE"])
        assert missing.exit_code == 1 and "no payment file" in missing.output
    assert db.session.scalar(select(func.count(DebtorAccount.id))) == 1
