"""GET /api/v1/search: the staff search's service, filters and visibility through the
API, documented in the OpenAPI document, with bad input answered 422."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from grants.extensions import db
from grants.models.search import SearchEntry
from grants.roles import ADMIN, APPLICANT, EVALUATOR, FINANCE_OFFICER, PROGRAMME_OFFICER
from tests.api.test_api import assert_error, bearer
from tests.fixtures.people import make_association
from tests.fixtures.programme import make_application, make_award, make_call


@pytest.fixture
def programme(world):
    call = make_call(world)
    submitted = make_application(world, call, state="submitted")
    lyon = make_association(world.outsider, name="Association Rabita Lyon", state="verified")
    other = make_application(world, call, state="in_review", association=lyon)
    other.title = "École numérique à Ziguinchor"
    award = make_award(world)
    db.session.flush()
    return call, submitted, other, lyon, award


def _kinds(client, person, query: str) -> set[str]:
    response = client.get(f"/api/v1/search?q={query}", headers=bearer(person))
    assert response.status_code == 200, response.get_data(as_text=True)
    return {item["kind"] for item in response.get_json()["items"]}


@pytest.mark.parametrize(
    ("role", "kinds"),
    [
        (ADMIN, {"application", "association", "award", "person"}),
        (PROGRAMME_OFFICER, {"application", "association", "award"}),
        (FINANCE_OFFICER, {"association", "award"}),
    ],
)
def test_each_role_finds_what_it_may_see(world, programme, client, role, kinds):
    person = world.person(role)
    person.full_name = "Searchable Person"
    db.session.flush()
    found = set()
    for query in ("senegal", "searchable", "association", "thies"):
        found |= _kinds(client, person, query)
    assert found == kinds


@pytest.mark.parametrize("role", [APPLICANT, EVALUATOR])
def test_members_and_evaluators_are_refused(world, programme, client, role):
    body = assert_error(
        client.get("/api/v1/search?q=senegal", headers=bearer(world.person(role))),
        403,
        "forbidden",
    )
    assert "staff" in body["message"]


def test_without_a_token_the_search_is_closed(world, programme, client):
    assert_error(client.get("/api/v1/search?q=senegal"), 401, "unauthenticated")


def test_words_are_found_without_accents_and_marked(world, programme, client):
    call, submitted, other, lyon, award = programme
    response = client.get(
        f"/api/v1/search?q=ECOLE%20numerique&kind=application&call={call.id}",
        headers=bearer(world.officer),
    )
    [item] = response.get_json()["items"]
    assert item["id"] == other.id and item["path"] == f"/api/v1/applications/{other.id}"
    assert "<mark>École</mark> <mark>numérique</mark>" in item["label"]
    assert response.get_json()["words"] == ["ecole", "numerique"]
    filtered = client.get(
        "/api/v1/search?q=thies&state=submitted&country=sn", headers=bearer(world.officer)
    ).get_json()["items"]
    assert {(i["kind"], i["id"]) for i in filtered} == {("application", submitted.id)}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("q=%21%21%21", "q"),
        ("", "q"),
        ("q=senegal&kind=budgets", "kind"),
        ("q=senegal&country=Senegal", "country"),
        ("q=senegal&page=0", "page"),
        ("q=senegal&page=two", "page"),
        ("q=senegal&call=x", "call"),
    ],
)
def test_bad_input_is_answered_422_and_changes_nothing(world, programme, client, query, field):
    entries = db.session.scalar(select(func.count(SearchEntry.id)))
    body = assert_error(
        client.get(f"/api/v1/search?{query}", headers=bearer(world.officer)), 422, "invalid"
    )
    assert field in body["errors"] and body["errors"][field][0]
    assert db.session.scalar(select(func.count(SearchEntry.id))) == entries


def test_the_search_is_in_the_openapi_document(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/search"]["get"]
    assert operation["operationId"] == "search"
    assert {p["name"] for p in operation["parameters"]} >= {"q", "kind", "call", "page"}
    assert {"200", "401", "403", "422"} <= set(operation["responses"])
