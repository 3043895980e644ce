"""Webhooks through the API, as on the admin pages: registered with the secret shown in
that one answer, read without it, changed, paused and resumed, given a new secret,
deleted; deliveries listed with their status and replayed to a real receiver. Bad input
is named and writes nothing; nobody but admins gets in."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import WebhookDelivery, WebhookEndpoint, WebhookSubscription
from grants.services import webhooks as service
from grants.services.workflow import fire
from notifications.webhooks import dispatch
from tests.api.test_api import assert_error, bearer
from tests.fixtures.programme import make_application, make_call
from tests.test_webhooks import T

B = "/api/v1/webhooks"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _registered(world, url: str = "https://erp.example.org/hooks", *events: str):
    return service.create_endpoint(world.admin, url, "ERP", events or ("application.submit",))


def test_an_admin_registers_an_endpoint_and_reads_its_secret_once(world, client):
    headers = bearer(world.admin)
    created = client.post(
        B,
        json={
            "url": " https://erp.example.org/hooks ",
            "description": "Finance ERP",
            "event_types": ["tranche.pay", "award.accept"],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    assert "no-store" in created.headers["Cache-Control"]
    body = created.get_json()
    [endpoint] = db.session.scalars(select(WebhookEndpoint)).all()
    assert body["secret"] == endpoint.secret and body["secret"].startswith("whsec_")
    assert body["url"] == endpoint.url == "https://erp.example.org/hooks"
    assert body["event_types"] == ["award.accept", "tranche.pay"]
    assert (body["active"], body["created_by_id"], body["failed_deliveries"]) == (
        True,
        world.admin.id,
        0,
    )
    one = client.get(f"{B}/{endpoint.id}", headers=headers)
    assert one.status_code == 200 and "secret" not in one.get_json()
    assert endpoint.secret not in one.get_data(as_text=True)
    listing = client.get(B, headers=headers)
    assert [item["id"] for item in listing.get_json()["items"]] == [endpoint.id]
    assert endpoint.secret not in listing.get_data(as_text=True)


def test_the_event_types_with_their_labels(world, client):
    page = client.get(f"{B}/event-types?per_page=100", headers=bearer(world.admin)).get_json()
    assert [item["name"] for item in page["items"]] == list(service.EVENT_TYPES)
    assert page["items"][0] == {
        "name": "association.verify",
        "record": "association",
        "label": "An association is verified",
    }
    assert page["total"] == len(service.EVENT_TYPES) and page["next"] is None
    french = client.get(
        f"{B}/event-types?per_page=1", headers={**bearer(world.admin), "Accept-Language": "fr"}
    ).get_json()
    assert french["items"][0]["label"] == "Une association est vérifiée"
    assert "page=2" in french["next"]


def test_bad_input_is_named_and_nothing_is_written(world, client):
    headers = bearer(world.admin)
    refused = assert_error(
        client.post(
            B,
            json={"url": "http://erp.example.org/hooks", "event_types": ["award.hacked"]},
            headers=headers,
        ),
        422,
        "invalid",
    )
    assert set(refused["errors"]) == {"url", "event_types"}
    assert "https://" in refused["errors"]["url"][0]
    assert refused["errors"]["event_types"] == ["Unknown event: award.hacked."]
    empty = assert_error(
        client.post(B, json={"url": "https://erp.example.org", "event_types": []}, headers=headers),
        422,
        "invalid",
    )
    assert empty["errors"] == {"event_types": ["Choose at least one event."]}
    missing = assert_error(client.post(B, json={}, headers=headers), 422, "invalid")
    assert set(missing["errors"]) == {"url", "event_types"}
    unknown = assert_error(
        client.post(
            B,
            json={"url": "https://erp.example.org", "event_types": ["tranche.pay"], "secret": "x"},
            headers=headers,
        ),
        422,
        "invalid",
    )
    assert set(unknown["errors"]) == {"secret"}
    typed = assert_error(
        client.post(B, json={"url": 7, "event_types": "tranche.pay"}, headers=headers),
        422,
        "invalid",
    )
    assert set(typed["errors"]) == {"url", "event_types"}
    long = client.post(
        B,
        json={"url": "https://erp.example.org", "description": "x" * 301, "event_types": []},
        headers=headers,
    )
    assert set(assert_error(long, 422, "invalid")["errors"]) == {"description"}
    assert (_count(WebhookEndpoint), _count(WebhookSubscription)) == (0, 0)


def test_a_bad_change_leaves_the_endpoint_as_it_was(world, client):
    endpoint, secret = _registered(world)
    headers = bearer(world.admin)
    refused = assert_error(
        client.patch(
            f"{B}/{endpoint.id}",
            json={"url": "https://bob:pw@erp.example.org/", "description": "changed"},
            headers=headers,
        ),
        422,
        "invalid",
    )
    assert "user name and password" in refused["errors"]["url"][0]
    nested = assert_error(
        client.patch(f"{B}/{endpoint.id}", json={"event_types": [["x"]]}, headers=headers),
        422,
        "invalid",
    )
    assert list(nested["errors"]) == ["event_types.0"]
    db.session.expire_all()
    endpoint = db.session.get(WebhookEndpoint, endpoint.id)
    assert (endpoint.url, endpoint.description, endpoint.event_types, endpoint.secret) == (
        "https://erp.example.org/hooks",
        "ERP",
        ["application.submit"],
        secret,
    )
    assert_error(client.get(f"{B}/999999", headers=headers), 404, "not_found")


def test_an_admin_changes_pauses_resumes_rotates_and_deletes(world, client):
    endpoint, secret = _registered(world)
    headers = bearer(world.admin)
    changed = client.patch(
        f"{B}/{endpoint.id}",
        json={"url": "https://erp.example.org/v2/hooks", "event_types": ["report.submit"]},
        headers=headers,
    )
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["event_types"] == ["report.submit"]
    assert changed.get_json()["description"] == "ERP"  # left out: kept
    assert endpoint.url.endswith("/v2/hooks") and endpoint.secret == secret

    paused = client.post(f"{B}/{endpoint.id}/pause", headers=headers)
    assert paused.status_code == 200 and paused.get_json()["active"] is False
    again = assert_error(client.post(f"{B}/{endpoint.id}/pause", headers=headers), 409, "conflict")
    assert again["message"] == "This webhook is already paused."
    resumed = client.post(f"{B}/{endpoint.id}/resume", headers=headers)
    assert resumed.status_code == 200 and endpoint.active

    rotated = client.post(f"{B}/{endpoint.id}/secret", headers=headers)
    assert rotated.status_code == 200 and "no-store" in rotated.headers["Cache-Control"]
    assert rotated.get_json()["secret"] == endpoint.secret != secret
    assert endpoint.previous_secret == secret and rotated.get_json()["secret_rotated_at"]

    url = f"{B}/{endpoint.id}"
    assert client.delete(url, headers=headers).status_code == 204
    assert (_count(WebhookEndpoint), _count(WebhookSubscription)) == (0, 0)
    assert_error(client.get(url, headers=headers), 404, "not_found")


def test_deliveries_are_listed_and_a_replay_reaches_the_receiver(world, client, receiver):
    endpoint, _ = _registered(world, receiver.url)
    application = make_application(world, make_call(world))
    fire(application, "submit", world.applicant, now=T)
    receiver.answer(500)
    with time_machine.travel(T, tick=False):
        dispatch()
    headers = bearer(world.admin)
    page = client.get(f"{B}/{endpoint.id}/deliveries", headers=headers).get_json()
    [waiting] = page["items"]
    assert (waiting["state"], waiting["attempts"], waiting["response_status"]) == (
        "pending",
        1,
        500,
    )
    assert "HTTP 500" in waiting["last_error"] and waiting["next_attempt_at"]
    assert waiting["event_label"] == "An application is submitted"
    assert waiting["record"]["reference"] == application.reference
    refused = client.post(f"{B}/{endpoint.id}/deliveries/{waiting['id']}/replay", headers=headers)
    assert "still being attempted" in assert_error(refused, 409, "conflict")["message"]
    with time_machine.travel(T + timedelta(minutes=1), tick=False):
        dispatch()
    [delivered] = client.get(f"{B}/{endpoint.id}/deliveries", headers=headers).get_json()["items"]
    assert (delivered["state"], delivered["response_status"], delivered["next_attempt_at"]) == (
        "delivered",
        200,
        None,
    )
    assert len(receiver.requests) == 2

    replayed = client.post(
        f"{B}/{endpoint.id}/deliveries/{delivered['id']}/replay", headers=headers
    )
    assert replayed.status_code == 201, replayed.get_data(as_text=True)
    copy = replayed.get_json()
    assert (copy["replay_of_id"], copy["state"]) == (delivered["id"], "pending")
    assert copy["webhook_id"] == delivered["webhook_id"]
    with time_machine.travel(T + timedelta(hours=1), tick=False):
        assert dispatch() == (1, 0)
    assert len(receiver.requests) == 3
    assert receiver.requests[2].body == receiver.requests[1].body
    assert receiver.requests[2].headers["Webhook-Id"] == delivered["webhook_id"]
    newest, oldest = client.get(f"{B}/{endpoint.id}/deliveries", headers=headers).get_json()[
        "items"
    ]
    assert (newest["id"], newest["state"], oldest["id"]) == (
        copy["id"],
        "delivered",
        delivered["id"],
    )


def test_a_paused_endpoint_or_another_endpoints_delivery_is_not_replayed(world, client):
    endpoint, _ = _registered(world)
    other, _ = _registered(world, "https://crm.example.org/hooks")
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        event_type="application.submit",
        webhook_id="w1",
        payload='{"record": {"id": 1}}',
        state="failed",
        attempts=8,
    )
    db.session.add(delivery)
    db.session.flush()
    headers = bearer(world.admin)
    elsewhere = client.post(f"{B}/{other.id}/deliveries/{delivery.id}/replay", headers=headers)
    assert_error(elsewhere, 404, "not_found")
    service.set_active(world.admin, endpoint, False)
    paused = client.post(f"{B}/{endpoint.id}/deliveries/{delivery.id}/replay", headers=headers)
    assert "paused" in assert_error(paused, 409, "conflict")["message"]
    assert _count(WebhookDelivery) == 1


def test_deliveries_come_a_page_at_a_time(world, client):
    endpoint, _ = _registered(world)
    call = make_call(world)
    for _ in range(3):
        fire(make_application(world, call), "submit", world.applicant, now=T)
    headers = bearer(world.admin)
    first = client.get(f"{B}/{endpoint.id}/deliveries?per_page=2", headers=headers).get_json()
    assert (first["total"], len(first["items"])) == (3, 2)
    rest = client.get(first["next"], headers=headers).get_json()
    assert len(rest["items"]) == 1 and rest["next"] is None
    ids = [item["id"] for item in first["items"] + rest["items"]]
    assert ids == sorted(ids, reverse=True)
    bad = client.get(f"{B}/{endpoint.id}/deliveries?per_page=500", headers=headers)
    assert set(assert_error(bad, 422, "invalid")["errors"]) == {"per_page"}


@pytest.mark.parametrize("role", ["applicant", "evaluator", "officer", "finance"])
def test_nobody_but_admins_manages_webhooks(world, client, role):
    endpoint, secret = _registered(world)
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        event_type="application.submit",
        webhook_id="w1",
        payload="{}",
        state="delivered",
    )
    db.session.add(delivery)
    db.session.flush()
    headers = bearer(getattr(world, role))
    body = {"url": "https://evil.example.org", "event_types": ["tranche.pay"]}
    for method, url, sent in (
        ("GET", f"{B}/event-types", None),
        ("GET", B, None),
        ("POST", B, body),
        ("GET", f"{B}/{endpoint.id}", None),
        ("PATCH", f"{B}/{endpoint.id}", body),
        ("POST", f"{B}/{endpoint.id}/pause", None),
        ("POST", f"{B}/{endpoint.id}/resume", None),
        ("POST", f"{B}/{endpoint.id}/secret", None),
        ("DELETE", f"{B}/{endpoint.id}", None),
        ("GET", f"{B}/{endpoint.id}/deliveries", None),
        ("POST", f"{B}/{endpoint.id}/deliveries/{delivery.id}/replay", None),
    ):
        refused = client.open(url, method=method, json=sent, headers=headers)
        assert assert_error(refused, 403, "forbidden")["message"] == "Only admins manage webhooks."
    db.session.expire_all()
    endpoint = db.session.get(WebhookEndpoint, endpoint.id)
    assert (endpoint.url, endpoint.active, endpoint.secret) == (
        "https://erp.example.org/hooks",
        True,
        secret,
    )
    assert (_count(WebhookEndpoint), _count(WebhookDelivery)) == (1, 1)
