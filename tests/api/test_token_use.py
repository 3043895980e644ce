"""Reading through the API writes nothing: a token's use is recorded at most once a
minute, after the request's own transaction, and never makes a request wait."""

from __future__ import annotations

import threading
from datetime import timedelta

import psycopg
import pytest
import time_machine

from grants.extensions import db
from grants.models import ApiToken
from grants.orm import utcnow
from grants.services.accounts import issue_token
from tests.conftest import POSTGRES_ADMIN_URL, TEST_DATABASE
from tests.fixtures.people import make_user


def _last_used(token_id: int):
    db.session.expire_all()
    return db.session.get(ApiToken, token_id).last_used_at


def test_use_is_recorded_at_most_once_a_minute(app, client):
    person = make_user("applicant")
    secret = issue_token(person, person, "phone", 30)
    token_id = db.session.query(ApiToken).filter_by(user_id=person.id).one().id
    headers = {"Authorization": f"Bearer {secret}"}
    start = utcnow()
    with time_machine.travel(start, tick=False):
        assert client.get("/api/v1/calls", headers=headers).status_code == 200
        first = _last_used(token_id)
        assert first is not None
    with time_machine.travel(start + timedelta(seconds=50), tick=False):
        assert client.get("/api/v1/calls", headers=headers).status_code == 200
        assert _last_used(token_id) == first
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert client.get("/api/v1/calls", headers=headers).status_code == 200
        assert _last_used(token_id) > first


def test_a_refused_token_records_nothing(app, client):
    person = make_user("applicant")
    secret = issue_token(person, person, "phone", 30)
    token = db.session.query(ApiToken).filter_by(user_id=person.id).one()
    token.revoked_at = utcnow()
    db.session.flush()
    assert (
        client.get("/api/v1/calls", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )
    assert _last_used(token.id) is None


@pytest.mark.usefixtures("committed")
def test_a_request_never_waits_for_a_token_row_another_holds(app):
    with app.app_context():
        person = make_user("applicant")
        secret = issue_token(person, person, "shared", 30)
        token_id = db.session.query(ApiToken).filter_by(user_id=person.id).one().id
        db.session.commit()
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{TEST_DATABASE}"
    answers: list[int] = []

    def read() -> None:
        with app.app_context():
            headers = {"Authorization": f"Bearer {secret}"}
            answers.append(app.test_client().get("/api/v1/calls", headers=headers).status_code)

    with psycopg.connect(url) as holder:
        holder.execute("SELECT id FROM api_tokens WHERE id = %s FOR UPDATE", (token_id,))
        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=30)
        finished = not reader.is_alive()
        holder.rollback()
    reader.join()
    assert finished and answers == [200]
    with app.app_context():
        assert _last_used(token_id) is None  # skipped while held; the next use records it
