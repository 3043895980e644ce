"""Benchmark of streamed exports: the applications of a call of 100,000 applications, as
CSV and XLSX, requested through the route by a logged-in officer and read chunk by chunk
as a browser would. Rows are generated in the database. Each export is requested twice:
once timed (the first byte of the body, the last byte), once under tracemalloc for the
peak of Python memory allocated while the response is produced (tracemalloc slows Python
down several times, so its run is not timed).

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


def _read(client, path: str) -> tuple[float, float, int]:
    """Request the export and read its body as it streams: first byte, last byte, size."""
    started = time.perf_counter()
    response = client.get(path, buffered=False)
    assert response.status_code == 200, response.status
    first = None
    size = 0
    for chunk in response.response:
        if chunk and first is None:
            first = time.perf_counter() - started
        size += len(chunk)
    response.close()
    elapsed = time.perf_counter() - started
    return first or elapsed, elapsed, size


def _measure(client, path: str) -> tuple[float, float, float, int]:
    first, elapsed, size = _read(client, path)
    tracemalloc.start()
    _read(client, path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return first, elapsed, peak / 1024 / 1024, size


def run(count: int) -> list[tuple]:
    from tests.clients import AppClient
    from tests.fixtures.people import PASSWORD

    rows = []
    with postgres_app("exports") as app:
        world, call = _prepare(count)
        total = db.session.scalar(
            select(func.count(Application.id)).where(Application.call_id == call.id)
        )
        app.test_client_class = AppClient
        client = app.test_client()
        officer = world.officer
        client.login(officer.email, PASSWORD, totp_secret=officer.tf_totp_secret)
        for kind in ("csv", "xlsx"):
            first, elapsed, peak, size = _measure(
                client, f"/office/calls/{call.code}/applications.{kind}"
            )
            rows.append(("postgresql", kind, total, first, elapsed, peak, size / 1024 / 1024))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--applications", type=int, default=100_000)
    arguments = parser.parse_args()
    rows = run(arguments.applications)
    print(f"\nStreamed exports of a call's applications ({os.cpu_count()} CPUs)")
    print(
        f"{'backend':<11} {'format':<6} {'rows':>8} {'first byte s':>12} {'last byte s':>11} "
        f"{'peak MB':>8} {'file MB':>8}"
    )
    for backend, kind, total, first, elapsed, peak, size in rows:
        print(
            f"{backend:<11} {kind:<6} {total:>8,} {first:>12.2f} {elapsed:>11.1f} "
            f"{peak:>8.1f} {size:>8.1f}"
        )


if __name__ == "__main__":
    main()
