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
    return {"Authorization": f"Bearer {issue_token(user, 'test', 30)}"}


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
    [row] = client.get("/api/v1/tokens", headers=headers).get_json()
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
    assert [h["transition"] for h in history] == ["request", "approve"]


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
