"""A call needs a title in its main language: the page says so next to that title's
field, the API in its field errors, and nothing is saved."""

from __future__ import annotations

import re

import pytest

from grants.extensions import db
from grants.models import Call
from tests.api.test_api import assert_error, bearer
from tests.calls.test_call_amounts import API_CALL
from tests.calls.test_calls import SENEGAL
from tests.clients import text_of

NO_TITLE = {f"title_{locale}": "" for locale in ("en", "fr", "es", "ar")}


def _calls() -> int:
    return db.session.query(Call).count()


@pytest.fixture
def french_officer(world, login):
    world.officer.locale = "fr"
    db.session.flush()
    return login(world.officer)


def test_a_call_without_any_title_is_refused_next_to_the_main_languages_title(french_officer):
    before = _calls()
    response = french_officer.post(
        "/office/calls/new", data={**SENEGAL, **NO_TITLE, "language": "fr"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(r'<p class="error" id="title_fr-error">([^<]*)</p>', html)
    assert error, text_of(response)[:2000]
    assert error.group(1) == ("Donnez à l’appel un titre dans sa langue principale, français.")
    assert 'href="#title_fr"' in html
    assert _calls() == before


def test_a_title_in_another_language_only_is_not_enough(french_officer):
    before = _calls()
    response = french_officer.post(
        "/office/calls/new",
        data={**SENEGAL, **NO_TITLE, "language": "es", "title_en": "Only in English"},
    )
    assert response.status_code == 422
    assert 'id="title_es-error"' in response.get_data(as_text=True)
    assert "langue principale, espagnol" in text_of(response)
    assert _calls() == before


def test_the_title_is_checked_with_every_other_problem_at_once(french_officer):
    response = french_officer.post(
        "/office/calls/new",
        data={**SENEGAL, **NO_TITLE, "language": "en", "code": "not a code"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="title_en-error"' in html and 'id="code-error"' in html


def test_the_api_refuses_a_call_without_a_title_in_its_language(world, client):
    body = {**API_CALL, "language": "fr", "title": {"en": "Only in English"}}
    refused = assert_error(
        client.post(
            "/api/v1/calls", json=body, headers={**bearer(world.officer), "Accept-Language": "es"}
        ),
        422,
        "invalid",
    )
    assert refused["errors"]["title_fr"] == [
        "Dé a la convocatoria un título en su idioma principal, francés."
    ]
    assert db.session.query(Call).filter_by(code=API_CALL["code"]).count() == 0


def test_a_call_with_its_title_in_its_language_is_saved(world, client):
    body = {**API_CALL, "language": "fr", "title": {"fr": "Un appel", "en": "A call"}}
    created = client.post("/api/v1/calls", json=body, headers=bearer(world.officer))
    assert created.status_code == 201, created.get_data(as_text=True)


def test_the_api_refuses_a_description_beyond_its_limit_in_the_callers_language(world, client):
    body = {**API_CALL, "language": "fr", "title": {"fr": "Un appel"}}
    body["description"] = {"fr": "d" * 10_001}
    refused = assert_error(
        client.post(
            "/api/v1/calls", json=body, headers={**bearer(world.officer), "Accept-Language": "ar"}
        ),
        422,
        "invalid",
    )
    assert refused["errors"]["description_fr"] == [
        "لا يمكن أن يتجاوز الوصف 10,000 حرفًا؛ وفي هذا النص 10,001 حرفًا."
    ]
    assert db.session.query(Call).filter_by(code=API_CALL["code"]).count() == 0
