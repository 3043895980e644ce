"""A programme account and approved tranches, ready for a payment file."""

from __future__ import annotations

from datetime import datetime, timedelta

from grants.extensions import db
from grants.models import DebtorAccount, Tranche
from grants.services import disbursements, payment_files
from tests.fixtures.programme import NOW, World, make_award

#: When the file is generated; the bank executes it the next day and its statement follows.
GENERATED = NOW + timedelta(days=1)
STATEMENT_DAY = (NOW + timedelta(days=3)).date()
LATER = NOW + timedelta(days=4)
PROGRAMME = "Diaspora for Development"


def add_account(
    world: World,
    currency: str = "USD",
    iban: str = "DE89370400440532013000",
    bic: str = "COBADEFFXXX",
) -> DebtorAccount:
    return payment_files.add_debtor_account(
        world.admin, "Programme account " + currency, iban, bic, currency
    )


def approved_tranche(world: World, when: datetime = NOW) -> Tranche:
    """The first tranche of a new grant (12,800 USD: two approvals), approved."""
    award = make_award(world, state="active")
    tranche = award.tranches[0]
    disbursements.act(world.officer, tranche.id, "request", now=when)
    disbursements.act(world.finance, tranche.id, "approve", now=when)
    disbursements.act(world.finance_b, tranche.id, "approve", now=when)
    db.session.flush()
    return tranche


def generate(world: World, tranches, account: DebtorAccount, person=None):
    return payment_files.generate(
        person or world.finance,
        [t.id for t in tranches],
        {account.currency: account.id},
        GENERATED.date(),
        PROGRAMME,
        now=GENERATED,
    )
