"""Benchmark of the three dashboards on PostgreSQL with 100,000 applications: each page
requested as its reader does (logged in, rendered), timed on the server side of the test
client. Applications are bulk-loaded with COPY (``grants.bulk.insert_rows``) in every
state, sector, country and currency; awards, tranches, reports, ledger entries and
decisions are derived from them in the database (INSERT … SELECT).

    .venv/bin/python bench/dashboards.py [--applications 100000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text  # noqa: E402

from bench.reminders import clone  # noqa: E402
from bench.workflows import postgres_app  # noqa: E402
from grants.bulk import insert_rows  # noqa: E402
from grants.extensions import db  # noqa: E402
from grants.models import Application, LedgerEntry  # noqa: E402

CALLS = 24
ASSOCIATIONS = 2000
CURRENCIES = ("USD", "EUR", "XOF")
COUNTRIES = ("SN", "ML", "MG", "EC", "MA", "TN")
SECTORS = ("employment", "education", "health", "human_rights_social_security")
#: A programme in its second year: most applications decided.
STATES = (
    ("draft", 8),
    ("submitted", 10),
    ("eligible", 6),
    ("in_review", 8),
    ("reviewed", 4),
    ("awarded", 12),
    ("waitlisted", 4),
    ("rejected", 38),
    ("ineligible", 5),
    ("withdrawn", 5),
)
TARGETS = ("8.5", "8.6", "4.3", "4.4", "3.8", "3.1", "10.c", "10.7", "5.5", "1.4", "16.9")
LIMIT_MS = 300


def _applications(count: int, calls, association_ids, user_id: int, now: datetime):
    chance = random.Random(2027)
    states = [state for state, weight in STATES for _ in range(weight)]
    for number in range(1, count + 1):
        call = calls[number % len(calls)]
        state = chance.choice(states)
        submitted = None if state == "draft" else now - timedelta(days=chance.randint(30, 700))
        requested = Decimal(chance.randrange(10_000, 40_000, 500))
        yield {
            "call_id": call.id,
            "association_id": association_ids[number % len(association_ids)],
            "reference": f"{call.code}-{number:06d}",
            "language": "fr",
            "title": f"Project {number}",
            "summary": "",
            "objectives": "",
            "sector": call.sector,
            "country": call.countries[0],
            "locality": "",
            "beneficiaries_description": "",
            "sdg_targets": json.dumps(chance.sample(TARGETS, chance.randint(0, 3))),
            "budget_currency": call.currency,
            "amount_requested": requested,
            "amount_awarded": requested if state == "awarded" else None,
            "state": state,
            "version": 1,
            "created_by_id": user_id,
            "created_at": (submitted or now) - timedelta(days=10),
            "updated_at": submitted or now,
            "submitted_at": submitted,
        }


DERIVED = [
    # An award per awarded application, accepted two months after the submission.
    """INSERT INTO awards (application_id, association_id, amount, currency, conditions,
        offered_at, accepted_at, signatory_name, signatory_role, account_holder, iban,
        account_number, bank_name, bic, bank_change_pending, paid_total, state, version)
       SELECT a.id, a.association_id, a.amount_awarded, c.currency, '',
        a.submitted_at + interval '50 days', a.submitted_at + interval '60 days', 'S', 'P',
        'H', '', '1', 'B', 'BANKSNDA', false, 0, 'active', 1
       FROM applications a JOIN calls c ON c.id = a.call_id WHERE a.state = 'awarded'""",
    # The decision of every decided application, 20 to 120 days after the submission.
    """INSERT INTO history (entity_type, entity_id, transition, from_state, to_state,
        actor_label, comment, data, created_at)
       SELECT 'application', a.id,
        CASE a.state WHEN 'awarded' THEN 'award' WHEN 'waitlisted' THEN 'waitlist'
             ELSE 'reject' END,
        'reviewed', a.state, 'Officer', '', '{}',
        a.submitted_at + (20 + a.id % 100) * interval '1 day'
       FROM applications a WHERE a.state IN ('awarded', 'waitlisted', 'rejected')""",
    """UPDATE applications SET decided_at = submitted_at + (20 + id % 100) * interval '1 day'
       WHERE state IN ('awarded', 'waitlisted', 'rejected')""",
    """INSERT INTO ledger_entries (award_id, kind, amount, currency, value_date, reference,
        actor_label, created_at)
       SELECT id, 'commitment', amount, currency, accepted_at::date, '', 'System', accepted_at
       FROM awards""",
    # The first tranche (40 %) paid on most grants, a second one waiting for approval.
    """INSERT INTO ledger_entries (award_id, kind, amount, currency, value_date, reference,
        actor_label, created_at)
       SELECT id, 'payment', round(amount * 0.4, 2), currency,
        LEAST(accepted_at::date + 20, current_date), '', 'Finance', accepted_at
       FROM awards WHERE id % 5 <> 0""",
    """INSERT INTO tranches (award_id, position, percentage, amount, cycle, bank_reference,
        state, version, requested_at, paid_at, payment_date)
       SELECT id, p, 40, round(amount * 0.4, 2), 1, '',
        CASE WHEN p = 1 AND id % 5 <> 0 THEN 'paid' WHEN p = 2 AND id % 3 = 0
             THEN 'requested' ELSE 'planned' END,
        1,
        CASE WHEN p = 2 AND id % 3 = 0 THEN now() - (id % 45) * interval '1 day' END,
        CASE WHEN p = 1 AND id % 5 <> 0 THEN accepted_at + interval '20 days' END,
        CASE WHEN p = 1 AND id % 5 <> 0 THEN LEAST(accepted_at::date + 20, current_date) END
       FROM awards, generate_series(1, 2) p""",
    """INSERT INTO reports (award_id, kind, due_date, activities, results, difficulties,
        next_steps, spending, indicator_values, cofinancing_received, review_comments,
        submitted_at, state, version)
       SELECT id, k, accepted_at::date + CASE k WHEN 'interim' THEN 180 ELSE 365 END,
        '', '', '', '', '[]', '{}', '{}', '{}',
        CASE WHEN id % 4 <> 0 AND accepted_at::date + CASE k WHEN 'interim' THEN 180
             ELSE 365 END < current_date
             THEN accepted_at + CASE k WHEN 'interim' THEN 170 ELSE 380 END
                  * interval '1 day' END,
        CASE WHEN id % 4 <> 0 AND accepted_at::date + CASE k WHEN 'interim' THEN 180
             ELSE 365 END < current_date THEN 'accepted' ELSE 'scheduled' END, 1
       FROM awards, unnest(ARRAY['interim', 'final']) k""",
]


def generate(count: int):
    from tests.fixtures.programme import make_call, make_world

    now = datetime.now(UTC)
    world = make_world()
    calls = [
        make_call(
            world,
            code=f"BENCH-{number:02d}",
            sector=SECTORS[number % len(SECTORS)],
            currency=CURRENCIES[number % len(CURRENCIES)],
            countries=[COUNTRIES[number % len(COUNTRIES)]],
            envelope=Decimal("100000000"),
        )
        for number in range(CALLS)
    ]
    db.session.commit()
    clone("associations", world.association.id, ASSOCIATIONS - 1, {"name": "'Bench ' || g"})
    ids = list(db.session.scalars(text("SELECT id FROM associations ORDER BY id")))
    insert_rows(Application.__table__, _applications(count, calls, ids, world.applicant.id, now))
    for statement in DERIVED:
        db.session.execute(text(statement))
    db.session.commit()
    # As autovacuum leaves a settled table: statistics and the visibility map.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    return world


def _timed(client, path: str, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat + 1):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return samples[1:]  # the first request warms the caches (templates, catalogs)


def run(count: int, repeat: int) -> tuple[dict, list[tuple]]:
    from tests.clients import AppClient
    from tests.fixtures.people import PASSWORD

    rows = []
    with postgres_app("dashboards") as app:
        began = time.perf_counter()
        world = generate(count)
        sizes = {
            "applications": db.session.scalar(select(func.count(Application.id))),
            "ledger entries": db.session.scalar(select(func.count(LedgerEntry.id))),
            "seconds to load": round(time.perf_counter() - began),
        }
        own = db.session.scalar(
            select(func.count(Application.id)).where(
                Application.association_id == world.association.id
            )
        )
        app.test_client_class = AppClient
        pages = [
            ("programme", world.officer, "/dashboard/programme", sizes["applications"]),
            ("finance", world.finance, "/dashboard/finance", sizes["ledger entries"]),
            (
                "association",
                world.applicant,
                f"/dashboard/associations/{world.association.id}",
                own,
            ),
        ]
        for name, person, path, size in pages:
            client = app.test_client()
            client.login(person.email, PASSWORD, totp_secret=person.tf_totp_secret)
            samples = _timed(client, path, repeat)
            median = statistics.median(samples)
            p95 = statistics.quantiles(samples, n=20)[-1]
            rows.append((name, size, median, p95))
    return sizes, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    arguments = parser.parse_args()
    sizes, rows = run(arguments.applications, arguments.repeat)
    print(
        f"\nDashboards on PostgreSQL ({os.cpu_count()} CPUs): "
        + ", ".join(f"{value:,} {key}" for key, value in sizes.items())
    )
    print(f"{'dashboard':<12} {'rows':>8} {'median ms':>10} {'p95 ms':>8}")
    for name, size, median, p95 in rows:
        flag = "" if p95 < LIMIT_MS else f"  over {LIMIT_MS} ms"
        print(f"{name:<12} {size:>8,} {median:>10.1f} {p95:>8.1f}{flag}")


if __name__ == "__main__":
    main()
