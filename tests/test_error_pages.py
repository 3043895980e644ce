"""Error pages survive a broken database session: a styled page, never a bare 500.

These tests need routes that fail on purpose, so they run on an application of their own
(routes cannot be added to one that has served requests), on a SQLite file with real
commits, with error pages on as in production.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask, abort, render_template
from flask_security import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from grants.extensions import db
from grants.models.accounts import User
from tests.clients import AppClient, text_of
from tests.conftest import sqlite_file_app
from tests.fixtures.people import PASSWORD, make_user

EMAIL = "fragile@example.org"


def _duplicate_of(person: User) -> User:
    """A second person with the same email: the database refuses it when it is flushed."""
    return User(
        email=person.email,
        password="x",
        fs_uniquifier=f"{person.fs_uniquifier}-copy",
        full_name="Copy",
        active=True,
    )


@pytest.fixture(scope="module")
def fragile(tmp_path_factory) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp("instance-errors")
    app = sqlite_file_app(instance, TESTING=False, PROPAGATE_EXCEPTIONS=False)

    @app.get("/fail/at-commit")
    def fail_at_commit():
        """The view ends well; the request's commit is refused (as "database is locked"
        was), which leaves the session needing a rollback."""
        db.session.add(_duplicate_of(current_user))
        return "saved"

    @app.get("/fail/after-flush")
    def fail_after_flush():
        """A failed flush swallowed, then the page reads again: PendingRollbackError."""
        db.session.add(_duplicate_of(current_user))
        try:
            db.session.flush()
        except IntegrityError:
            pass
        return render_template("home.html", calls=db.session.scalars(select(User)).all())

    @app.get("/fail/teapot")
    def fail_teapot():
        abort(418)

    @app.get("/api/v1/fail/at-commit")
    def api_fail_at_commit():
        db.session.add(_duplicate_of(current_user))
        return {"saved": True}

    with app.app_context():
        make_user(email=EMAIL)
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def signed_in(fragile: Flask) -> AppClient:
    fragile.test_client_class = AppClient
    client = fragile.test_client()
    with fragile.app_context():
        assert client.login(EMAIL, PASSWORD).status_code == 302
    return client


def _styled(page: str) -> bool:
    return 'rel="stylesheet"' in page and "/static/app.css" in page and "site-header" in page


def test_a_refused_commit_gets_a_styled_500_page(fragile, signed_in):
    with fragile.app_context():
        response = signed_in.get("/fail/at-commit")
        assert response.status_code == 500
        page = response.get_data(as_text=True)
        assert _styled(page)
        assert "Something went wrong" in text_of(response)
        # The session was rolled back: the next page works, and nothing was written.
        assert signed_in.get("/").status_code == 200
        assert len(db.session.scalars(select(User).where(User.email == EMAIL)).all()) == 1


def test_a_page_read_on_a_failed_session_gets_a_styled_500_page(fragile, signed_in):
    with fragile.app_context():
        response = signed_in.get("/fail/after-flush", headers={"Accept-Language": "fr"})
        assert response.status_code == 500
        assert _styled(response.get_data(as_text=True))
        # In the reader's language, although the database could not tell it.
        assert 'lang="fr"' in response.get_data(as_text=True)
        assert "Something went wrong" not in text_of(response)


def test_an_api_request_on_a_failed_session_gets_the_api_error_shape(fragile, signed_in):
    with fragile.app_context():
        response = signed_in.get("/api/v1/fail/at-commit")
        assert response.status_code == 500
        assert response.get_json()["code"] == "server_error"


def test_a_404_after_a_failure_is_still_the_full_page(fragile, signed_in):
    with fragile.app_context():
        signed_in.get("/fail/at-commit")
        response = signed_in.get("/no/such/page")
        assert response.status_code == 404
        assert _styled(response.get_data(as_text=True))
        assert "Log out" in text_of(response)  # the layout, with the signed-in person


def test_a_rarer_error_also_gets_a_styled_page(fragile, signed_in):
    with fragile.app_context():
        response = signed_in.get("/fail/teapot")
    assert response.status_code == 418
    assert _styled(response.get_data(as_text=True))
    assert "not a coffee machine" in text_of(response)  # the server's description


def test_when_even_the_standalone_page_fails_a_fixed_page_is_served(fragile, signed_in):
    loader = fragile.jinja_env.loader
    fragile.jinja_env.loader = None  # no template can be found any more
    fragile.jinja_env.cache.clear()
    try:
        with fragile.app_context():
            response = signed_in.get("/fail/at-commit")
    finally:
        fragile.jinja_env.loader = loader
        fragile.jinja_env.cache.clear()
    assert response.status_code == 500
    assert _styled(response.get_data(as_text=True))
    assert "Something went wrong" in text_of(response)
