"""The REST API: tokens, one error shape, who sees what, transitions with every reason,
versions on updates, bounded paginated lists, and the OpenAPI document."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from grants.extensions import db
from grants.models import ApiToken, Application, Call
from grants.orm import utcnow
from grants.services.accounts import issue_token
from tests.fixtures.people import PASSWORD, make_user
from tests.fixtures.programme import make_application, make_award, make_call, make_review
from tests.queries import cost_of


def bearer(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(user, user, 'test', 30)}"}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"code", "message", "errors"} and body["code"] == code
    assert body["message"]
    return body


# --- tokens -------------------------------------------------------------------------------


def test_a_token_for_email_and_password(world, client):
    assert_error(
        client.post("/api/v1/tokens", json={"email": world.applicant.email, "password": "x"}),
        401,
        "unauthenticated",
    )
    assert db.session.query(ApiToken).filter_by(user_id=world.applicant.id).count() == 0
    created = client.post(
        "/api/v1/tokens", json={"email": world.applicant.email, "password": PASSWORD}
    )
    assert created.status_code == 201
    token = created.get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/calls", headers=headers).status_code == 200
    [row] = client.get("/api/v1/tokens", headers=headers).get_json()["items"]
    assert row["prefix"] == token[:10] and "token" not in row
    assert client.delete(f"/api/v1/tokens/{row['id']}", headers=headers).status_code == 204
    assert_error(client.get("/api/v1/calls", headers=headers), 401, "unauthenticated")


def test_two_factor_people_give_their_code(world, client, app):
    from grants.extensions import security

    body = {"email": world.finance.email, "password": PASSWORD}
    refused = assert_error(client.post("/api/v1/tokens", json=body), 401, "unauthenticated")
    assert "two-factor code" in refused["message"]
    code = security.totp_factory.generate_totp_password(world.finance.tf_totp_secret)
    assert client.post("/api/v1/tokens", json={**body, "code": code}).status_code == 201


def test_bad_input_to_the_token_endpoint_is_named(client):
    body = assert_error(client.post("/api/v1/tokens", json={"email": "nope"}), 422, "invalid")
    assert set(body["errors"]) == {"email", "password"}
    malformed = client.post(
        "/api/v1/tokens", data="{not json", content_type="application/json", csrf=False
    )
    assert_error(malformed, 400, "bad_request")


def test_expired_tokens_and_session_cookies_do_not_open_the_api(world, client, login):
    headers = bearer(world.applicant)
    token = db.session.query(ApiToken).filter_by(user_id=world.applicant.id).one()
    token.expires_at = utcnow() - timedelta(seconds=1)
    assert_error(client.get("/api/v1/calls", headers=headers), 401, "unauthenticated")
    signed_in = login(world.officer)
    assert_error(signed_in.get("/api/v1/applications"), 401, "unauthenticated")
    assert_error(
        signed_in.post("/api/v1/applications/1/transitions", json={}), 401, "unauthenticated"
    )


# --- who sees what --------------------------------------------------------------------------


def test_another_associations_application_is_not_found(world, client):
    application = make_application(world, make_call(world))
    assert_error(
        client.get(f"/api/v1/applications/{application.id}", headers=bearer(world.outsider)),
        404,
        "not_found",
    )
    mine = client.get(f"/api/v1/applications/{application.id}", headers=bearer(world.applicant))
    body = mine.get_json()
    assert mine.headers["ETag"] == f'"{application.version}"'
    assert [line["category"] for line in body["budget_lines"]] == ["equipment", "training"]
    assert body["cofinancing"][0]["amount"] == "7600.00"
    assert {o["name"] for o in body["allowed_transitions"]} >= {"submit", "withdraw"}


def test_a_wrong_role_is_refused_with_the_reason(world, client):
    award = make_award(world, state="active")
    tranche = award.tranches[0]
    body = assert_error(
        client.post(
            f"/api/v1/tranches/{tranche.id}/transitions",
            json={"name": "approve"},
            headers=bearer(world.officer),
        ),
        403,
        "forbidden",
    )
    assert body["message"] == "Only a finance officer can do this."
    assert tranche.state == "planned"


# --- transitions ------------------------------------------------------------------------------


def test_transitions_answer_with_the_new_representation_or_every_reason(world, client):
    award = make_award(world, state="active")
    first, second = award.tranches[0], award.tranches[1]
    officer, finance = bearer(world.officer), bearer(world.finance)
    refused = assert_error(
        client.post(
            f"/api/v1/tranches/{second.id}/transitions", json={"name": "request"}, headers=officer
        ),
        422,
        "invalid",
    )
    assert "This tranche waits for the interim report to be accepted." in refused["message"] or (
        "This tranche waits for the interim report to be accepted." in str(refused["errors"])
    )
    done = client.post(
        f"/api/v1/tranches/{first.id}/transitions", json={"name": "request"}, headers=officer
    )
    assert done.status_code == 200 and done.get_json()["state"] == "requested"
    assert_error(
        client.post(
            f"/api/v1/tranches/{first.id}/transitions", json={"name": "request"}, headers=officer
        ),
        409,
        "conflict",
    )
    approved = client.post(
        f"/api/v1/tranches/{first.id}/transitions", json={"name": "approve"}, headers=finance
    )
    assert approved.get_json()["approver_ids"] == [world.finance.id]
    bad_date = assert_error(
        client.post(
            f"/api/v1/tranches/{first.id}/transitions",
            json={"name": "pay", "payment_date": "yesterday", "bank_reference": "B"},
            headers=bearer(world.finance_b),
        ),
        422,
        "invalid",
    )
    assert bad_date["errors"] == {"payment_date": ["Not a valid payment date."]}
    history = client.get(f"/api/v1/tranches/{first.id}/history", headers=officer).get_json()
    assert [h["transition"] for h in history["items"]] == ["request", "approve"]
    assert (history["total"], history["next"]) == (2, None)
    first_page = f"/api/v1/tranches/{first.id}/history?per_page=1"
    one = client.get(first_page, headers=officer).get_json()
    assert [h["transition"] for h in one["items"]] == ["request"]
    assert one["next"] == f"/api/v1/tranches/{first.id}/history?per_page=1&page=2"


def test_an_unknown_transition_is_named(world, client):
    application = make_application(world, make_call(world))
    body = assert_error(
        client.post(
            f"/api/v1/applications/{application.id}/transitions",
            json={"name": "teleport"},
            headers=bearer(world.applicant),
        ),
        422,
        "invalid",
    )
    assert "teleport" in body["message"]


# --- updates with the version ----------------------------------------------------------------


def test_updates_need_the_current_version(world, client):
    application = make_application(world, make_call(world))
    headers = bearer(world.applicant)
    url = f"/api/v1/applications/{application.id}"
    assert_error(
        client.patch(url, json={"title": "New"}, headers=headers), 428, "precondition_required"
    )
    stale = {
        **headers,
        "If-Match": f'"{application.version - 1 if application.version > 1 else 99}"',
    }
    assert_error(client.patch(url, json={"title": "New"}, headers=stale), 409, "conflict")
    assert application.title != "New"
    fresh = {**headers, "If-Match": f'"{application.version}"'}
    saved = client.patch(url, json={"title": "New", "amount_requested": "31000"}, headers=fresh)
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.get_json()["title"] == "New" and application.amount_requested == Decimal("31000")
    assert saved.headers["ETag"] == f'"{application.version}"'
    too_long = assert_error(
        client.patch(
            url, json={"title": "x" * 301, "version": application.version}, headers=headers
        ),
        422,
        "invalid",
    )
    assert "title" in too_long["errors"]


# --- lists -----------------------------------------------------------------------------------


def test_lists_are_paginated_filtered_and_capped(world, client):
    call = make_call(world)
    for _ in range(7):
        make_application(world, call)
    make_application(world, call, state="submitted")
    headers = bearer(world.officer)
    first = client.get(
        f"/api/v1/applications?call={call.code}&per_page=3", headers=headers
    ).get_json()
    assert first["total"] == 8 and len(first["items"]) == 3 and first["next"]
    assert first["total_estimated"] is False
    ids = [a["id"] for a in first["items"]]
    assert ids == sorted(ids)
    second = client.get(first["next"], headers=headers).get_json()
    assert second["page"] == 2 and second["items"][0]["id"] > ids[-1]
    submitted = client.get(
        f"/api/v1/applications?call={call.code}&state=submitted", headers=headers
    ).get_json()
    assert submitted["total"] == 1
    assert_error(client.get("/api/v1/applications?per_page=101", headers=headers), 422, "invalid")
    assert_error(client.get("/api/v1/tranches?country=SN", headers=headers), 422, "invalid")
    assert_error(
        client.get("/api/v1/calls?updated_since=yesterday", headers=headers), 422, "invalid"
    )


def test_a_large_total_is_kept_for_a_minute_while_next_links_reach_every_row(
    world, client, app, monkeypatch
):
    """Above the exact limit (3 here, 10,000 in production) a list's total is the count
    kept for up to a minute, said to be estimated; walking ``next`` still reaches every
    row, because a next page is found by reading one row more, not from the total."""
    monkeypatch.setitem(app.config, "API_EXACT_TOTAL", 3)
    call = make_call(world)
    for _ in range(5):
        make_application(world, call)
    headers = bearer(world.officer)
    url = f"/api/v1/applications?call={call.code}&per_page=2"
    first = client.get(url, headers=headers).get_json()
    assert (first["total"], first["total_estimated"]) == (5, True)
    make_application(world, call)  # within the minute: the kept total stands
    again = client.get(url, headers=headers).get_json()
    assert (again["total"], again["total_estimated"]) == (5, True)
    seen, page = [], again
    while True:
        seen += [item["id"] for item in page["items"]]
        if not page["next"]:
            break
        page = client.get(page["next"], headers=headers).get_json()
    assert len(seen) == 6 == len(set(seen))
    small = client.get(f"{url}&state=submitted", headers=headers).get_json()
    assert (small["total"], small["total_estimated"], small["next"]) == (0, False, None)


def test_a_lists_query_count_does_not_grow_with_its_page_size(world, client, app):
    for _ in range(12):
        make_award(world, state="active")
    headers = bearer(world.officer)
    client.get("/api/v1/awards?per_page=2", headers=headers)  # warm the caches

    def count(per_page: int) -> int:
        return cost_of(client, f"/api/v1/awards?per_page={per_page}", headers=headers)

    assert count(12) <= count(2) + 2


# --- the document ------------------------------------------------------------------------------


def test_the_openapi_document_describes_every_resource(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for name in (
        "calls",
        "associations",
        "applications",
        "reviews",
        "awards",
        "tranches",
        "reports",
    ):
        assert f"/api/v1/{name}" in paths
        assert f"/api/v1/{name}/{{record_id}}/transitions" in paths
        assert f"/api/v1/{name}/{{record_id}}/history" in paths
    assert paths["/api/v1/tokens"]["post"]["security"] == []
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and b"/api/v1/tranches/{record_id}/transitions" in docs.data
    assert b"cdn" not in docs.data.lower()


def test_a_generated_client_can_trust_the_openapi_document(client):
    """Valid OpenAPI 3: a multipart body for uploads (no OpenAPI 2 ``formData``), every
    property of every schema typed, and the version read required on every change that
    answers 428 without it."""
    spec = client.get("/api/v1/openapi.json").get_json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":  # the path's own (its record id)
                continue
            places = {p["in"] for p in operation.get("parameters", [])}
            assert places <= {"path", "query", "header"}, (method, path, places)
    upload = spec["paths"]["/api/v1/documents"]["post"]["requestBody"]["content"]
    body = spec["components"]["schemas"][
        upload["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
    ]
    assert body["properties"]["file"]["format"] == "binary"
    assert {"file", "owner", "owner_id"} <= set(body["required"])
    untyped = [
        f"{name}.{field}"
        for name, schema in spec["components"]["schemas"].items()
        for field, prop in schema.get("properties", {}).items()
        if not ({"type", "$ref", "allOf", "oneOf", "anyOf"} & set(prop))
    ]
    assert untyped == []
    for path, method in (
        ("/api/v1/applications/{record_id}", "patch"),
        ("/api/v1/reviews/{record_id}/scores", "put"),
        ("/api/v1/reports/{record_id}", "patch"),
        ("/api/v1/associations/{record_id}", "patch"),
    ):
        operation = spec["paths"][path][method]
        reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        schema = spec["components"]["schemas"][reference.rsplit("/", 1)[-1]]
        assert "version" in schema["required"], path
        assert "428" in operation["responses"], path


@pytest.mark.parametrize("path", ["/api/v1/calls/999999", "/api/v1/awards/999999/history"])
def test_missing_records_answer_404_in_the_shape(world, client, path):
    assert_error(client.get(path, headers=bearer(world.officer)), 404, "not_found")


def test_an_evaluator_scores_through_the_api(world, client):
    from grants.services.evaluation import attest_no_conflict
    from tests.fixtures.programme import make_review

    application = make_application(world, make_call(world), state="in_review")
    review = make_review(world, application, scored=False)
    headers = {**bearer(world.evaluator), "If-Match": f'"{review.version}"'}
    criteria = application.call.criteria
    body = {
        "scores": [{"criterion_id": c.id, "score": 4, "comment": "Clear."} for c in criteria],
        "recommendation": "fund",
    }
    url = f"/api/v1/reviews/{review.id}/scores"
    refused = assert_error(client.put(url, json=body, headers=headers), 409, "conflict")
    assert "conflict of interest" in refused["message"]
    attest_no_conflict(world.evaluator, review)
    saved = client.put(url, json=body, headers={**headers, "If-Match": f'"{review.version}"'})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert {s["score"] for s in saved.get_json()["scores"]} == {4}
    outsider = {**bearer(world.outsider), "If-Match": f'"{review.version}"'}
    assert_error(client.put(url, json=body, headers=outsider), 404, "not_found")
    # Without the version read, the body is refused before anything is looked up.
    assert_error(
        client.put(url, json=body, headers=bearer(world.outsider)), 428, "precondition_required"
    )


def test_a_report_is_written_through_the_api(world, client):
    award = make_award(world, state="active")
    report = award.reports[0]
    line = award.application.budget_lines[0]
    headers = {**bearer(world.applicant), "If-Match": f'"{report.version}"'}
    url = f"/api/v1/reports/{report.id}"
    bad = assert_error(
        client.patch(
            url,
            json={"spending": [{"budget_line_id": line.id, "actual": "19 500,50"}]},
            headers=headers,
        ),
        422,
        "invalid",
    )
    # The API reads the machine grammar only, whatever the caller's language.
    assert bad["errors"] == {
        f"actual-{line.id}": [
            "Give the number with digits and a point for decimals, such as 1250.50."
        ]
    }
    assert report.spending == []
    saved = client.patch(
        url,
        json={
            "activities": "Trained 20.",
            "spending": [{"budget_line_id": line.id, "actual": "19500.50", "explanation": ""}],
        },
        headers=headers,
    )
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert report.activities == "Trained 20."
    assert report.spending[0]["actual"] == "19500.50"


def test_a_draft_started_written_and_assigned_through_the_api(world, client):
    call = make_call(world)
    member = bearer(world.applicant)
    started = client.post(
        "/api/v1/applications",
        json={"call_id": call.id, "association_id": world.association.id},
        headers=member,
    )
    assert started.status_code == 201, started.get_data(as_text=True)
    body = started.get_json()
    assert body["reference"].startswith(call.code) and body["state"] == "draft"
    url = f"/api/v1/applications/{body['id']}"
    lines = [
        {"category": "equipment", "description": "Machines", "quantity": "10", "unit_cost": "2000"},
        {"category": "training", "quantity": "12", "unit_cost": "1500"},
    ]
    bad = assert_error(
        client.patch(
            url,
            json={"version": body["version"], "budget_lines": [{**lines[0], "category": "yachts"}]},
            headers=member,
        ),
        422,
        "invalid",
    )
    assert "budget_lines.0.category" in bad["errors"]
    saved = client.patch(
        url,
        json={
            "version": body["version"],
            "budget_lines": lines,
            "cofinancing": [{"source": "association_cash", "amount": "7600"}],
        },
        headers=member,
    ).get_json()
    assert saved["budget_total"] == "38000.00" and len(saved["budget_lines"]) == 2
    outsider = client.post(
        "/api/v1/applications",
        json={"call_id": call.id, "association_id": world.association.id},
        headers=bearer(world.outsider),
    )
    assert_error(outsider, 404, "not_found")
    assert db.session.query(Application).filter_by(call_id=call.id).count() == 1

    eligible = make_application(world, call, state="eligible")
    officer = bearer(world.officer)
    assigned = client.post(
        "/api/v1/reviews",
        json={"application_id": eligible.id, "evaluator_id": world.evaluator.id},
        headers=officer,
    )
    assert assigned.status_code == 201 and assigned.get_json()["state"] == "assigned"
    twice = client.post(
        "/api/v1/reviews",
        json={"application_id": eligible.id, "evaluator_id": world.evaluator.id},
        headers=officer,
    )
    assert_error(twice, 409, "conflict")
    assert_error(
        client.post(
            "/api/v1/reviews",
            json={"application_id": eligible.id, "evaluator_id": world.evaluator.id},
            headers=member,
        ),
        403,
        "forbidden",
    )


def test_a_call_is_checked_like_the_call_form(world, client):
    headers = bearer(world.officer)
    body = {
        "code": "SN-BAD",
        "language": "en",
        "title": {"en": "A call"},
        "sector": "fishing",
        "countries": ["SN"],
        "timezone": "Africa/Dakar",
        "opens_at": "2027-04-01T00:00",
        "closes_at": "2027-03-01T00:00",
        "criteria": [{"name": "Relevance", "weight": "150"}],
    }
    refused = assert_error(client.post("/api/v1/calls", json=body, headers=headers), 422, "invalid")
    assert {"sector", "closes_at", "criteria.0.weight"} <= set(refused["errors"])
    assert db.session.query(Call).filter_by(code="SN-BAD").count() == 0
    assert_error(
        client.post("/api/v1/calls", json=body, headers=bearer(world.applicant)),
        403,
        "forbidden",
    )


# --- people, calls' settings and the budget's currency ------------------------------------


def test_me_says_who_the_token_belongs_to(world, client):
    world.applicant.languages = ["fr", "ar"]
    mine = client.get("/api/v1/me", headers=bearer(world.applicant)).get_json()
    assert mine["id"] == world.applicant.id and mine["email"] == world.applicant.email
    assert mine["roles"] == ["applicant"] and mine["languages"] == ["fr", "ar"]
    assert [m["association_id"] for m in mine["memberships"]] == [world.association.id]
    assert mine["memberships"][0]["name"] == world.association.name
    assert mine["two_factor"] is False
    assert_error(client.get("/api/v1/me"), 401, "unauthenticated")


def test_officers_find_evaluators_with_their_languages_and_load(world, client):
    call = make_call(world)
    world.evaluator.languages = ["fr"]
    second = make_user("evaluator", full_name="Zeynab Diallo", languages=["ar", "en"])
    for state in ("assigned", "assigned", "submitted"):
        make_review(world, make_application(world, call, state="in_review"), state=state)
    page = client.get("/api/v1/evaluators", headers=bearer(world.officer)).get_json()
    found = {item["id"]: item for item in page["items"]}
    assert found[world.evaluator.id]["languages"] == ["fr"]
    assert (found[world.evaluator.id]["waiting"], found[world.evaluator.id]["submitted"]) == (2, 1)
    assert found[second.id]["languages"] == ["ar", "en"] and found[second.id]["waiting"] == 0
    assert page["total"] == len(page["items"]) and page["next"] is None
    small = client.get("/api/v1/evaluators?per_page=1", headers=bearer(world.officer)).get_json()
    assert len(small["items"]) == 1 and small["next"]
    refused = client.get("/api/v1/evaluators", headers=bearer(world.applicant))
    assert_error(refused, 403, "forbidden")


def test_a_call_shows_its_schedules_indicators_and_evaluation_settings(world, client):
    call = make_call(world)
    call.indicators = [{"name": {"en": "Young people trained"}, "unit": "", "by_sex": True}]
    call.tranche_schedule = [
        {"percentage": "40", "after_report": None},
        {"percentage": "60", "after_report": "interim"},
    ]
    call.report_schedule = [{"kind": "interim", "months": 6}, {"kind": "final", "months": 12}]
    shown = client.get(f"/api/v1/calls/{call.id}", headers=bearer(world.officer)).get_json()
    assert shown["indicators"][0]["name"] == {"en": "Young people trained"}
    assert [step["after_report"] for step in shown["tranche_schedule"]] == [None, "interim"]
    assert [step["months"] for step in shown["report_schedule"]] == [6, 12]
    assert shown["evaluators_per_application"] == call.evaluators_per_application
    assert "hide_other_scores" in shown and "review_deadline" in shown


def test_a_budget_in_west_african_francs_is_set_through_the_api(world, client):
    call = make_call(world)
    draft = make_application(world, call)
    headers = bearer(world.applicant)
    url = f"/api/v1/applications/{draft.id}"
    refused = client.patch(
        url, json={"version": draft.version, "budget_currency": "XXX"}, headers=headers
    )
    body = assert_error(refused, 422, "invalid")
    assert "budget_currency" in body["errors"]
    assert client.get(url, headers=headers).get_json()["budget_currency"] == call.currency
    saved = client.patch(
        url, json={"version": draft.version, "budget_currency": "XOF"}, headers=headers
    )
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.get_json()["budget_currency"] == "XOF"


def test_a_transition_declares_what_it_reads_and_refuses_anything_else(world, client):
    """Accepting an award lists the letter, the signatory and the bank details it reads;
    data a transition does not read is refused by name, and nothing changes."""
    award = make_award(world, state="offered")
    headers = bearer(world.applicant)
    url = f"/api/v1/awards/{award.id}"
    options = {
        o["name"]: o for o in client.get(url, headers=headers).get_json()["allowed_transitions"]
    }
    accept = options["accept"]
    assert accept["requires"] == ["letter_read"]
    assert {"signatory_name", "signatory_role", "iban", "bic"} <= set(accept["accepts"])
    refused = client.post(
        f"{url}/transitions",
        json={"name": "accept", "letter_read": True, "discount": "10%"},
        headers=headers,
    )
    body = assert_error(refused, 422, "invalid")
    assert list(body["errors"]) == ["discount"] and "accepts" in body["message"]
    unread = client.post(f"{url}/transitions", json={"name": "accept"}, headers=headers)
    assert (
        "Confirm that you read the award letter." in assert_error(unread, 422, "invalid")["message"]
    )
    assert client.get(url, headers=headers).get_json()["state"] == "offered"


def test_notifications_come_a_page_at_a_time_and_are_marked_read(world, client):
    from grants.models import Notification

    def note(person, number):
        row = Notification(
            dedupe_key=f"test-{person.id}-{number}",
            rule="test",
            category="applications",
            recipient_id=person.id,
            channel="in_app",
            entity_type="application",
            entity_id=number,
            subject=f"Notice {number}",
            body="",
            state="sent",
        )
        db.session.add(row)
        return row

    mine = [note(world.applicant, n) for n in range(3)]
    theirs = note(world.outsider, 9)
    db.session.flush()
    headers = bearer(world.applicant)
    page = client.get("/api/v1/notifications?per_page=2", headers=headers).get_json()
    assert (len(page["items"]), page["total"], page["unread"]) == (2, 3, 3) and page["next"]
    one = client.post(
        "/api/v1/notifications/read", json={"ids": [mine[0].id, theirs.id]}, headers=headers
    ).get_json()
    assert one == {"marked": 1, "unread": 2}  # another person's notice is left alone
    assert client.post("/api/v1/notifications/read", json={}, headers=headers).get_json() == {
        "marked": 2,
        "unread": 0,
    }
    db.session.refresh(theirs)
    assert theirs.read_at is None
    bad = client.post("/api/v1/notifications/read", json={"ids": ["x"]}, headers=headers)
    assert "ids.0" in assert_error(bad, 422, "invalid")["errors"]


def test_the_award_letter_is_read_through_the_api_before_accepting(world, client):
    award = make_award(world, state="offered")
    headers = bearer(world.applicant)
    letter = client.get(f"/api/v1/awards/{award.id}/letter.pdf?lang=fr", headers=headers)
    assert letter.status_code == 200 and letter.mimetype == "application/pdf"
    assert letter.data.startswith(b"%PDF") and "-fr.pdf" in letter.headers["Content-Disposition"]
    outsider = bearer(world.outsider)
    assert client.get(f"/api/v1/awards/{award.id}/letter.pdf", headers=outsider).status_code == 404
    bad = client.get(f"/api/v1/awards/{award.id}/letter.pdf?lang=xx", headers=headers)
    assert "lang" in assert_error(bad, 422, "invalid")["errors"]


def test_errors_of_scores_name_their_place_in_the_body(world, client):
    """Every error key is a dotted path into the request body, as marshmallow's are."""
    from grants.services.evaluation import attest_no_conflict

    application = make_application(world, make_call(world), state="in_review")
    review = make_review(world, application, scored=False)
    attest_no_conflict(world.evaluator, review)
    first, second = application.call.criteria[:2]
    headers = {**bearer(world.evaluator), "If-Match": f'"{review.version}"'}
    url = f"/api/v1/reviews/{review.id}/scores"
    body = {
        "scores": [{"criterion_id": first.id, "score": 4}, {"criterion_id": 999999, "score": 1}]
    }
    refused = assert_error(client.put(url, json=body, headers=headers), 422, "invalid")
    assert list(refused["errors"]) == ["scores.1.criterion_id"]
    body["scores"][1] = {"criterion_id": second.id, "score": 99}
    refused = assert_error(client.put(url, json=body, headers=headers), 422, "invalid")
    assert refused["errors"] == {
        "scores.1.score": [f"Between {second.scale_min} and {second.scale_max}."]
    }
    body["scores"][1] = {"criterion_id": first.id, "score": 2}
    refused = assert_error(client.put(url, json=body, headers=headers), 422, "invalid")
    assert refused["errors"] == {"scores.1.criterion_id": ["Already scored in scores.0."]}
    db.session.expire_all()
    assert review.scores == []


def test_decisions_are_made_one_way_and_their_errors_name_the_outcome(world, client):
    from grants.models import Award, Decision

    call = make_call(world)
    first, second = (make_application(world, call, state="reviewed") for _ in range(2))
    headers = bearer(world.officer)
    # Firing an outcome on the application is refused with where to decide instead.
    direct = client.post(
        f"/api/v1/applications/{first.id}/transitions",
        json={"name": "award", "amount": "1000"},
        headers=headers,
    )
    assert "committee's decisions" in assert_error(direct, 409, "conflict")["message"]
    url = f"/api/v1/calls/{call.id}/decisions"
    outcomes = [
        {"application_id": first.id, "kind": "award"},
        {"application_id": second.id, "kind": "reject"},
    ]
    body = {"meeting_date": "2027-05-20", "outcomes": outcomes}
    refused = assert_error(client.post(url, json=body, headers=headers), 422, "invalid")
    assert set(refused["errors"]) == {"outcomes.0.amount", "outcomes.1.feedback"}
    body["outcomes"] = [outcomes[0] | {"amount": "1000"}, outcomes[0] | {"kind": "reject"}]
    refused = assert_error(client.post(url, json=body, headers=headers), 422, "invalid")
    assert refused["errors"] == {"outcomes.1.application_id": ["Already decided in outcomes.0."]}
    db.session.expire_all()
    assert (first.state, second.state) == ("reviewed", "reviewed")
    assert db.session.query(Award).count() == db.session.query(Decision).count() == 0


def test_every_operation_is_named_and_records_link_to_what_can_be_done_with_them(client):
    """Generated clients name methods by operationId, rely on every property of an answer
    being there (the contract tests hold answers to it), and follow links: a created call to
    its item, history, transitions and ranking; a tranche to its award; a page of
    applications to its first one; every link names an operation that exists."""
    spec = client.get("/api/v1/openapi.json").get_json()
    operations = {
        operation["operationId"]: operation
        for path in spec["paths"].values()
        for method, operation in path.items()
        if method != "parameters"
    }
    assert len(operations) == sum(len(set(p) - {"parameters"}) for p in spec["paths"].values())
    created = spec["paths"]["/api/v1/calls"]["post"]["responses"]["201"]["links"]
    assert {"get_call", "history_call", "transition_call", "get_ranking"} <= set(created)
    assert created["transition_call"]["parameters"] == {"record_id": "$response.body#/id"}
    tranche = spec["paths"]["/api/v1/tranches/{record_id}"]["get"]["responses"]["200"]["links"]
    assert tranche["get_award"]["parameters"] == {"record_id": "$response.body#/award_id"}
    assert tranche["transition_tranche"]["parameters"] == {"record_id": "$request.path.record_id"}
    for answer in ("Award", "Tranche", "Application", "Me", "TrancheSummary", "DocumentPage"):
        schema = spec["components"]["schemas"][answer]
        assert schema["required"] == sorted(schema["properties"]), answer
    page = spec["paths"]["/api/v1/applications"]["get"]["responses"]["200"]["links"]
    assert page["get_application"]["parameters"] == {"record_id": "$response.body#/items/0/id"}
    for path in spec["paths"].values():
        for method, operation in path.items():
            for response in (
                operation.get("responses", {}).values() if method != "parameters" else ()
            ):
                for link in response.get("links", {}).values():
                    assert link["operationId"] in operations


def test_every_part_of_the_application_form_is_written_through_the_api(world, client):
    """Sector, country, beneficiaries by sex, SDG targets, partners and the team, as the
    form has them; a bad value is named by its path and nothing is saved."""
    application = make_application(world, make_call(world))
    headers = bearer(world.applicant)
    url = f"/api/v1/applications/{application.id}"
    version = client.get(url, headers=headers).get_json()["version"]
    body = {
        "version": version,
        "sector": "health",
        "country": "SN",
        "beneficiaries_women": 22,
        "beneficiaries_men": 18,
        "beneficiaries_description": "Young tailors of Thiès.",
        "sdg_targets": ["8.6", "4.4"],
        "partners": [{"name": "Chambre de métiers de Thiès", "country": "SN", "role": "Trains"}],
        "team": [{"name": "Awa Ndiaye", "role": "Coordinator"}],
    }
    bad = {**body, "country": "XX", "sdg_targets": ["99.9"], "team": [{"role": "No name"}]}
    refused = assert_error(client.patch(url, json=bad, headers=headers), 422, "invalid")
    assert set(refused["errors"]) == {"country", "sdg_targets", "team.0.name"}
    db.session.expire_all()
    assert application.partners == [] and application.sdg_targets != ["99.9"]
    saved = client.patch(url, json=body, headers=headers)
    assert saved.status_code == 200, saved.get_data(as_text=True)
    shown = client.get(url, headers=headers).get_json()
    for name, value in body.items():
        if name == "partners":
            assert shown[name] == [value[0]]
        elif name != "version":
            assert shown[name] == value, name


def test_a_draft_call_is_changed_whole_with_its_version_and_an_open_one_is_not(world, client):
    headers = bearer(world.officer)
    body = {
        "code": "SN-EDIT",
        "language": "en",
        "title": {"en": "Youth jobs"},
        "description": {"en": "Jobs for young people."},
        "max_grant": "40000",
        "document_types": [{"name": "Detailed budget", "allowed_kinds": ["pdf"]}],
        "sector": "employment",
        "countries": ["SN"],
        "timezone": "Africa/Dakar",
        "opens_at": "2027-02-01T00:00",
        "closes_at": "2027-03-31T23:59",
        "envelope": "100000",
        "criteria": [{"name": "Relevance", "weight": "100"}],
    }
    created = client.post("/api/v1/calls", json=body, headers=headers).get_json()
    url = f"/api/v1/calls/{created['id']}"
    unknown = client.put(
        url, json={**body, "version": created["version"], "budget": "1"}, headers=headers
    )
    assert list(assert_error(unknown, 422, "invalid")["errors"]) == ["budget"]
    bad = {**body, "version": created["version"], "criteria": [{"name": "R", "weight": "150"}]}
    refused = assert_error(client.put(url, json=bad, headers=headers), 422, "invalid")
    assert "criteria.0.weight" in refused["errors"]
    assert_error(client.put(url, json=body, headers=headers), 428, "precondition_required")
    changed = client.put(
        url, json={**body, "envelope": "150000", "version": created["version"]}, headers=headers
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["envelope"] == "150000.00"
    stale = client.put(url, json={**body, "version": created["version"]}, headers=headers)
    assert_error(stale, 409, "conflict")
    assert_error(
        client.put(url, json={**body, "version": 2}, headers=bearer(world.applicant)),
        403,
        "forbidden",
    )
    db.session.expire_all()
    call = db.session.get(Call, created["id"])
    assert call.envelope == Decimal("150000")
    published = client.post(f"{url}/transitions", json={"name": "publish"}, headers=headers)
    assert published.status_code == 200, published.get_data(as_text=True)
    db.session.expire_all()
    published = client.put(url, json={**body, "version": call.version}, headers=headers)
    assert "Only a draft call can be edited" in assert_error(published, 409, "conflict")["message"]


def test_evaluators_are_proposed_saved_started_and_removed_through_the_api(world, client):
    """The assignment page's work: the automatic proposal, saving it, starting the review
    of what has evaluators, removing an assignment; for programme officers only."""
    from grants.models import Review

    call = make_call(world)
    application = make_application(world, call, state="eligible")
    world.evaluator.languages = [application.language]
    officer = bearer(world.officer)
    url = f"/api/v1/calls/{call.id}"
    assert_error(
        client.get(f"{url}/assignment-proposal", headers=bearer(world.evaluator)),
        403,
        "forbidden",
    )
    proposal = client.get(f"{url}/assignment-proposal", headers=officer).get_json()
    assert {"application_id": application.id, "evaluator_id": world.evaluator.id} in proposal[
        "pairs"
    ]
    assert db.session.query(Review).count() == 0  # proposed, not saved
    unknown = {"pairs": [{"application_id": application.id, "evaluator_id": 999999}]}
    refused = client.post(f"{url}/assignments", json=unknown, headers=officer)
    assert "propose again" in assert_error(refused, 422, "invalid")["message"]
    assert db.session.query(Review).count() == 0
    saved = client.post(f"{url}/assignments", json={"pairs": proposal["pairs"]}, headers=officer)
    assert saved.status_code == 201, saved.get_data(as_text=True)
    [review] = [r for r in saved.get_json()["items"] if r["evaluator_id"] == world.evaluator.id]
    started = client.post(f"{url}/review-start", headers=officer).get_json()
    assert started == {"started": 1}
    db.session.expire_all()
    assert db.session.get(Application, application.id).state == "in_review"
    assert_error(
        client.delete(f"/api/v1/reviews/{review['id']}", headers=bearer(world.evaluator)),
        403,
        "forbidden",
    )
    assert client.delete(f"/api/v1/reviews/{review['id']}", headers=officer).status_code == 204
    db.session.expire_all()
    assert db.session.get(Review, review["id"]) is None


def test_an_evaluator_reads_the_application_and_its_documents_through_the_review(world, client):
    """After attesting no conflict, the evaluator reads the application as the review
    page shows it; in a blind call without the association's name, each document under its
    type's name and sent as a copy without metadata."""
    from grants.models import Document
    from grants.services import evaluation
    from tests.api.test_documents import _upload

    call = make_call(world)
    application = make_application(world, call)
    for stale in db.session.query(Document).filter_by(application_id=application.id):
        db.session.delete(stale)  # the fixture's rows have no file: store a real one
    uploaded = _upload(
        client,
        bearer(world.applicant),
        "application",
        application.id,
        document_type_id=str(call.document_types[0].id),
    )
    assert uploaded.status_code == 201, uploaded.get_data(as_text=True)
    document = db.session.get(Document, uploaded.get_json()["id"])
    application.state = "eligible"
    review = evaluation.assign(world.officer, application, world.evaluator)
    application.state = "in_review"
    headers = bearer(world.evaluator)
    url = f"/api/v1/reviews/{review.id}"
    assert_error(client.get(f"{url}/application", headers=headers), 404, "not_found")
    evaluation.attest_no_conflict(world.evaluator, review)
    read = client.get(f"{url}/application", headers=headers).get_json()
    assert read["association"] == application.association.name
    assert read["summary"] == application.summary and read["others"] == []
    assert [c["id"] for c in read["criteria"]] == [c.id for c in call.criteria]
    [shown] = read["documents"]
    assert shown["id"] == document.id and shown["name"] == document.filename
    linked = client.get(f"{url}/documents/{document.id}/content", headers=headers)
    assert linked.status_code == 302
    call.blind_review = True
    db.session.flush()
    blind = client.get(f"{url}/application", headers=headers).get_json()
    assert blind["association"] is None
    assert application.association.name not in str(blind)
    [neutral] = blind["documents"]
    assert neutral["name"] != document.filename
    copy = client.get(f"{url}/documents/{document.id}/content", headers=headers)
    assert copy.status_code == 200 and copy.headers["Cache-Control"] == "private, no-store"
    assert neutral["filename"] in copy.headers["Content-Disposition"]
    stranger = bearer(make_user("evaluator"))
    assert_error(client.get(f"{url}/application", headers=stranger), 404, "not_found")
    assert_error(
        client.get(f"{url}/documents/{document.id}/content", headers=stranger), 404, "not_found"
    )


def test_a_person_changes_their_profile_and_notification_choices(world, client):
    from notifications import outbox

    headers = bearer(world.evaluator)
    refused = client.patch(
        "/api/v1/me", json={"timezone": "Mars/Olympus", "languages": ["xx"]}, headers=headers
    )
    assert set(assert_error(refused, 422, "invalid")["errors"]) == {"timezone", "languages"}
    db.session.expire_all()
    assert world.evaluator.timezone != "Mars/Olympus"
    changed = client.patch(
        "/api/v1/me", json={"languages": ["fr", "wo"], "timezone": "Africa/Dakar"}, headers=headers
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["languages"] == ["fr", "wo"]
    assert world.evaluator.timezone == "Africa/Dakar" and world.evaluator.full_name
    url = "/api/v1/me/notification-preferences"
    bad = {"preferences": {"money": "digest", "decisions": "weekly", "gossip": "digest"}}
    refused = assert_error(client.put(url, json=bad, headers=headers), 422, "invalid")
    assert set(refused["errors"]) == {
        "preferences.money",
        "preferences.decisions",
        "preferences.gossip",
    }
    assert outbox.user_preferences(world.evaluator.id) == []
    chosen = client.put(url, json={"preferences": {"decisions": "digest"}}, headers=headers)
    items = {p["category"]: p for p in chosen.get_json()["items"]}
    assert items["decisions"]["mode"] == "digest" and items["money"]["mode"] == "immediate"
    assert items["money"]["required"] and not items["decisions"]["required"]
    assert client.get(url, headers=headers).get_json() == chosen.get_json()


def test_a_record_says_what_comes_next_and_how_each_action_is_offered(world, client):
    """As the pages do: the way forward first, what ends the record last and marked
    destructive; what comes next from the state, in the language the client asks for."""
    application = make_application(world, make_call(world))
    shown = client.get(
        f"/api/v1/applications/{application.id}", headers=bearer(world.applicant)
    ).get_json()
    tones = [(o["name"], o["tone"]) for o in shown["allowed_transitions"]]
    assert tones[0] == ("submit", "primary") and tones[-1] == ("withdraw", "destructive")
    submitted = make_application(world, application.call, state="submitted")
    shown = client.get(
        f"/api/v1/applications/{submitted.id}", headers=bearer(world.officer)
    ).get_json()
    assert shown["next_step"] == "The programme office checks its eligibility next."
    french = client.get(
        f"/api/v1/applications/{submitted.id}",
        headers={**bearer(world.applicant), "Accept-Language": "fr"},
    ).get_json()
    assert french["next_step"] != shown["next_step"] and "éligibilité" in french["next_step"]
