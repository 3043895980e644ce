"""Webhooks: a delivery is written with the change (none after a rollback), only for the
active endpoints subscribed to the event, with nothing private in its body; it reaches a
real HTTP server signed with the endpoint's secret and a timestamp, is retried with
backoff after a 500, fails after the last attempt, and can be replayed with the same
body. Time is controlled; nothing waits on the clock."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import WebhookDelivery, WebhookEndpoint
from grants.services import webhooks as service
from grants.services.accounts import issue_token
from grants.services.disbursements import request_bank_change
from grants.services.errors import Conflict, Forbidden, InvalidInput
from grants.services.workflow import fire
from notifications import claims
from notifications.rules import RULES
from notifications.scheduler import JOBS, run_job
from notifications.webhooks import FIRST_RETRY, QUEUE, ROTATION_OVERLAP, dispatch, post
from tests.fixtures.programme import make_application, make_award, make_call
from tests.fixtures.smtp import free_port

T = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _endpoint(world, url: str, *event_types: str, active: bool = True) -> tuple:
    endpoint, secret = service.create_endpoint(world.admin, url, "Programme ERP", event_types)
    if not active:
        service.set_active(world.admin, endpoint, False)
    return endpoint, secret


def _deliveries(**filters) -> list[WebhookDelivery]:
    db.session.expire_all()
    statement = select(WebhookDelivery).order_by(WebhookDelivery.id)
    for name, value in filters.items():
        statement = statement.where(getattr(WebhookDelivery, name) == value)
    return list(db.session.scalars(statement))


def _submitted(world):
    """An application submitted at ``T``: one ``application.submit`` event."""
    application = make_application(world, make_call(world))
    fire(application, "submit", world.applicant, now=T)
    return application


def _expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    """What an integration computes, written out here rather than imported."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + digest.hexdigest()


# --- written with the change -------------------------------------------------------------


def test_the_event_types_are_the_notification_catalogues_events():
    assert set(service.EVENT_TYPES) == {f"{rule.entity}.{rule.event}" for rule in RULES}


def test_a_delivery_is_written_in_the_transaction_of_the_change(world, receiver):
    _endpoint(world, receiver.url, "application.submit")
    application = make_application(world, make_call(world))
    with db.session.begin_nested() as savepoint:
        fire(application, "submit", world.applicant, now=T)
        assert len(_deliveries()) == 1
        savepoint.rollback()
    assert _deliveries() == []
    assert dispatch(now=T) == (0, 0)
    assert receiver.requests == []


def test_only_active_endpoints_subscribed_to_the_event_get_it(world, receiver):
    subscribed, _ = _endpoint(world, receiver.url, "application.submit", "report.accept")
    _endpoint(world, receiver.url, "application.mark_eligible")
    _endpoint(world, receiver.url, "application.submit", active=False)
    application = _submitted(world)
    fire(application, "mark_ineligible", world.officer, comment="Too late.", now=T)
    [delivery] = _deliveries()
    assert (delivery.endpoint_id, delivery.event_type) == (subscribed.id, "application.submit")


def test_the_body_names_the_record_and_nothing_private(world, client):
    _endpoint(world, "https://erp.example.org/hooks", "award.bank_change_requested")
    award = make_award(world, state="active")
    request_bank_change(
        world.applicant,
        award,
        {
            "account_holder": "ASLD Lyon",
            "iban": "BE68539007547034",
            "account_number": "",
            "bank_name": "Belfius",
            "bic": "GKCCBEBB",
        },
        "We moved to Brussels.",
    )
    [delivery] = _deliveries()
    body = json.loads(delivery.payload)
    assert body == {
        "id": delivery.webhook_id,
        "type": "award.bank_change_requested",
        "occurred_at": body["occurred_at"],
        "record": {
            "type": "award",
            "id": award.id,
            "reference": award.application.reference,
            "state": "active",
            "from_state": "active",
            "to_state": "active",
            "url": f"http://grants.test/api/v1/awards/{award.id}",
        },
    }
    for private in ("BE68539007547034", "Belfius", "GKCCBEBB", "Brussels", "ASLD", "FR76"):
        assert private not in delivery.payload
    # The address is the API's, and answers to a token of someone who may read it.
    headers = {"Authorization": f"Bearer {issue_token(world.officer, world.officer, 'erp', 30)}"}
    api = client.get(f"/api/v1/awards/{award.id}", headers=headers)
    assert api.status_code == 200 and api.get_json()["id"] == award.id


def test_an_application_event_links_to_the_application_in_the_api(world):
    _endpoint(world, "https://erp.example.org/hooks", "application.submit")
    application = _submitted(world)
    [delivery] = _deliveries()
    record = json.loads(delivery.payload)["record"]
    assert record == {
        "type": "application",
        "id": application.id,
        "reference": application.reference,
        "state": "submitted",
        "from_state": "draft",
        "to_state": "submitted",
        "url": f"http://grants.test/api/v1/applications/{application.id}",
    }
    assert json.loads(delivery.payload)["occurred_at"] == "2027-03-01T09:00:00Z"


# --- sent, signed ------------------------------------------------------------------------


def test_a_delivery_reaches_the_server_signed_with_the_endpoints_secret(world, receiver):
    endpoint, secret = _endpoint(world, receiver.url, "application.submit")
    _submitted(world)
    with time_machine.travel(T + timedelta(seconds=3), tick=False):
        assert dispatch() == (1, 0)
        assert dispatch() == (0, 0)
    [request] = receiver.requests
    [delivery] = _deliveries()
    assert request.body == delivery.payload.encode()
    assert request.path == "/hooks"
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.headers["Webhook-Id"] == json.loads(request.body)["id"] == delivery.webhook_id
    assert request.headers["Webhook-Event"] == "application.submit"
    timestamp = request.headers["Webhook-Timestamp"]
    assert timestamp == str(int((T + timedelta(seconds=3)).timestamp()))
    signature = request.headers["Webhook-Signature"]
    assert hmac.compare_digest(signature, _expected_signature(secret, timestamp, request.body))
    assert signature != _expected_signature(service.new_secret(), timestamp, request.body)
    assert signature != _expected_signature(secret, str(int(timestamp) + 1), request.body)
    assert (delivery.state, delivery.attempts, delivery.response_status) == ("delivered", 1, 200)
    assert delivery.delivered_at == T + timedelta(seconds=3) and delivery.last_error == ""
    assert endpoint.secret == secret


def test_a_500_is_retried_with_backoff_then_delivered(world, receiver):
    _endpoint(world, receiver.url, "application.submit")
    _submitted(world)
    receiver.answer(500, 503)
    with time_machine.travel(T, tick=False):
        assert dispatch() == (0, 1)
    [delivery] = _deliveries()
    assert (delivery.state, delivery.attempts, delivery.response_status) == ("pending", 1, 500)
    assert delivery.next_attempt_at == T + FIRST_RETRY
    assert "HTTP 500" in delivery.last_error and "Temporarily broken" in delivery.last_error
    with time_machine.travel(T + FIRST_RETRY - timedelta(seconds=1), tick=False):
        assert dispatch() == (0, 0)  # not due yet
    with time_machine.travel(T + FIRST_RETRY, tick=False):
        assert dispatch() == (0, 1)
    [delivery] = _deliveries()
    assert delivery.next_attempt_at == T + FIRST_RETRY + 2 * FIRST_RETRY  # doubled
    assert delivery.response_status == 503
    with time_machine.travel(T + 3 * FIRST_RETRY, tick=False):
        assert dispatch() == (1, 0)
    [delivery] = _deliveries()
    assert (delivery.state, delivery.attempts, delivery.response_status) == ("delivered", 3, 200)
    assert len(receiver.requests) == 3
    assert len({r.body for r in receiver.requests}) == 1
    assert len({r.headers["Webhook-Id"] for r in receiver.requests}) == 1
    assert len({r.headers["Webhook-Timestamp"] for r in receiver.requests}) == 3


def test_after_the_last_attempt_a_delivery_is_failed(world, receiver):
    _endpoint(world, receiver.url, "application.submit")
    _submitted(world)
    receiver.always(500)
    moment = T
    for _ in range(QUEUE.max_attempts):
        with time_machine.travel(moment, tick=False):
            assert dispatch() == (0, 1)
        moment += timedelta(days=1)
    [delivery] = _deliveries()
    assert (delivery.state, delivery.attempts) == ("failed", QUEUE.max_attempts)
    with time_machine.travel(moment, tick=False):
        assert dispatch() == (0, 0)
    assert len(receiver.requests) == QUEUE.max_attempts


def test_a_redirect_is_an_answer_not_a_delivery(world, receiver):
    _endpoint(world, receiver.url, "application.submit")
    _submitted(world)
    receiver.answer(302)
    with time_machine.travel(T, tick=False):
        assert dispatch() == (0, 1)
    [delivery] = _deliveries()
    assert (delivery.state, delivery.response_status) == ("pending", 302)
    assert len(receiver.requests) == 1  # the Location was not followed


def test_an_unreachable_endpoint_costs_one_attempt_per_run(world):
    endpoint, _ = _endpoint(world, f"http://127.0.0.1:{free_port()}/hooks", "application.submit")
    _submitted(world)
    _submitted(world)
    with time_machine.travel(T, tick=False):
        assert dispatch() == (0, 1)
    first, second = _deliveries()
    assert (first.attempts, first.response_status) == (1, None)
    assert first.last_error.startswith("Not reached")
    assert (second.attempts, second.state) == (0, "pending")
    assert second.next_attempt_at == T + FIRST_RETRY and second.claimed_by is None


# --- replay, pause ---------------------------------------------------------------------


def test_a_replay_sends_the_same_body_again(world, receiver):
    endpoint, _ = _endpoint(world, receiver.url, "application.submit")
    _submitted(world)
    with time_machine.travel(T, tick=False):
        dispatch()
    [original] = _deliveries()
    later = T + timedelta(hours=2)
    with time_machine.travel(later, tick=False):
        copy = service.replay(world.admin, endpoint, original.id)
        assert dispatch() == (1, 0)
    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["Webhook-Id"] == second.headers["Webhook-Id"]
    assert first.headers["Webhook-Signature"] != second.headers["Webhook-Signature"]
    db.session.refresh(copy)
    assert (copy.replay_of_id, copy.replayed_by_id) == (original.id, world.admin.id)
    assert (copy.state, copy.attempts, copy.delivered_at) == ("delivered", 1, later)
    assert copy.payload == original.payload and copy.event_key is None


def test_a_delivery_still_being_attempted_is_not_replayed(world, receiver):
    endpoint, _ = _endpoint(world, receiver.url, "application.submit")
    _submitted(world)
    [pending] = _deliveries()
    with pytest.raises(Conflict):
        service.replay(world.admin, endpoint, pending.id)
    other, _ = _endpoint(world, receiver.url, "report.accept")
    with pytest.raises(Exception) as refused:
        service.replay(world.admin, other, pending.id)
    assert refused.value.status == 404
    assert len(_deliveries()) == 1


def test_a_paused_endpoint_gets_nothing_and_its_retries_wait(world, receiver):
    endpoint, _ = _endpoint(world, receiver.url, "application.submit")
    _submitted(world)  # written while active
    service.set_active(world.admin, endpoint, False)
    _submitted(world)  # paused: not even written
    assert len(_deliveries()) == 1
    with time_machine.travel(T, tick=False):
        assert dispatch() == (0, 0)
    assert receiver.requests == []
    service.set_active(world.admin, endpoint, True)
    with time_machine.travel(T, tick=False):
        assert dispatch() == (1, 0)
    assert len(receiver.requests) == 1


def test_rotating_the_secret_signs_with_the_new_one_and_the_old_one_for_a_day(world, receiver):
    endpoint, old = _endpoint(world, receiver.url, "application.submit")
    _submitted(world)
    new = service.rotate_secret(world.admin, endpoint, now=T)
    assert new != old and new.startswith(service.SECRET_PREFIX) and endpoint.secret_rotated_at
    with time_machine.travel(T, tick=False):
        dispatch()
    receiver.answer(200)
    _submitted(world)
    with time_machine.travel(T + ROTATION_OVERLAP + timedelta(seconds=1), tick=False):
        dispatch()
    during, after = receiver.requests
    timestamp = during.headers["Webhook-Timestamp"]
    assert during.headers["Webhook-Signature"] == " ".join(
        (
            _expected_signature(new, timestamp, during.body),
            _expected_signature(old, timestamp, during.body),
        )
    )
    timestamp = after.headers["Webhook-Timestamp"]
    assert after.headers["Webhook-Signature"] == _expected_signature(new, timestamp, after.body)


def test_in_production_a_name_leading_to_a_private_address_is_not_connected_to(
    app, world, receiver
):
    """An endpoint saved as a public name that later leads inside (here: localhost) is
    refused when the connection is made, before anything is sent."""
    inside = receiver.url.replace("127.0.0.1", "localhost")
    answer = post(inside, b"{}", {"Content-Type": "application/json"}, 5, public_only=True)
    assert answer.status is None and "private address" in answer.error, answer
    assert receiver.requests == []
    _endpoint(world, inside, "application.submit")
    _submitted(world)
    app.config["PRODUCTION"] = True
    try:
        with time_machine.travel(T, tick=False):
            assert dispatch() == (0, 1)
    finally:
        app.config["PRODUCTION"] = False
    assert receiver.requests == []
    [delivery] = _deliveries()
    assert delivery.state == "pending" and "private address" in delivery.last_error
    with time_machine.travel(T + FIRST_RETRY, tick=False):
        assert dispatch() == (1, 0)  # outside production, this machine is allowed
    assert len(receiver.requests) == 1


def test_old_delivered_and_failed_deliveries_are_forgotten_and_waiting_ones_kept(world, receiver):
    from notifications.webhooks import DELIVERIES_KEPT, prune

    _endpoint(world, receiver.url, "application.submit")
    for _ in range(3):
        _submitted(world)
    delivered, failed, waiting = _deliveries()
    delivered.state, failed.state = "delivered", "failed"
    for delivery in (delivered, failed, waiting):
        delivery.created_at = T - DELIVERIES_KEPT - timedelta(days=1)
    db.session.flush()
    assert prune(T) == 2
    db.session.expire_all()
    assert [d.id for d in _deliveries()] == [waiting.id]
    assert prune(T) == 0


def test_deleting_an_endpoint_removes_its_deliveries(world, receiver):
    endpoint, _ = _endpoint(world, receiver.url, "application.submit")
    _submitted(world)
    service.delete_endpoint(world.admin, endpoint)
    assert _deliveries() == []
    assert db.session.scalar(select(func.count(WebhookEndpoint.id))) == 0
    assert dispatch(now=T) == (0, 0)


# --- the rules of an endpoint ------------------------------------------------------------


@pytest.mark.parametrize(
    "url, production, refused",
    [
        ("https://erp.example.org/hooks", True, None),
        ("https://erp.example.org:8443/hooks?source=grants", True, None),
        ("https://xn--mxail5aa.example/hooks", True, None),
        ("http://127.0.0.1:8080/hooks", False, None),
        ("http://localhost/hooks", False, None),
        ("http://[::1]:9000/", False, None),
        ("http://127.0.0.1:8080/hooks", True, "private or reserved"),
        ("https://10.0.0.5/hooks", True, "private or reserved"),
        ("https://169.254.169.254/latest/meta-data", True, "private or reserved"),
        ("https://[::1]/hooks", True, "private or reserved"),
        ("https://erp.internal/hooks", True, "private or reserved"),
        ("https://10.0.0.5/hooks", False, None),
        ("https://8.8.8.8/hooks", True, None),
        ("http://erp.example.org/hooks", False, "only for this machine"),
        ("", False, "Give the address"),
        ("erp.example.org/hooks", False, "not a web address"),
        ("ftp://erp.example.org/", False, "not a web address"),
        ("https://", False, "not a web address"),
        ("https://erp.example.org:99999/", False, "not a web address"),
        ("https://bob:secret@erp.example.org/", False, "user name and password"),
        ("https://erp example.org/", False, "spaces"),
        ("https://erp_bad-.example.org/", False, "not valid"),
        ("https://erp.example.org/" + "a" * 2000, False, "at most 2000"),
    ],
)
def test_an_endpoint_address_is_checked(app, url, production, refused):
    with app.test_request_context():
        problem = service.url_problem(url, production)
    if refused is None:
        assert problem is None
    else:
        assert problem and refused in problem, problem


def test_a_bad_endpoint_is_refused_with_every_reason_and_nothing_written(world):
    with pytest.raises(InvalidInput) as refused:
        service.create_endpoint(world.admin, "http://erp.example.org", "x" * 301, [])
    assert set(refused.value.errors) == {"url", "description", "event_types"}
    assert refused.value.errors["event_types"] == ["Choose at least one event."]
    with pytest.raises(InvalidInput) as refused:
        service.create_endpoint(world.admin, "https://erp.example.org", "", ["award.hacked"])
    assert refused.value.errors == {"event_types": ["Unknown event: award.hacked."]}
    assert db.session.scalar(select(func.count(WebhookEndpoint.id))) == 0


def test_only_admins_manage_endpoints(world):
    with pytest.raises(Forbidden):
        service.create_endpoint(world.officer, "https://erp.example.org", "", ["report.accept"])
    endpoint, _ = _endpoint(world, "https://erp.example.org", "report.accept")
    for attempt in (
        lambda: service.rotate_secret(world.officer, endpoint),
        lambda: service.set_active(world.finance, endpoint, False),
        lambda: service.delete_endpoint(world.applicant, endpoint),
    ):
        with pytest.raises(Forbidden):
            attempt()


# --- the scheduler -----------------------------------------------------------------------


def test_the_scheduler_runs_the_webhooks_job(app, world, receiver):
    _endpoint(world, receiver.url, "application.submit")
    _submitted(world)
    db.session.commit()
    [job] = [j for j in JOBS if j.name == "webhooks"]
    with time_machine.travel(T, tick=False):
        outcome = run_job(app, job, host="h:1")
    assert (outcome.items, outcome.error) == (1, "")
    assert len(receiver.requests) == 1


def test_a_new_leader_frees_the_webhooks_a_dead_one_claimed(world, receiver):
    _endpoint(world, receiver.url, "application.submit")
    _submitted(world)
    db.session.commit()
    with time_machine.travel(T, tick=False):
        dead = claims.begin("host-a:1")
        [row_id] = claims.claim(T, 20, dead, QUEUE)
        assert claims.start_attempt(row_id, T, dead, QUEUE)  # then it died
    with time_machine.travel(T + timedelta(seconds=2), tick=False):
        lease = claims.begin("host-b:2")
        [delivery] = _deliveries()
        assert (delivery.claimed_by, delivery.attempts) == (None, 1)
        assert delivery.last_error == QUEUE.interrupted
        assert dispatch(lease=lease) == (1, 0)
    [delivery] = _deliveries()
    assert (delivery.state, delivery.attempts) == ("delivered", 2)


def test_two_dispatchers_never_send_one_delivery_twice(committed, receiver):
    """Two schedulers' dispatchers at once, on PostgreSQL: ``FOR UPDATE SKIP LOCKED``."""
    from tests.fixtures.programme import make_world

    with committed.app_context():
        world = make_world()
        _endpoint(world, receiver.url, "application.submit")
        call = make_call(world)
        for _ in range(30):
            fire(make_application(world, call), "submit", world.applicant, now=T)
        db.session.commit()
    barrier = threading.Barrier(2)
    results: list[tuple[int, int]] = []

    def run(holder: str) -> None:
        with committed.app_context():
            barrier.wait(timeout=10)
            results.append(dispatch(now=T + timedelta(seconds=1)))
            db.session.remove()

    threads = [threading.Thread(target=run, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(delivered for delivered, _ in results) == 30
    sent = Counter(r.headers["Webhook-Id"] for r in receiver.requests)
    assert len(sent) == 30 and max(sent.values()) == 1
    with committed.app_context():
        states = db.session.scalars(select(WebhookDelivery.state)).all()
        assert states == ["delivered"] * 30


def test_the_readmes_verification_accepts_a_real_delivery_and_refuses_others(world, receiver):
    """The example integrations copy from the README, run on what the server received."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("## Webhooks") :]
    example = section[
        section.index("```python\n") + 10 : section.index("```", section.index("```python") + 9)
    ]
    scope: dict = {}
    exec(example, scope)  # the documented code itself
    verify = scope["verify"]
    _, secret = _endpoint(world, receiver.url, "application.submit")
    _submitted(world)
    with time_machine.travel(T, tick=False):
        dispatch()
    [request] = receiver.requests
    with time_machine.travel(T + timedelta(seconds=20), tick=False):
        assert verify(secret, request.headers, request.body)
        assert not verify(service.new_secret(), request.headers, request.body)
        assert not verify(secret, request.headers, request.body.replace(b"submit", b"reject"))
    with time_machine.travel(T + timedelta(minutes=6), tick=False):
        assert not verify(secret, request.headers, request.body)  # too old: a replay
