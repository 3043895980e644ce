"""Sign-up over the API: the page's rules (password strength, email checks, the applicant
role, the confirmation email), the emailed token confirming, and no token before it."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from grants.extensions import db
from grants.models.accounts import User
from tests.api.test_api import assert_error
from tests.fixtures.people import PASSWORD, make_user

SIGN_UP = {
    "email": "awa@example.org",
    "password": PASSWORD,
    "full_name": "Awa Ndiaye",
    "locale": "fr",
}


def _people() -> int:
    return db.session.scalar(select(func.count(User.id)))


def _confirmation_token(mailbox, address: str) -> str:
    [message] = mailbox.to(address)
    return re.search(r"/confirm/(\S+)", mailbox.body(message)).group(1)


def test_sign_up_confirm_and_get_a_token(client, mailbox):
    answer = client.post("/api/v1/registrations", json=SIGN_UP)
    assert answer.status_code == 202, answer.get_data(as_text=True)
    assert answer.get_json()["confirmation_required"] is True
    person = db.session.scalar(select(User).where(User.email == "awa@example.org"))
    assert (person.full_name, person.locale, person.role_names) == (
        "Awa Ndiaye",
        "fr",
        {"applicant"},
    )
    assert person.confirmed_at is None
    credentials = {"email": "awa@example.org", "password": PASSWORD}
    unconfirmed = assert_error(client.post("/api/v1/tokens", json=credentials), 403, "forbidden")
    assert "Confirm your email address" in unconfirmed["message"]

    token = _confirmation_token(mailbox, "awa@example.org")
    confirmed = client.post("/api/v1/registrations/confirmation", json={"token": token})
    assert confirmed.status_code == 200 and confirmed.get_json()["email"] == "awa@example.org"
    assert person.confirmed_at is not None
    again = client.post("/api/v1/registrations/confirmation", json={"token": token})
    assert_error(again, 409, "conflict")
    assert client.post("/api/v1/tokens", json=credentials).status_code == 201


def test_a_weak_password_and_a_malformed_email_are_named_and_nobody_is_created(client):
    before = _people()
    body = assert_error(
        client.post(
            "/api/v1/registrations",
            json={**SIGN_UP, "email": "awa-at-example.org", "password": "password1"},
        ),
        422,
        "invalid",
    )
    assert set(body["errors"]) == {"email", "password"}
    assert "10 characters" in " ".join(body["errors"]["password"])
    assert _people() == before


def test_missing_and_unknown_fields_are_refused(client):
    before = _people()
    body = assert_error(
        client.post("/api/v1/registrations", json={"email": "x@example.org", "role": "admin"}),
        422,
        "invalid",
    )
    assert {"password", "full_name", "role"} <= set(body["errors"])
    bad_locale = assert_error(
        client.post("/api/v1/registrations", json={**SIGN_UP, "locale": "xx"}), 422, "invalid"
    )
    assert set(bad_locale["errors"]) == {"locale"}
    assert _people() == before


def test_an_existing_address_gets_the_same_answer_and_its_owner_an_email(client, mailbox):
    """As on the sign-up page, the answer does not say who has an account."""
    existing = make_user(email="taken@example.org", full_name="Owner")
    before = (_people(), existing.password)
    fresh = client.post("/api/v1/registrations", json={**SIGN_UP, "email": "new@example.org"})
    taken = client.post(
        "/api/v1/registrations",
        json={**SIGN_UP, "email": "taken@example.org", "full_name": "Intruder"},
    )
    assert taken.status_code == fresh.status_code == 202
    assert taken.get_json() == fresh.get_json()
    assert (_people() - 1, existing.password) == before
    assert existing.full_name == "Owner"
    [notice] = mailbox.to("taken@example.org")
    assert "already" in mailbox.body(notice).lower()


def test_an_unknown_confirmation_token_is_refused(client):
    body = assert_error(
        client.post("/api/v1/registrations/confirmation", json={"token": "not-a-token"}),
        422,
        "invalid",
    )
    assert body["errors"] == {"token": ["Not a confirmation token."]}


def test_a_lost_confirmation_email_is_sent_again_without_saying_who_waits(client, mailbox):
    client.post("/api/v1/registrations", json=SIGN_UP)
    confirmed = make_user(email="known@example.org")
    answers = [
        client.post("/api/v1/registrations/confirmation-email", json={"email": address})
        for address in ("awa@example.org", "known@example.org", "nobody@example.org")
    ]
    assert {a.status_code for a in answers} == {202}
    assert len({str(a.get_json()) for a in answers}) == 1
    assert len(mailbox.to("awa@example.org")) == 2
    assert mailbox.to("known@example.org") == mailbox.to("nobody@example.org") == []
    assert confirmed.confirmed_at is not None
    token = re.search(r"/confirm/(\S+)", mailbox.body(mailbox.to("awa@example.org")[-1])).group(1)
    assert (
        client.post("/api/v1/registrations/confirmation", json={"token": token}).status_code == 200
    )
    malformed = client.post("/api/v1/registrations/confirmation-email", json={"email": "awa"})
    assert set(assert_error(malformed, 422, "invalid")["errors"]) == {"email"}


def test_sign_up_is_rate_limited_like_the_login(client):
    statuses = [
        client.post("/api/v1/registrations", json={"email": "x"}).status_code for _ in range(11)
    ]
    assert statuses == [422] * 10 + [429]
