"""The admin pages of the webhooks: only admins reach them; an endpoint is registered
with its secret shown once, changed, paused, resumed, given a new secret, deleted; a
delivery is replayed from its row; bad input is refused next to its field with nothing
written, and hostile values never make a server error."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import WebhookDelivery, WebhookEndpoint, WebhookSubscription
from grants.roles import ROLE_NAMES
from grants.services import webhooks as service
from grants.services.workflow import fire
from notifications.webhooks import dispatch
from tests.clients import text_of
from tests.fixtures.people import make_user
from tests.fixtures.programme import make_application, make_call
from tests.test_form_fuzz import _fuzz, post_forms
from tests.test_webhooks import T

NEW = "/admin/webhooks/new"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _registered(world, url: str = "https://erp.example.org/hooks", *events: str):
    endpoint, secret = service.create_endpoint(
        world.admin, url, "ERP", events or ("application.submit",)
    )
    return endpoint, secret


@pytest.mark.parametrize("role", [r for r in ROLE_NAMES if r != "admin"])
def test_only_admins_reach_the_webhook_pages(world, login, client, role):
    endpoint, _ = _registered(world)
    others = login(make_user(role))
    pages = ["/admin/webhooks/", NEW, f"/admin/webhooks/{endpoint.id}"]
    for path in pages:
        assert others.get(path).status_code == 403, path
        assert "/login" in client.get(path).location, path
    posts = [
        NEW,
        f"/admin/webhooks/{endpoint.id}",
        f"/admin/webhooks/{endpoint.id}/active/0",
        f"/admin/webhooks/{endpoint.id}/secret",
        f"/admin/webhooks/{endpoint.id}/delete",
    ]
    secret = endpoint.secret
    for path in posts:
        assert others.post(path, data={"url": "https://evil.example"}).status_code == 403, path
    db.session.refresh(endpoint)
    assert (endpoint.active, endpoint.secret, endpoint.url) == (
        True,
        secret,
        "https://erp.example.org/hooks",
    )
    assert _count(WebhookEndpoint) == 1


def test_an_admin_registers_an_endpoint_and_reads_its_secret_once(world, login):
    admin = login(world.admin)
    assert "Register a webhook" in text_of(admin.get("/admin/webhooks/"))
    response = admin.post(
        NEW,
        data={
            "url": " https://erp.example.org/hooks ",
            "description": "Finance ERP",
            "event_types": ["tranche.pay", "award.accept"],
        },
    )
    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    [endpoint] = db.session.scalars(select(WebhookEndpoint)).all()
    assert endpoint.url == "https://erp.example.org/hooks"
    assert endpoint.event_types == ["award.accept", "tranche.pay"]
    assert endpoint.created_by_id == world.admin.id and endpoint.active
    page = response.get_data(as_text=True)
    assert f'<code class="token" id="secret">{endpoint.secret}</code>' in page
    assert "it will not be shown again" in page
    later = admin.get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    assert endpoint.secret not in later
    listing = admin.get("/admin/webhooks/").get_data(as_text=True)
    assert "https://erp.example.org/hooks" in listing and endpoint.secret not in listing


def test_bad_input_is_refused_next_to_each_field_and_nothing_is_written(world, login):
    admin = login(world.admin)
    response = admin.post(NEW, data={"url": "http://erp.example.org/hooks", "description": "x"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'id="url-error">[^<]*https://', page)
    assert 'id="event_types-error">Choose at least one event.' in page
    assert 'aria-invalid="true"' in page and "Please correct the following" in page
    assert 'value="http://erp.example.org/hooks"' in page  # kept for correcting
    response = admin.post(NEW, data={"url": "erp", "event_types": ["award.hacked"]})
    assert response.status_code == 422
    page = text_of(response)
    assert "This is not a web address" in page and "Unknown event: award.hacked." in page
    assert (_count(WebhookEndpoint), _count(WebhookSubscription)) == (0, 0)


def test_a_bad_change_leaves_the_endpoint_as_it_was(world, login):
    endpoint, secret = _registered(world)
    admin = login(world.admin)
    response = admin.post(
        f"/admin/webhooks/{endpoint.id}",
        data={"url": "https://bob:pw@erp.example.org/", "description": "changed"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="url-error"' in page and "user name and password" in page
    assert 'id="event_types-error"' in page
    db.session.expire_all()
    endpoint = db.session.get(WebhookEndpoint, endpoint.id)
    assert (endpoint.url, endpoint.description, endpoint.event_types, endpoint.secret) == (
        "https://erp.example.org/hooks",
        "ERP",
        ["application.submit"],
        secret,
    )


def test_an_admin_changes_pauses_resumes_rotates_and_deletes(world, login):
    endpoint, secret = _registered(world)
    admin = login(world.admin)
    page = admin.get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    assert re.search(r'<input checked [^>]*value="application.submit"', page)
    response = admin.post(
        f"/admin/webhooks/{endpoint.id}",
        data={
            "url": "https://erp.example.org/v2/hooks",
            "description": "ERP v2",
            "event_types": ["report.accept", "report.submit"],
        },
    )
    assert response.status_code == 303
    db.session.refresh(endpoint)
    assert endpoint.url.endswith("/v2/hooks")
    assert endpoint.event_types == ["report.accept", "report.submit"]

    assert admin.post(f"/admin/webhooks/{endpoint.id}/active/0").status_code == 303
    db.session.refresh(endpoint)
    assert not endpoint.active
    assert "paused" in text_of(admin.get(f"/admin/webhooks/{endpoint.id}"))
    again = admin.post(f"/admin/webhooks/{endpoint.id}/active/0", follow_redirects=True)
    assert "already paused" in text_of(again)
    assert admin.post(f"/admin/webhooks/{endpoint.id}/active/1").status_code == 303
    db.session.refresh(endpoint)
    assert endpoint.active

    response = admin.post(f"/admin/webhooks/{endpoint.id}/secret")
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    db.session.refresh(endpoint)
    assert endpoint.secret != secret and endpoint.secret in response.get_data(as_text=True)

    page = f"/admin/webhooks/{endpoint.id}"
    assert admin.post(f"{page}/delete").status_code == 303
    assert (_count(WebhookEndpoint), _count(WebhookSubscription)) == (0, 0)
    assert admin.get(page).status_code == 404


def test_deliveries_are_listed_with_their_status_and_replayed(world, login, receiver):
    endpoint, _ = _registered(world, receiver.url)
    application = make_application(world, make_call(world))
    fire(application, "submit", world.applicant, now=T)
    receiver.answer(500)
    with time_machine.travel(T, tick=False):
        dispatch()
    admin = login(world.admin)
    page = text_of(admin.get(f"/admin/webhooks/{endpoint.id}"))
    assert "An application is submitted" in page and application.reference in page
    assert "waiting" in page and "500" in page and "HTTP 500" in page
    with time_machine.travel(T + timedelta(minutes=1), tick=False):
        dispatch()
    [delivery] = db.session.scalars(select(WebhookDelivery)).all()
    assert delivery.state == "delivered"
    page = admin.get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    replay = f"/admin/webhooks/{endpoint.id}/deliveries/{delivery.id}/replay"
    assert f'action="{replay}"' in page
    assert admin.post(replay).status_code == 303
    [copy] = db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.id != delivery.id))
    assert (copy.replay_of_id, copy.state) == (delivery.id, "pending")
    assert copy.payload == delivery.payload
    assert "(replay)" in text_of(admin.get(f"/admin/webhooks/{endpoint.id}"))


def test_older_deliveries_are_a_page_away(world, login):
    endpoint, _ = _registered(world)
    call = make_call(world)
    for _ in range(service.DELIVERIES_PER_PAGE + 2):
        fire(make_application(world, call), "submit", world.applicant, now=T)
    admin = login(world.admin)
    first = admin.get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    older = re.search(r'href="([^"]*before=\d+)#deliveries"', first).group(1)
    rest = admin.get(older).get_data(as_text=True)
    row = "application.submit</code></td>"
    assert (first.count(row), rest.count(row)) == (service.DELIVERIES_PER_PAGE, 2)
    assert "Older deliveries" in first and "Older deliveries" not in rest


@pytest.mark.parametrize(
    "locale, words",
    [
        ("fr", "Enregistrer un webhook"),
        ("es", "Registrar un webhook"),
        ("ar", "تسجيل خطاف ويب"),
    ],
)
def test_the_pages_speak_the_admins_language(world, login, locale, words):
    world.admin.locale = locale
    admin = login(world.admin)
    assert words in text_of(admin.get("/admin/webhooks/"))
    page = text_of(admin.post(NEW, data={"url": "", "event_types": []}))
    assert "Choose at least one event." not in page


def test_hostile_values_in_the_webhook_forms_never_answer_a_server_error(world, login):
    endpoint, _ = _registered(world)
    admin = login(world.admin)
    for path in (NEW, f"/admin/webhooks/{endpoint.id}"):
        page = admin.get(path).get_data(as_text=True)
        forms = [
            f
            for f in post_forms(path, page)
            if not f.action.endswith(("/logout", "/language", "/delete", "/secret"))
        ]
        assert forms, path
        for form in forms:
            _fuzz(admin, form)
