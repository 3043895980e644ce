"""A lost database connection (PostgreSQL restarted, failed over, or a backend
terminated) is an outage the client may retry, not an error of ours.

The connections are really terminated with ``pg_terminate_backend``: between two
requests the pool's pre-ping must notice and reconnect, so the next request succeeds;
a request whose connection dies while it runs answers 503 with ``Retry-After``, in the
pages as in the API, and the request after it succeeds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import OperationalError

from grants.database import is_connection_lost
from grants.extensions import db
from grants.services.accounts import issue_token
from tests.conftest import POSTGRES_ADMIN_URL, TEST_DATABASE
from tests.fixtures.people import make_user


def backends() -> set[int]:
    """The server processes serving the test database, other than this one."""
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (TEST_DATABASE,),
        ).fetchall()
    return {pid for (pid,) in rows}


def terminate(*pids: int) -> None:
    """End these backends, waiting (up to 10 s) until each has gone."""
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))


@contextmanager
def connection_dies_during_the_request(site: Flask) -> Iterator[list[str]]:
    """Terminate the backend of the first statement the site runs, just before it runs:
    the connection was checked out (and pinged) fine, then the server went away."""
    with site.app_context():
        engine = db.engine
    killed: list[str] = []

    def _terminate_first(conn, cursor, statement, parameters, context, executemany):
        if not killed:
            killed.append(statement)
            terminate(conn.connection.dbapi_connection.info.backend_pid)

    event.listen(engine, "before_cursor_execute", _terminate_first)
    try:
        yield killed
    finally:
        event.remove(engine, "before_cursor_execute", _terminate_first)


@pytest.fixture
def postgresql_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("connections are ended with pg_terminate_backend: PostgreSQL only")


@pytest.fixture
def site(postgresql_only, committed: Flask, worker) -> Flask:
    """A worker with a connection pool of its own, on the committed PostgreSQL database."""
    return worker()


def test_the_next_request_reconnects_after_the_connections_are_terminated(site):
    client = FlaskClient(site, site.response_class)
    assert client.get("/calls").status_code == 200
    before = backends()
    assert before, "the pool keeps a connection open"
    terminate(*before)
    response = client.get("/calls")
    assert response.status_code == 200
    assert backends().isdisjoint(before), "the request was served on a new connection"


def test_a_page_whose_connection_dies_answers_503_with_retry_after(site):
    client = FlaskClient(site, site.response_class)
    assert client.get("/calls").status_code == 200
    with connection_dies_during_the_request(site) as killed:
        response = client.get("/calls")
    assert killed, "a statement ran on the terminated connection"
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "Temporarily unavailable" in response.get_data(as_text=True)
    # The broken connection left the pool with the request: the next one is served.
    assert client.get("/calls").status_code == 200


def test_an_api_request_whose_connection_dies_answers_503_with_retry_after(site):
    with site.app_context():
        person = make_user()
        token = issue_token(person, person, "outage")
        db.session.commit()
    client = FlaskClient(site, site.response_class)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/calls", headers=headers).status_code == 200
    with connection_dies_during_the_request(site) as killed:
        response = client.get("/api/v1/calls", headers=headers)
    assert killed
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json["code"] == "unavailable"
    assert response.json["message"] == "The database is unavailable; try again shortly."
    assert client.get("/api/v1/calls", headers=headers).status_code == 200


def test_a_statement_timeout_is_not_a_lost_connection(postgresql_only, committed):
    """Only an outage is retried as 503; a query cancelled by the server is not one."""
    engine = create_engine(committed.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.connect() as connection:
            connection.execute(text("SET statement_timeout = '10ms'"))
            with pytest.raises(OperationalError) as cancelled:
                connection.execute(text("SELECT pg_sleep(5)"))
        assert not is_connection_lost(cancelled.value)
        with engine.connect() as connection:
            pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
            terminate(pid)
            with pytest.raises(OperationalError) as lost:
                connection.execute(text("SELECT 1"))
        assert is_connection_lost(lost.value)
    finally:
        engine.dispose()


def test_a_connection_lost_at_the_commit_answers_503_and_stores_nothing(site):
    """The view did its work; the connection dies as the request commits. The answer the
    view prepared is void (nothing was stored), so the client is told to retry."""
    from grants.models import ApiToken
    from tests.fixtures.people import PASSWORD

    with site.app_context():
        person = make_user()
        email = person.email
        db.session.commit()
        engine = db.engine
    killed: list[int] = []

    def _terminate_at_commit(conn):
        if not killed:
            killed.append(conn.connection.dbapi_connection.info.backend_pid)
            terminate(killed[0])

    client = FlaskClient(site, site.response_class)
    event.listen(engine, "commit", _terminate_at_commit)
    try:
        response = client.post("/api/v1/tokens", json={"email": email, "password": PASSWORD})
    finally:
        event.remove(engine, "commit", _terminate_at_commit)
    assert killed, "the request reached its commit"
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "5"
    assert response.json["code"] == "unavailable"
    with site.app_context():
        assert db.session.query(ApiToken).count() == 0
