"""Input no field can hold is refused at the door with a clear 4xx naming the field,
and nothing the request would have written is stored: a NUL character or a lone
surrogate anywhere in the query, a form, the JSON body, a file name or the address,
and JSON that is malformed or nested beyond any document the API describes."""

from __future__ import annotations

import io

import pytest

from grants.extensions import db
from grants.models import ApiToken, Application
from grants.request_input import MAX_JSON_DEPTH, json_depth_and_text
from tests.api.test_api import assert_error, bearer
from tests.applications.test_applications import FORM
from tests.clients import text_of
from tests.fixtures.programme import make_application, make_call

UNSTORABLE = "character that cannot be stored"


@pytest.mark.parametrize(
    "path, field",
    [
        ("/office/screening?q=a%00b", "q"),
        ("/office/screening?state=%00", "state"),
        ("/office/screening?page=%00", "page"),
        ("/calls?q=%ED%A0%80%00", "q"),
        ("/calls/SN%00EMP", "code"),
    ],
)
def test_pages_refuse_a_nul_in_the_query_or_the_address(world, login, path, field):
    officer = login(world.officer)
    response = officer.get(path)
    assert response.status_code == 422
    page = text_of(response)
    assert UNSTORABLE in page and f"“{field}”" in page
    assert "Cannot be done" in page  # the site's own error page, with a way back


@pytest.mark.parametrize(
    "path, field",
    [
        ("/api/v1/applications?q=%00", "q"),
        ("/api/v1/applications?state=draft%00", "state"),
        ("/api/v1/applications?call=%00", "call"),
        ("/api/v1/calls?q=x&%00=1", "\\x00"),
    ],
)
def test_the_api_refuses_a_nul_in_the_query_in_its_error_shape(world, client, path, field):
    body = assert_error(client.get(path, headers=bearer(world.officer)), 422, "invalid")
    assert list(body["errors"]) == [field]
    assert UNSTORABLE in body["errors"][field][0]


def test_a_form_with_a_nul_is_refused_and_the_draft_is_unchanged(world, login):
    application = make_application(world, make_call(world))
    db.session.flush()
    title, version = application.title, application.version
    applicant = login(world.applicant)
    response = applicant.post(
        f"/applications/{application.id}",
        data={**FORM, "title": "Sewing\x00workshop", "version": str(version)},
    )
    assert response.status_code == 422
    assert "“title”" in text_of(response)
    db.session.expire_all()
    assert (application.title, application.version) == (title, version)


def test_an_uploaded_file_name_with_a_nul_is_refused(world, login):
    application = make_application(world, make_call(world))
    db.session.flush()
    document_type = application.call.document_types[0]
    before = len(application.documents)
    applicant = login(world.applicant)
    response = applicant.post(
        f"/applications/{application.id}/documents/{document_type.id}",
        data={"file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "budget\x00.exe")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "“file”" in text_of(response)
    db.session.expire_all()
    assert len(application.documents) == before


@pytest.mark.parametrize(
    "body, field",
    [
        ('{"title": "a\\u0000b"}', "title"),
        ('{"title": "\\ud800"}', "title"),
        ('{"budget_lines": [{"description": "\\udfff"}]}', "budget_lines.0.description"),
        ('{"\\u0000": 1}', "\\x00"),
    ],
)
def test_json_strings_that_cannot_be_stored_are_named(world, client, body, field):
    application = make_application(world, make_call(world))
    db.session.flush()
    title = application.title
    response = client.patch(
        f"/api/v1/applications/{application.id}",
        data=body,
        content_type="application/json",
        headers={**bearer(world.applicant), "If-Match": f'"{application.version}"'},
    )
    answer = assert_error(response, 422, "invalid")
    assert list(answer["errors"]) in ([field], ["\x00"])
    db.session.expire_all()
    assert db.session.get(Application, application.id).title == title


@pytest.mark.parametrize(
    "body, message",
    [
        ("[" * 50_000 + "]" * 50_000, "nested too deeply"),
        ('{"a":' * (MAX_JSON_DEPTH + 1) + "1" + "}" * (MAX_JSON_DEPTH + 1), "nested too deeply"),
        ('{"title": "open', "not valid JSON"),
        ('{"title": NaN}', None),
    ],
)
def test_malformed_or_too_deep_json_is_a_400(world, client, body, message):
    application = make_application(world, make_call(world))
    db.session.flush()
    before = (application.title, application.version)
    tokens = db.session.query(ApiToken).count()
    response = client.patch(
        f"/api/v1/applications/{application.id}",
        data=body,
        content_type="application/json",
        headers={**bearer(world.applicant), "If-Match": f'"{application.version}"'},
    )
    if message is None:  # Python's JSON reads NaN; the title field refuses a number
        answer = assert_error(response, 422, "invalid")
        assert list(answer["errors"]) == ["title"]
    else:
        answer = assert_error(response, 400, "bad_request")
        assert message in answer["message"]
        # Unauthenticated, the same door: the token endpoint never parses it either.
        token = client.post(
            "/api/v1/tokens", data=body, content_type="application/json", csrf=False
        )
        assert_error(token, 400, "bad_request")
    db.session.expire_all()
    stored = db.session.get(Application, application.id)
    assert (stored.title, stored.version) == before
    assert db.session.query(ApiToken).count() == tokens + 1  # only bearer()'s own


def test_depth_is_measured_without_recursion():
    document: list = []
    inner = document
    for _ in range(10_000):
        inner.append([])
        inner = inner[0]
    depth, field = json_depth_and_text(document)
    assert depth == MAX_JSON_DEPTH + 1 and field is None
    assert json_depth_and_text({"a": [{"b": "ok"}, {"c": "x\x00"}]}) == (3, "a.1.c")
