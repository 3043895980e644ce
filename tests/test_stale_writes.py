"""Two saves of one draft at the same version: both pass the version check, and the
database keeps only the first. The second used to fail with StaleDataError (500); it
is now told, on the page and through the API, that the record changed (409), and none
of its changes are stored.

The race is reproduced exactly, without threads: just before the second save's UPDATE
reaches the database, the listener below plays the first save's commit (the version
moves on within the same transaction)."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from grants.extensions import db
from grants.models import Application, Call
from tests.api.test_api import assert_error, bearer
from tests.applications.test_applications import FORM
from tests.calls.test_calls import SENEGAL
from tests.fixtures.programme import make_application, make_call


@contextmanager
def another_save_lands_first(table: str, record_id: int):
    """Whenever the session is about to flush ``record_id`` of ``table``, move its
    version on, as a concurrent save that committed first would have."""

    def _before_flush(session, _context, _instances):
        if any(getattr(o, "id", None) == record_id for o in session.dirty):
            session.connection().execute(
                text(f"UPDATE {table} SET version = version + 1 WHERE id = :id"),
                {"id": record_id},
            )

    event.listen(Session, "before_flush", _before_flush)
    try:
        yield
    finally:
        event.remove(Session, "before_flush", _before_flush)


def _stored(model, record_id: int, column: str):
    db.session.expire_all()
    return db.session.execute(
        text(f"SELECT {column} FROM {model.__tablename__} WHERE id = :id"), {"id": record_id}
    ).scalar_one()


def test_the_api_answers_409_and_stores_nothing(world, client):
    application = make_application(world, make_call(world))
    db.session.flush()
    title, version = application.title, application.version
    with another_save_lands_first("applications", application.id):
        response = client.patch(
            f"/api/v1/applications/{application.id}",
            json={"title": "Mine", "amount_requested": "123", "version": version},
            headers=bearer(world.applicant),
        )
    body = assert_error(response, 409, "conflict")
    assert "changed" in body["message"]
    assert _stored(Application, application.id, "title") == title


def test_the_page_answers_409_and_stores_nothing(world, login):
    application = make_application(world, make_call(world))
    db.session.flush()
    title = application.title
    applicant = login(world.applicant)
    with another_save_lands_first("applications", application.id):
        response = applicant.post(
            f"/applications/{application.id}",
            data={**FORM, "title": "Mine", "version": str(application.version)},
        )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone changed this in the meantime" in page
    assert _stored(Application, application.id, "title") == title


def test_a_call_saved_twice_at_once_is_a_409_too(world, login):
    officer = login(world.officer)
    created = officer.post("/office/calls/new", data=SENEGAL)
    assert created.status_code == 303
    call = db.session.scalar(select(Call).where(Call.code == SENEGAL["code"]))
    with another_save_lands_first("calls", call.id):
        response = officer.post(
            f"/office/calls/{call.code}/edit",
            data={**SENEGAL, "version": str(call.version), "envelope": "1000000"},
        )
    assert response.status_code == 409, response.get_data(as_text=True)[:300]
    assert "Someone changed this in the meantime" in response.get_data(as_text=True)
    assert _stored(Call, call.id, "envelope") != 1000000


def test_a_tampered_version_is_a_stale_one_never_a_crash(world, login):
    application = make_application(world, make_call(world))
    db.session.flush()
    title = application.title
    applicant = login(world.applicant)
    for version in ("abc", "-1", "99999999999999999999", "١٢", ""):
        response = applicant.post(
            f"/applications/{application.id}", data={**FORM, "title": "Mine", "version": version}
        )
        assert response.status_code == 409, version
        assert "since you opened it" in response.get_data(as_text=True)
    assert _stored(Application, application.id, "title") == title
