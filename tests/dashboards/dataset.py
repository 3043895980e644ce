"""A small programme with known figures: two calls in two currencies, applications in
several states, sectors and countries, two running grants with payments, a refund,
reports on time, late, overdue and not yet due, and decisions of known duration.

Every figure the dashboard tests assert is derived by hand in ``EXPECTED``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from grants.extensions import db
from grants.models import Application, Award, Call, Report, Tranche
from grants.models.awards import LedgerEntry
from grants.models.history import HistoryEntry
from tests.fixtures.programme import World, make_application, make_call

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Programme:
    world: World
    usd_call: Call
    eur_call: Call
    usd_award: Award
    eur_award: Award
    outsider_application: Application


def _submitted(world, call, state, days_ago, sdg=(), association=None, **fields):
    application = make_application(world, call, state=state, association=association)
    application.submitted_at = NOW - timedelta(days=days_ago)
    application.sdg_targets = list(sdg)
    for name, value in fields.items():
        setattr(application, name, value)
    db.session.flush()
    return application


def _decided(application, transition: str, days_after: int) -> None:
    """The decision as the decision pages leave it: in the history and on the record."""
    application.decided_at = application.submitted_at + timedelta(days=days_after)
    db.session.add(
        HistoryEntry(
            entity_type="application",
            entity_id=application.id,
            transition=transition,
            from_state="reviewed",
            to_state=application.state,
            actor_label="Officer",
            created_at=application.submitted_at + timedelta(days=days_after),
        )
    )


def _award(application, amount: Decimal, currency: str) -> Award:
    application.amount_awarded = amount
    award = Award(
        application=application,
        association_id=application.association_id,
        amount=amount,
        currency=currency,
        state="active",
        offered_at=NOW - timedelta(days=60),
        accepted_at=NOW - timedelta(days=50),
    )
    db.session.add(award)
    db.session.flush()
    db.session.add(
        LedgerEntry(
            award_id=award.id,
            kind="commitment",
            amount=amount,
            currency=currency,
            value_date=(NOW - timedelta(days=50)).date(),
        )
    )
    return award


def _money(award, kind: str, amount: str, days_ago: int) -> None:
    db.session.add(
        LedgerEntry(
            award_id=award.id,
            kind=kind,
            amount=Decimal(amount),
            currency=award.currency,
            value_date=(NOW - timedelta(days=days_ago)).date(),
        )
    )


def build(world: World, suffix: str = "") -> Programme:
    usd = make_call(world, code=f"SN-EMP-D1{suffix}")
    eur = make_call(
        world,
        code=f"EC-HEA-D2{suffix}",
        sector="health",
        currency="EUR",
        countries=["EC"],
        title={"en": "Health in Ecuador"},
    )
    make_application(world, usd)  # a draft: the call is open for 30 more days
    _submitted(world, usd, "submitted", 40, sdg=("8.5", "4.4"))
    _submitted(world, usd, "eligible", 40, sdg=("8.5",))
    awarded = _submitted(world, usd, "awarded", 100, sdg=("8.5", "10.c"))
    rejected = _submitted(world, usd, "rejected", 100)
    other = next(m.association for m in world.outsider.memberships)
    outsider_application = _submitted(world, usd, "submitted", 20, sdg=("8.5",), association=other)
    health = dict(sector="health", country="EC", amount_requested=Decimal("20000"))
    eur_awarded = _submitted(world, eur, "awarded", 200, sdg=("3.8",), **health)
    _submitted(world, eur, "withdrawn", 150, **{**health, "amount_requested": Decimal("15000")})
    _decided(awarded, "award", 45)
    _decided(rejected, "reject", 10)
    _decided(eur_awarded, "award", 190)

    usd_award = _award(awarded, Decimal("30000"), "USD")
    eur_award = _award(eur_awarded, Decimal("18000"), "EUR")
    db.session.flush()
    _money(usd_award, "payment", "12000", 30)
    _money(eur_award, "payment", "7200", 5)
    _money(eur_award, "refund", "200", 2)
    db.session.add_all(
        [
            Tranche(
                award=usd_award,
                position=1,
                percentage=Decimal("40"),
                amount=Decimal("12000"),
                state="paid",
                payment_date=(NOW - timedelta(days=30)).date(),
                paid_at=NOW - timedelta(days=30),
            ),
            Tranche(
                award=usd_award,
                position=2,
                percentage=Decimal("40"),
                amount=Decimal("12000"),
                state="requested",
                requested_at=NOW - timedelta(days=3),
            ),
            Tranche(
                award=eur_award,
                position=1,
                percentage=Decimal("40"),
                amount=Decimal("7200"),
                state="paid",
                payment_date=(NOW - timedelta(days=5)).date(),
                paid_at=NOW - timedelta(days=5),
            ),
            Tranche(
                award=eur_award,
                position=2,
                percentage=Decimal("40"),
                amount=Decimal("7200"),
                state="requested",
                requested_at=NOW - timedelta(days=40),
            ),
            Report(
                award=usd_award,
                kind="interim",
                due_date=date(2027, 1, 15),
                state="accepted",
                submitted_at=datetime(2027, 1, 10, 9, 0, tzinfo=UTC),
            ),
            Report(
                award=usd_award,
                kind="final",
                due_date=date(2027, 2, 1),
                state="submitted",
                submitted_at=datetime(2027, 2, 5, 9, 0, tzinfo=UTC),
            ),
            Report(award=eur_award, kind="interim", due_date=date(2027, 2, 15)),
            Report(award=eur_award, kind="final", due_date=date(2027, 8, 1)),
        ]
    )
    db.session.flush()
    return Programme(world, usd, eur, usd_award, eur_award, outsider_application)


#: The figures of the programme above, as the tables show them in English.
EXPECTED = {
    "funnel": [
        ("draft", "1"),
        ("submitted", "2"),
        ("eligible", "1"),
        ("awarded", "2"),
        ("rejected", "1"),
        ("withdrawn", "1"),
    ],
    "amounts": [
        ("Employment", "USD", "$160,000.00", "$30,000.00", "$12,000.00"),
        ("Health", "EUR", "€35,000.00", "€18,000.00", "€7,000.00"),
    ],
    "sdg": [("8.5", "4", "1"), ("10.c", "1", "1"), ("3.8", "1", "1"), ("4.4", "1", "0")],
    "reports": [
        ("On time", "1", "0"),
        ("Late", "0", "1"),
        ("Overdue", "1", "0"),
        ("Not yet due", "0", "1"),
    ],
    "decisions": [
        ("Under 30 days", "1"),
        ("30 to 59 days", "1"),
        ("60 to 89 days", "0"),
        ("90 to 179 days", "0"),
        ("180 days or more", "1"),
    ],
}
