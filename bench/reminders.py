"""Benchmark of the reminder sweep on PostgreSQL: 1,000,000 reports, of which 1 % (then
0.1 %) are due. Rows are generated in the database (INSERT … SELECT over
generate_series, cloning one template row per table), then the sweep is timed: the first
run (which writes every reminder and its notifications), the second (nothing new), and
the report query alone, with its plan.

    .venv/bin/python bench/reminders.py [--reports 1000000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import current_app  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from bench.workflows import postgres_app  # noqa: E402
from grants.extensions import db  # noqa: E402
from grants.models import Notification, Reminder, Report  # noqa: E402
from grants.orm import utcnow  # noqa: E402
from notifications.reminders import (  # noqa: E402
    REMINDERS,
    find_report_due,
    report_due_query,
    sweep,
    sweep_rule,
)

REPORTS_PER_AWARD = 4
ASSOCIATIONS = 5000


def clone(table: str, template_id: int, count: int, overrides: dict[str, str]) -> None:
    """Copy one row ``count`` times; ``overrides`` give SQL expressions of ``g`` (1…count)."""
    columns = [
        name
        for (name,) in db.session.execute(
            text(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = :t AND column_name <> 'id' ORDER BY ordinal_position"
            ),
            {"t": table},
        )
    ]
    values = [overrides.get(c, f't."{c}"') for c in columns]
    db.session.execute(
        text(
            f"INSERT INTO {table} ({', '.join(f'{chr(34)}{c}{chr(34)}' for c in columns)}) "
            f"SELECT {', '.join(values)} FROM {table} t, generate_series(1, :n) g "
            f"WHERE t.id = :template"
        ),
        {"n": count, "template": template_id},
    )


def generate(reports: int, due_share: float) -> dict[str, int]:
    """The programme at scale: associations with one member each, active awards, and
    their reports: ``due_share`` due now (open, due within the 14-day window or
    overdue), the others accepted in the past or scheduled beyond the window."""
    from tests.fixtures.programme import make_award, make_world

    world = make_world()
    award = make_award(world, state="active", with_schedule=False)
    report = Report(award_id=award.id, kind="interim", due_date=date.today(), state="accepted")
    db.session.add(report)
    db.session.commit()
    user_id, association_id = world.applicant.id, world.association.id
    application_id = award.application_id
    clone(
        "users",
        user_id,
        ASSOCIATIONS,
        {"email": "'bench-' || g || '@example.org'", "fs_uniquifier": "md5('u' || g)"},
    )
    clone("associations", association_id, ASSOCIATIONS, {"name": "'Bench association ' || g"})
    db.session.execute(
        text(
            "INSERT INTO memberships (user_id, association_id, joined_at) "
            "SELECT u.id, a.id, now() FROM "
            "(SELECT id, row_number() OVER (ORDER BY id) n FROM users "
            " WHERE email LIKE 'bench-%') u JOIN "
            "(SELECT id, row_number() OVER (ORDER BY id) n FROM associations "
            " WHERE name LIKE 'Bench association %') a ON a.n = u.n"
        )
    )
    first_association = db.session.scalar(
        text("SELECT min(id) FROM associations WHERE name LIKE 'Bench association %'")
    )
    awards = reports // REPORTS_PER_AWARD
    clone(
        "applications",
        application_id,
        awards,
        {
            "reference": "'BENCH-' || g",
            "association_id": f"{first_association} + (g % {ASSOCIATIONS})",
        },
    )
    first_application = db.session.scalar(
        text("SELECT min(id) FROM applications WHERE reference LIKE 'BENCH-%'")
    )
    clone(
        "awards",
        award.id,
        awards,
        {
            "application_id": f"{first_application} + g - 1",
            "association_id": f"{first_association} + (g % {ASSOCIATIONS})",
        },
    )
    first_award = db.session.scalar(
        text("SELECT min(id) FROM awards WHERE application_id >= :a"), {"a": first_application}
    )
    due_every = round(1 / due_share)
    # Report g: due ones are spread over [today - 30, today + 14]; of the others, half
    # were accepted in the past year, half are scheduled 15 to 400 days ahead.
    clone(
        "reports",
        report.id,
        reports,
        {
            "award_id": f"{first_award} + ((g - 1) / {REPORTS_PER_AWARD})",
            "state": f"CASE WHEN g % {due_every} = 0 THEN 'scheduled' "
            "WHEN g % 2 = 0 THEN 'accepted' ELSE 'scheduled' END",
            "due_date": f"CASE WHEN g % {due_every} = 0 THEN current_date - 30 + (g % 45) "
            "WHEN g % 2 = 0 THEN current_date - 1 - (g % 365) "
            "ELSE current_date + 15 + (g % 385) END",
        },
    )
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return {
        "reports": db.session.scalar(select(func.count(Report.id))),
        "due": db.session.scalar(
            select(func.count(Report.id)).where(
                Report.state == "scheduled", Report.due_date <= date.today() + timedelta(days=14)
            )
        ),
    }


def plan(now) -> str:
    """EXPLAIN ANALYZE of the report rule's query, as the sweep sends it."""
    from sqlalchemy.dialects import postgresql

    query = report_due_query(now, current_app.config).compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    rows = db.session.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {query}"))
    return "\n".join(row[0] for row in rows)


def timed(function) -> tuple[float, object]:
    start = time.perf_counter()
    result = function()
    return (time.perf_counter() - start) * 1000, result


def measure(reports: int, due_share: float, show_plan: bool) -> list[tuple]:
    rows = []
    with postgres_app("reminders") as app:
        began = time.perf_counter()
        sizes = generate(reports, due_share)
        built = time.perf_counter() - began
        print(
            f"generated {sizes['reports']:,} reports ({sizes['due']:,} due) in {built:.0f} s",
            file=sys.stderr,
        )
        now = utcnow()
        rule = next(r for r in REMINDERS if r.name == "report_due")
        query_ms, found = timed(lambda: find_report_due(now, app.config))
        first_ms, sent = timed(lambda: sweep_rule(rule, now, app.config))
        second_ms, again = timed(lambda: sweep_rule(rule, now, app.config))
        whole_ms, _ = timed(lambda: sweep(now, app.config))
        written = db.session.scalar(select(func.count(Notification.id)))
        keys = db.session.scalar(select(func.count(Reminder.id)))
        rows.append(
            (
                sizes["reports"],
                sizes["due"],
                len(found),
                query_ms,
                first_ms,
                sent,
                written,
                second_ms,
                again,
                whole_ms,
                keys,
            )
        )
        if show_plan:
            print("\nPlan of the report rule's query:\n" + plan(now), file=sys.stderr)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=1_000_000)
    arguments = parser.parse_args()
    rows = []
    for share, show_plan in ((0.01, True), (0.001, False)):
        rows += measure(arguments.reports, share, show_plan)
    print(f"\nReminder sweep on PostgreSQL ({os.cpu_count()} CPUs)")
    print(
        f"{'reports':>9} {'due':>6} {'find ms':>9} {'1st sweep ms':>13} {'reminded':>9} "
        f"{'rows written':>13} {'2nd sweep ms':>13} {'new':>4} {'all rules ms':>13}"
    )
    for total, due, _found, query, first, sent, written, second, again, whole, _ in rows:
        print(
            f"{total:>9,} {due:>6,} {query:>9.0f} {first:>13.0f} {sent:>9,} {written:>13,} "
            f"{second:>13.0f} {again:>4} {whole:>13.0f}"
        )


if __name__ == "__main__":
    main()
