"""Test harness: the app on SQLite and on PostgreSQL, per-test rollback, role clients.

Every test that uses ``app`` runs once per database backend. PostgreSQL runs when it is
reachable and is skipped with the reason otherwise; ``REQUIRE_POSTGRES=1`` (set by CI)
turns that skip into a failure. Each test runs inside a transaction that is rolled back,
with the application's commits turned into savepoints.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.orm import scoped_session, sessionmaker

from grants import create_app
from grants.extensions import db
from tests.clients import AppClient

# Property tests check behaviour, not speed: on a busy shared machine one example of pure
# arithmetic can take longer than Hypothesis' default 200 ms, which failed a run for no
# fault of the code. Speed is measured by the benchmarks.
hypothesis_settings.register_profile(
    "behaviour", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.load_profile("behaviour")

pytest_plugins = [
    "tests.fixtures.seaweed",
    "tests.fixtures.smtp",
    "tests.fixtures.people",
    "tests.fixtures.programme",
    "tests.fixtures.redis",
    "tests.fixtures.receiver",
]

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
#: One database per test process, so two runs on one machine never share (or drop) one.
TEST_DATABASE = f"diaspora_grants_test_{os.getpid()}"
TEST_SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"


def pytest_sessionstart(session) -> None:
    """Compile the translation catalogs that changed (``make`` does it too), so a suite
    started with plain ``pytest`` reads the same French and Arabic as the product."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalogs = Path(__file__).resolve().parent.parent / "grants" / "translations"
    for po in catalogs.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source:
                catalog = read_po(source, locale=po.parent.parent.name)
            with mo.open("wb") as target:
                write_mo(target, catalog)


def _postgres_url(worker_db: str) -> str:
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    return f"{base}/{worker_db}"


def postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3):
            return None
    except psycopg.OperationalError as error:
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {str(error).strip()}"


def prepare_postgres(name: str = TEST_DATABASE) -> str:
    """Create an empty test database; the reason it cannot, as a skip or a failure."""
    reason = postgres_unreachable()
    if reason:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    drop_postgres(name)
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return _postgres_url(name)


def drop_postgres(name: str = TEST_DATABASE) -> None:
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_settings(database_url: str, instance: Path) -> dict:
    return {
        "TESTING": True,
        # One key for every test app: Flask-Security keeps key-derived state (TOTP,
        # salts) on its module-level extension object, which each app re-initialises.
        "SECRET_KEY": TEST_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_PATH": str(instance),
        "DOCUMENT_STORE": str(instance / "documents"),
        "SERVER_NAME": "grants.test",
        "BASE_URL": "http://grants.test",
        "SECURITY_PASSWORD_HASH": "argon2",
        # A light argon2 keeps the suite fast; production uses the library defaults.
        "SECURITY_PASSWORD_HASH_PASSLIB_OPTIONS": {"argon2__rounds": 1, "argon2__memory_cost": 256},
        "LOGIN_RATE_LIMIT": "10 per minute",
        "RATELIMIT_STORAGE_URI": "memory://",
        # Each test's data differs: its dashboards are computed on every view.
        "DASHBOARD_MAX_AGE_SECONDS": 0,
    }


def sqlite_file_app(instance: Path, **overrides) -> Flask:
    """An application of its own on a migrated SQLite file: for tests that need real
    commits from several threads, or routes of their own. Dispose of its engine after."""
    application = create_app(
        test_settings(f"sqlite:///{instance / 'grants.db'}", instance) | overrides
    )
    with application.app_context():
        from flask_migrate import upgrade

        upgrade()
    return application


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def app(backend: str, tmp_path_factory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp(f"instance-{backend}")
    if backend == "sqlite":
        url = f"sqlite:///{instance / 'test.db'}"
    else:
        url = prepare_postgres()
    application = create_app(test_settings(url, instance))
    with application.app_context():
        from flask_migrate import upgrade

        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()
    if backend == "postgresql":
        drop_postgres()


@pytest.fixture(autouse=True)
def _isolated(request) -> Iterator[None]:
    """Roll back everything a test wrote, when the test uses the app.

    Tests that need real commits (threads that must see each other's work) ask for the
    ``committed`` fixture instead, which empties the tables afterwards.
    """
    if "app" not in request.fixturenames or "committed" in request.fixturenames:
        yield
        return
    app: Flask = request.getfixturevalue("app")
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = scoped_session(
            sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
            scopefunc=original.registry.scopefunc,
        )
        try:
            yield
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()
            app.extensions["rate_limiter"].reset()


@pytest.fixture
def committed(app: Flask, backend: str) -> Iterator[Flask]:
    """Real commits, for threads that must see each other's work; PostgreSQL only,
    where rows are locked as in production. The tables are emptied afterwards."""
    if backend != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL, where rows are locked")
    yield app
    with app.app_context():
        tables = ", ".join(table.name for table in db.metadata.sorted_tables)
        db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.session.commit()


@pytest.fixture
def worker(app: Flask, tmp_path_factory) -> Callable[..., Flask]:
    """``worker(**settings)`` → another instance of the site, as a second gunicorn worker
    or host would be: the same database and secret, its own process state (rate-limit
    counters, document store), with ``settings`` changed."""

    def _worker(**overrides) -> Flask:
        folder = tmp_path_factory.mktemp("worker")
        settings = test_settings(app.config["SQLALCHEMY_DATABASE_URI"], folder)
        instance = create_app(settings | overrides)
        instance.test_client_class = AppClient
        return instance

    return _worker


@pytest.fixture
def client(app: Flask) -> AppClient:
    app.test_client_class = AppClient
    return app.test_client()
