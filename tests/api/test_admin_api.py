"""What the admin and officer pages show, through the API: the lifecycles as data (the
names ``POST …/transitions`` takes), the ranking as the page's file, and the scheduler
with the outbox, failed emails sent again. Only those the pages let in; bad input named,
with nothing changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from grants.extensions import db
from grants.models import JobRun, Notification, ScheduledJob, WebhookDelivery
from grants.services import webhooks as service
from notifications.scheduler import JOB_NAMES
from tests.api.test_api import assert_error, bearer
from tests.fixtures.programme import NOW, make_application, make_call, make_review
from tests.queries import cost_of
from tests.spreadsheets import assert_well_made, read_csv, read_workbook
from workflows import MACHINES
from workflows.application import ApplicationLifecycle

# --- lifecycles ----------------------------------------------------------------------------


def test_the_lifecycles_name_their_states_and_transitions(world, client):
    headers = bearer(world.officer)
    page = client.get("/api/v1/lifecycles", headers=headers).get_json()
    assert [item["name"] for item in page["items"]] == list(MACHINES)
    application = client.get("/api/v1/lifecycles/application", headers=headers).get_json()
    assert application["initial"] == "draft"
    states = {state["name"]: state for state in application["states"]}
    assert set(states) == set(ApplicationLifecycle.state_values())
    assert states["draft"]["initial"] and states["draft"]["label"]
    edges = {(t["from"], t["name"], t["to"]) for t in application["transitions"]}
    assert edges == set(ApplicationLifecycle.edges())
    by_name = {t["name"]: t for t in application["transitions"]}
    assert by_name["submit"]["roles"] == ["applicant"]
    assert by_name["reject"]["comment_required"] and by_name["reject"]["comment"] == "feedback"
    assert by_name["award"]["requires"] == ["amount"]
    assert by_name["complete_review"]["system"] is True
    award = client.get("/api/v1/lifecycles/award", headers=headers).get_json()
    accept = next(t for t in award["transitions"] if t["name"] == "accept")
    assert accept["requires"] == ["letter_read"] and "signatory_name" in accept["accepts"]
    missing = client.get("/api/v1/lifecycles/invoice", headers=headers)
    assert assert_error(missing, 404, "not_found")["message"] == "No such lifecycle."
    french = client.get(
        "/api/v1/lifecycles/application", headers={**headers, "Accept-Language": "fr"}
    ).get_json()
    assert {s["name"]: s["label"] for s in french["states"]}["draft"] != states["draft"]["label"]


def test_a_page_of_lifecycles_links_to_each_by_its_name(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    links = paths["/api/v1/lifecycles"]["get"]["responses"]["200"]["links"]
    assert links == {
        "get_lifecycle": {
            "operationId": "get_lifecycle",
            "parameters": {"name": "$response.body#/items/0/name"},
        }
    }


@pytest.mark.parametrize("role", ["applicant", "evaluator", "finance"])
def test_the_lifecycles_are_for_those_who_run_calls(world, client, role):
    headers = bearer(getattr(world, role))
    for url in ("/api/v1/lifecycles", "/api/v1/lifecycles/application"):
        refused = assert_error(client.get(url, headers=headers), 403, "forbidden")
        assert "admin" in refused["message"] and "programme officer" in refused["message"]
    assert client.get("/api/v1/lifecycles", headers=bearer(world.admin)).status_code == 200


# --- the ranking as a file -------------------------------------------------------------------


@pytest.fixture
def ranked(world):
    call = make_call(world)
    for _ in range(3):
        application = make_application(world, call, state="in_review")
        make_review(world, application, state="submitted")
    db.session.flush()
    return call


def test_the_ranking_file_is_the_pages_file(world, ranked, client, login):
    headers = bearer(world.officer)
    url = f"/api/v1/exports/ranking?call={ranked.code}"
    answer = client.get(f"{url}&format=csv", headers=headers)
    assert answer.status_code == 200 and answer.is_streamed, answer.get_data(as_text=True)
    assert answer.mimetype == "text/csv"
    assert f'filename="ranking-{ranked.code}-' in answer.headers["Content-Disposition"]
    rows = read_csv(answer.get_data())
    assert rows[0][:3] == ["Rank", "Reference", "Association"] and len(rows) == 4
    assert {row[2] for row in rows[1:]} == {world.association.name}
    page = login(world.officer).get(f"/office/calls/{ranked.code}/ranking/?format=csv")
    assert read_csv(page.get_data()) == rows
    sheet = read_workbook(
        client.get(f"{url}&format=xlsx&by=raw", headers=bearer(world.admin)).get_data()
    )
    assert_well_made(sheet)
    assert len(sheet.rows) == 4


def test_bad_ranking_file_requests_are_named(world, ranked, client):
    headers = bearer(world.officer)
    bad = client.get(
        f"/api/v1/exports/ranking?call={ranked.code}&by=best&format=pdf", headers=headers
    )
    assert set(assert_error(bad, 422, "invalid")["errors"]) == {"by", "format"}
    missing = assert_error(client.get("/api/v1/exports/ranking", headers=headers), 422, "invalid")
    assert set(missing["errors"]) == {"call"}
    unknown = client.get("/api/v1/exports/ranking?call=NOPE", headers=headers)
    assert_error(unknown, 404, "not_found")
    for role in ("applicant", "evaluator", "finance"):
        refused = client.get(
            f"/api/v1/exports/ranking?call={ranked.code}", headers=bearer(getattr(world, role))
        )
        assert "see the ranking" in assert_error(refused, 403, "forbidden")["message"]


# --- the scheduler and the outbox ------------------------------------------------------------


def _failed_email(world, subject: str = "Your application is eligible") -> Notification:
    row = Notification(
        dedupe_key=f"test:{subject}",
        rule="application_eligible",
        category="applications",
        recipient_id=world.applicant.id,
        channel="email",
        entity_type="application",
        entity_id=1,
        subject=subject,
        body="…",
        state="failed",
        attempts=8,
        last_error="Connection refused",
        created_at=NOW,
        next_attempt_at=NOW,
    )
    db.session.add(row)
    db.session.flush()
    return row


def test_the_scheduler_its_jobs_and_their_last_runs(world, client):
    db.session.add_all(
        [
            JobRun(job="dispatch", host="web-1:42", started_at=NOW, finished_at=NOW, items=3),
            JobRun(
                job="dispatch",
                host="web-1:42",
                started_at=NOW + timedelta(minutes=1),
                finished_at=NOW + timedelta(minutes=1),
                items=5,
            ),
            JobRun(job="sweep", host="web-2:7", started_at=NOW, error="Boom"),
            ScheduledJob(name="sweep", description="Sweep", next_run_at=NOW, leader="h:1"),
        ]
    )
    _failed_email(world)
    db.session.flush()
    headers = bearer(world.admin)
    status = client.get("/api/v1/scheduler", headers=headers).get_json()
    assert status["outbox"]["failed"] == 1
    assert status["health"]["leader"] == "web-1:42"
    jobs = client.get("/api/v1/scheduler/jobs", headers=headers).get_json()
    by_name = {job["name"]: job for job in jobs["items"]}
    assert list(by_name) == list(JOB_NAMES)
    assert by_name["dispatch"]["last_run"]["items"] == 5
    assert by_name["sweep"]["leader"] == "h:1" and by_name["sweep"]["next_run_at"]
    assert by_name["sweep"]["last_run"]["error"] == "Boom"
    assert by_name["sweep"]["last_run"]["finished_at"] is None
    assert by_name["digests"]["last_run"] is None
    runs = client.get("/api/v1/scheduler/runs?job=dispatch&per_page=1", headers=headers)
    first = runs.get_json()
    assert (first["total"], first["items"][0]["items"]) == (2, 5)
    assert client.get(first["next"], headers=headers).get_json()["items"][0]["items"] == 3
    unknown = client.get("/api/v1/scheduler/runs?job=coffee", headers=headers)
    assert set(assert_error(unknown, 422, "invalid")["errors"]) == {"job"}


def test_failed_emails_are_listed_and_sent_again(world, client):
    first, second = _failed_email(world, "One"), _failed_email(world, "Two")
    headers = bearer(world.admin)
    page = client.get("/api/v1/outbox/failed", headers=headers).get_json()
    assert [row["id"] for row in page["items"]] == [second.id, first.id]
    assert page["items"][0]["recipient_email"] == world.applicant.email
    assert page["items"][0]["last_error"] == "Connection refused"
    retried = client.post(f"/api/v1/outbox/{first.id}/retry", headers=headers)
    assert retried.status_code == 200, retried.get_data(as_text=True)
    assert (retried.get_json()["state"], first.state, first.attempts) == ("pending", "pending", 0)
    again = client.post(f"/api/v1/outbox/{first.id}/retry", headers=headers)
    assert assert_error(again, 409, "conflict")["message"] == (
        "Only a failed notification can be retried."
    )
    assert_error(client.post("/api/v1/outbox/999999/retry", headers=headers), 404, "not_found")
    every = client.post("/api/v1/outbox/retry-failed", headers=headers)
    assert every.get_json() == {"retried": 1} and second.state == "pending"
    assert client.get("/api/v1/outbox/failed", headers=headers).get_json()["items"] == []


@pytest.mark.parametrize("role", ["applicant", "evaluator", "officer", "finance"])
def test_nobody_but_admins_watches_the_scheduler(world, client, role):
    row = _failed_email(world)
    headers = bearer(getattr(world, role))
    for method, url in (
        ("GET", "/api/v1/scheduler"),
        ("GET", "/api/v1/scheduler/jobs"),
        ("GET", "/api/v1/scheduler/runs"),
        ("GET", "/api/v1/outbox/failed"),
        ("POST", f"/api/v1/outbox/{row.id}/retry"),
        ("POST", "/api/v1/outbox/retry-failed"),
    ):
        refused = client.open(url, method=method, headers=headers)
        assert assert_error(refused, 403, "forbidden")["message"] == "Only an admin can do this."
    db.session.expire_all()
    assert db.session.scalar(select(Notification.state).where(Notification.id == row.id)) == (
        "failed"
    )


# --- cost --------------------------------------------------------------------------------------


def test_the_admin_lists_cost_the_same_for_two_or_twelve_rows(world, client):
    headers = bearer(world.admin)
    urls = ("/api/v1/webhooks", "/api/v1/outbox/failed", "/api/v1/scheduler/jobs")

    def add(count: int) -> None:
        for index in range(count):
            endpoint, _ = service.create_endpoint(
                world.admin, f"https://erp{index}.example.org/hooks", "", ["tranche.pay"]
            )
            db.session.add(
                WebhookDelivery(
                    endpoint_id=endpoint.id,
                    event_type="tranche.pay",
                    webhook_id=f"w{endpoint.id}",
                    payload="{}",
                    state="failed",
                )
            )
            _failed_email(world, f"Subject {endpoint.id}")
            db.session.add(JobRun(job="sweep", host="h", started_at=NOW, finished_at=NOW))
        db.session.flush()

    add(2)
    client.get(urls[0], headers=headers)  # the token's first use is recorded once
    few = [cost_of(client, url, headers=headers) for url in urls]
    add(10)
    assert [cost_of(client, url, headers=headers) for url in urls] == few
