"""Benchmark of bulk actions: one action over 500 applications of a call, each row in
its own savepoint through its guards, with history, notifications and the search index
written as for one, then committed.

Run with ``make bench``; prints a table. Uses SQLite in a temporary folder and, when it is
reachable, PostgreSQL (a throwaway database). The bar: 500 rows within 10 s, or in the
background with progress shown. More than ``BULK_ROWS_AT_ONCE`` rows are left to the
scheduler: the request only records them.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bench.workflows import ADMIN_URL, _backends, bench_app  # noqa: E402
from grants.extensions import db  # noqa: E402
from grants.models import Application, HistoryEntry, Notification  # noqa: E402
from grants.services import bulk_actions  # noqa: E402

ROWS = int(os.environ.get("BENCH_BULK_ROWS", "500"))
BAR_SECONDS = 10.0


def _measure(backend: str, url: str, folder: str) -> list[tuple]:
    from grants.roles import EVALUATOR
    from tests.fixtures.people import make_association, make_user
    from tests.fixtures.programme import make_application, make_call, make_world

    app = bench_app(url, folder)
    rows = []
    with app.test_request_context():
        upgrade()
        world = make_world()
        call = make_call(world, max_reviews_per_evaluator=None)
        # One association per twenty applications, two members each: the outbox writes
        # a row per member and channel.
        associations = []
        for number in range(ROWS // 20 + 1):
            members = [make_user(), make_user(locale="fr")]
            associations.append(make_association(*members, name=f"Bench association {number}"))
        ids = [
            make_application(world, call, state="submitted", association=associations[i // 20]).id
            for i in range(ROWS)
        ]
        evaluator = make_user(EVALUATOR)
        db.session.commit()

        def timed(list_name: str, action: str, **options) -> None:
            """The request (which records the rows, and acts on them when they are few)
            and the scheduler's work on what it left, each committed."""
            db.session.expire_all()
            start = time.perf_counter()
            run = bulk_actions.run(world.officer, list_name, action, ids, call=call, **options)
            db.session.commit()
            request = time.perf_counter() - start
            start = time.perf_counter()
            bulk_actions.work_waiting()
            background = time.perf_counter() - start
            db.session.expire_all()
            run = db.session.get(type(run), run.id)
            rows.append((backend, action, len(ids), run.done, run.refused, request, background))

        timed("screening", "mark_eligible")
        timed("assignments", "assign", evaluator_ids=[evaluator.id])
        timed("screening", "message", text="Please confirm your partner's letter by Friday.")
        timed("assignments", "remind")
        history = db.session.scalar(select(func.count(HistoryEntry.id)))
        notifications = db.session.scalar(select(func.count(Notification.id)))
        applications = db.session.scalar(select(func.count(Application.id)))
        rows.append(
            (
                backend,
                f"rows: {applications} applications, {history} history, "
                f"{notifications} notifications",
                0,
                0,
                0,
                0.0,
                0.0,
            )
        )
        db.session.remove()
        db.engine.dispose()
    return rows


def run() -> list[tuple]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend, url, pg_name in _backends(Path(tmp)):
            rows.extend(_measure(backend, url, tmp))
            if pg_name:
                with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    return rows


def main() -> None:
    rows = run()
    print(
        f"\nBulk actions over {ROWS} applications ({os.cpu_count()} CPUs; bar {BAR_SECONDS} s "
        "for the request, the rest in the background with progress shown)"
    )
    print(
        f"{'backend':<11} {'action':<14} {'rows':>5} {'done':>5} {'refused':>7} "
        f"{'request s':>9} {'background s':>12} {'ms/row':>7} {'within':>6}"
    )
    for backend, action, count, done, refused, request, background in rows:
        if not count:
            print(f"{backend:<11} {action}")
            continue
        within = "yes" if request <= BAR_SECONDS else "NO"
        print(
            f"{backend:<11} {action:<14} {count:>5} {done:>5} {refused:>7} {request:>9.2f} "
            f"{background:>12.2f} {(request + background) * 1000 / count:>7.1f} {within:>6}"
        )


if __name__ == "__main__":
    main()
