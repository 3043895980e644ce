"""Benchmark of streamed exports: the applications of a call of 100,000 applications, as
CSV and XLSX, as the route streams them. Rows are generated in the database; the peak of
Python memory allocated while the response is produced is measured with tracemalloc.

    .venv/bin/python bench/exports.py [--applications 100000]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text  # noqa: E402

from bench.reminders import clone  # noqa: E402
from bench.workflows import postgres_app  # noqa: E402
from grants.extensions import db  # noqa: E402
from grants.models import Application  # noqa: E402


def _prepare(count: int):
    from tests.fixtures.programme import make_application, make_call, make_world

    world = make_world()
    call = make_call(world)
    template = make_application(world, call, state="submitted")
    db.session.commit()
    clone("applications", template.id, count - 1, {"reference": "'BENCH-' || g"})
    db.session.commit()
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return world, call


def _measure(call, kind: str) -> tuple[float, float, int]:
    """Produce the whole export as the route streams it; time and Python memory peak."""
    from grants.exports import tables

    tracemalloc.start()
    started = time.perf_counter()
    table = tables.applications_of(call)
    chunks = tables.csv_chunks(table) if kind == "csv" else tables.xlsx_chunks(table)
    size = sum(len(chunk) for chunk in chunks)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return elapsed, peak / 1024 / 1024, size


def run(count: int) -> list[tuple]:
    rows = []
    with postgres_app("exports"):
        _world, call = _prepare(count)
        total = db.session.scalar(
            select(func.count(Application.id)).where(Application.call_id == call.id)
        )
        for kind in ("csv", "xlsx"):
            elapsed, peak, size = _measure(call, kind)
            rows.append(("postgresql", kind, total, elapsed, peak, size / 1024 / 1024))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--applications", type=int, default=100_000)
    arguments = parser.parse_args()
    rows = run(arguments.applications)
    print(f"\nStreamed exports of a call's applications ({os.cpu_count()} CPUs)")
    print(f"{'backend':<11} {'format':<6} {'rows':>8} {'seconds':>8} {'peak MB':>8} {'file MB':>8}")
    for backend, kind, total, elapsed, peak, size in rows:
        print(f"{backend:<11} {kind:<6} {total:>8,} {elapsed:>8.1f} {peak:>8.1f} {size:>8.1f}")


if __name__ == "__main__":
    main()
