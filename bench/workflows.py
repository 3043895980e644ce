"""Benchmark of the lifecycle engine: firing transitions and listing what a person can do.

Run with ``make bench``; prints a table. Uses SQLite in a temporary folder and, when it is
reachable, PostgreSQL (a throwaway database), with the same code paths as the web pages.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import select  # noqa: E402

from grants import create_app  # noqa: E402
from grants.extensions import db  # noqa: E402
from grants.models import Application  # noqa: E402
from grants.services.workflow import allowed_for_many, fire  # noqa: E402

ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def _backends(folder: Path):
    yield "sqlite", f"sqlite:///{folder / 'bench.db'}", None
    name = f"diaspora_grants_bench_{os.getpid()}"
    try:
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        print("PostgreSQL not reachable: benchmarked on SQLite only", file=sys.stderr)
        return
    base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    yield "postgresql", f"{base}/{name}", name


@contextmanager
def postgres_app(tag: str):
    """A migrated application on a PostgreSQL database of its own, dropped afterwards;
    yields the app inside its application context."""
    import logging

    name = f"diaspora_grants_bench_{tag}_{os.getpid()}"
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        with tempfile.TemporaryDirectory() as folder:
            app = bench_app(f"{base}/{name}", folder)
            with app.app_context():
                logging.getLogger("alembic").setLevel(logging.WARNING)
                upgrade()
                yield app
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_app(url: str, folder: str):
    """The application on a benchmark database, with a light password hash for set-up."""
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "INSTANCE_PATH": folder,
            "SECRET_KEY": "bench",
            "TESTING": True,
            "SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS": {
                "argon2__rounds": 1,
                "argon2__memory_cost": 256,
            },
        }
    )


def _timed(function, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def _measure(backend: str, url: str, folder: str) -> list[tuple]:
    from tests.fixtures.programme import NOW, make_application, make_call, make_world

    app = bench_app(url, folder)
    rows = []
    with app.test_request_context():
        upgrade()
        world = make_world()
        call = make_call(world)
        applications = [make_application(world, call) for _ in range(50)]
        db.session.commit()

        def page():
            db.session.expire_all()
            records = db.session.scalars(
                select(Application).where(Application.call_id == call.id).limit(50)
            ).all()
            allowed_for_many(records, world.applicant)

        samples = _timed(page, 20)
        rows.append(
            (
                backend,
                "load 50 applications + allowed_transitions",
                50,
                statistics.median(samples),
                max(samples),
            )
        )
        queue = iter(applications)

        def submit_one():
            fire(next(queue), "submit", world.applicant, now=NOW)
            db.session.commit()

        samples = _timed(submit_one, 40)
        rows.append(
            (
                backend,
                "fire submit (guards, history, commit)",
                1,
                statistics.median(samples),
                max(samples),
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
    print(f"\nLifecycle engine ({os.cpu_count()} CPUs)")
    print(f"{'backend':<11} {'operation':<46} {'records':>7} {'median ms':>10} {'max ms':>8}")
    for backend, operation, records, median, worst in rows:
        print(f"{backend:<11} {operation:<46} {records:>7} {median:>10.2f} {worst:>8.2f}")


if __name__ == "__main__":
    main()
