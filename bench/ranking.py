"""Benchmark of the ranking page's computation at scale: 2,000 applications, 3 submitted
reviews each, 5 criteria, 60 evaluators. Rows are bulk-inserted (``bench.programme.
ranked_call``); the ranking is timed when it must be computed (the first view after a
review changed: one pass over every submitted score, normalisation, ranking) and when it
is kept, and the whole page (its first hundred rows, rendered) with a kept ranking."""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import update  # noqa: E402

from bench.programme import make_evaluators, ranked_call  # noqa: E402
from bench.workflows import ADMIN_URL, _backends, bench_app  # noqa: E402
from grants.extensions import db  # noqa: E402
from grants.models import Call  # noqa: E402
from grants.models.calls import new_ranking_stamp  # noqa: E402
from grants.services.ranking import ranking  # noqa: E402

APPLICATIONS, REVIEWS, EVALUATORS = 2000, 3, 60


def _measure(backend: str, url: str, folder: str) -> tuple:
    from tests.fixtures.programme import make_world

    app = bench_app(url, folder)
    with app.test_request_context():
        upgrade()
        world = make_world()
        evaluators = make_evaluators(EVALUATORS)
        db.session.flush()
        call = ranked_call(world, evaluators, APPLICATIONS, REVIEWS)

        def page(fresh: bool):
            if fresh:  # as after a review changed
                db.session.execute(
                    update(Call).where(Call.id == call.id).values(ranking_stamp=new_ranking_stamp())
                )
            db.session.expire_all()
            ranking(call, page=1)

        from flask import render_template
        from flask_security import login_user

        login_user(world.officer)

        def rendered():
            db.session.expire_all()
            html = render_template(
                "assignments/ranking.html", call=call, ranking=ranking(call, page=1), form={}
            )
            assert html.count("<tr>") >= 100

        samples, kept = [], []
        for _ in range(3):
            start = time.perf_counter()
            page(fresh=True)
            samples.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            page(fresh=False)
            kept.append((time.perf_counter() - start) * 1000)
        pages = []
        for _ in range(3):
            start = time.perf_counter()
            rendered()
            pages.append((time.perf_counter() - start) * 1000)
        db.session.remove()
        db.engine.dispose()
    return (
        backend,
        statistics.median(samples),
        max(samples),
        statistics.median(kept),
        statistics.median(pages),
    )


def main() -> None:
    import psycopg

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend, url, pg_name in _backends(Path(tmp)):
            rows.append(_measure(backend, url, tmp))
            if pg_name:
                with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)')
    print(f"\nRanking of one call: {APPLICATIONS} applications x {REVIEWS} reviews x 5 criteria")
    print(
        f"{'backend':<11} {'computed median ms':>19} {'max ms':>8} {'kept median ms':>15} "
        f"{'page of 100 ms':>15}"
    )
    for backend, median, worst, kept, whole in rows:
        print(f"{backend:<11} {median:>19.0f} {worst:>8.0f} {kept:>15.1f} {whole:>15.0f}")


if __name__ == "__main__":
    main()
