"""Benchmark of the three dashboards on PostgreSQL with 100,000 applications: each page
requested as its reader does (logged in, rendered), timed on the server side of the test
client. The programme is the one of ``bench/programme.py`` (applications bulk-loaded
with COPY, everything else derived in the database).

    .venv/bin/python bench/dashboards.py [--applications 100000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select  # noqa: E402

from bench.programme import generate, settle  # noqa: E402
from bench.workflows import postgres_app  # noqa: E402
from grants.extensions import db  # noqa: E402
from grants.models import Application, LedgerEntry  # noqa: E402

LIMIT_MS = 300


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
        world = generate(count).world
        settle()
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
