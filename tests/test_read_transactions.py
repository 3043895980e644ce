"""On PostgreSQL a request that begins as a reader sends its SELECTs without BEGIN and
COMMIT; the first statement that is not a plain read begins a transaction, and what
follows it stands or falls together, as in any other request.

Real commits on a worker of its own (the per-test SAVEPOINT would hide the difference):
each route below reports the state of the request's connection as psycopg sees it.
"""

from __future__ import annotations

import pytest
from flask import Flask, abort, jsonify
from flask.testing import FlaskClient
from sqlalchemy import select, text

from grants.extensions import csrf, db
from grants.models import Role
from grants.orm import utcnow


@pytest.fixture
def site(backend: str, committed: Flask, worker) -> Flask:
    if backend != "postgresql":
        pytest.skip("transactions of a PostgreSQL connection")
    site = worker()

    def status() -> str:
        return db.session.connection().connection.dbapi_connection.info.transaction_status.name

    def read_only():
        db.session.scalar(select(Role.id).limit(1))
        return jsonify(status=status())

    def reads_then_writes(fail: bool = False):
        db.session.scalar(select(Role.id).limit(1))
        before = status()
        db.session.add(Role(name="written-by-a-read", description=""))
        db.session.flush()
        db.session.execute(text("SET LOCAL lock_timeout = '123ms'"))
        setting = db.session.scalar(text("SELECT current_setting('lock_timeout')"))
        if fail:
            abort(409)  # refused after writing: the request rolls back
        return jsonify(before=before, after=status(), setting=setting)

    def streamed():
        rows = db.session.scalars(select(Role.name).execution_options(yield_per=2))
        return jsonify(names=sorted(rows), status=status())

    def copied():
        from grants.bulk import insert_rows

        db.session.scalar(select(Role.id).limit(1))
        row = {"name": "written-by-a-read", "description": "", "update_datetime": utcnow()}
        insert_rows(Role.__table__, [row])
        abort(409)

    site.add_url_rule("/_streamed", "_streamed", streamed)
    site.add_url_rule("/_copied", "_copied", copied)
    site.add_url_rule("/_read", "_read", csrf.exempt(read_only), methods=["GET", "POST"])
    site.add_url_rule("/_read-then-write", "_write", reads_then_writes)
    site.add_url_rule(
        "/_read-then-fail", "_fail", lambda: reads_then_writes(fail=True), methods=["GET"]
    )
    return site


def roles_written(site: Flask) -> int:
    with site.app_context():
        statement = select(Role).where(Role.name == "written-by-a-read")
        return len(db.session.scalars(statement).all())


def test_a_page_reads_without_a_transaction_and_a_form_within_one(site):
    client = FlaskClient(site, site.response_class)
    assert client.get("/_read").json == {"status": "IDLE"}
    # The pooled connection lent to the next request is back to beginning transactions.
    assert client.post("/_read").json == {"status": "INTRANS"}
    assert client.get("/_read").json == {"status": "IDLE"}


def test_a_read_that_writes_begins_a_transaction_before_writing(site):
    client = FlaskClient(site, site.response_class)
    answer = client.get("/_read-then-write").json
    assert answer == {"before": "IDLE", "after": "INTRANS", "setting": "123ms"}
    assert roles_written(site) == 1


def test_what_a_failed_read_wrote_is_rolled_back(site):
    client = FlaskClient(site, site.response_class)
    assert client.get("/_read-then-fail").status_code == 409
    assert roles_written(site) == 0
    assert client.get("/_read").json == {"status": "IDLE"}


def test_a_streamed_read_runs_in_a_transaction(site):
    """A server-side cursor lives in a transaction: the stream begins one."""
    with site.app_context():
        db.session.add_all(Role(name=f"streamed-{n}", description="") for n in range(5))
        db.session.commit()
    answer = FlaskClient(site, site.response_class).get("/_streamed").json
    assert [name for name in answer["names"] if name.startswith("streamed-")] == [
        f"streamed-{n}" for n in range(5)
    ]
    assert answer["status"] == "INTRANS"


def test_rows_copied_by_a_failed_read_are_rolled_back_too(site):
    assert FlaskClient(site, site.response_class).get("/_copied").status_code == 409
    assert roles_written(site) == 0
