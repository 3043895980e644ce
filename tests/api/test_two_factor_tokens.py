"""A second factor set up without the browser: a pending secret, activated by its first
code when a token is asked for; a wrong code activates nothing."""

from __future__ import annotations

from datetime import timedelta

import time_machine

from grants.extensions import db, security
from grants.models import ApiToken
from grants.orm import utcnow
from tests.api.test_api import assert_error
from tests.fixtures.people import PASSWORD, make_user


def _without_second_factor(*roles: str):
    person = make_user(*roles)
    person.tf_primary_method = person.tf_totp_secret = None
    db.session.flush()
    return person


def _tokens(person) -> int:
    return db.session.query(ApiToken).filter_by(user_id=person.id).count()


def test_a_finance_officer_sets_up_an_authenticator_and_gets_a_token(app, client):
    officer = _without_second_factor("finance_officer")
    credentials = {"email": officer.email, "password": PASSWORD}
    with time_machine.travel(utcnow(), tick=False) as clock:
        refused = assert_error(
            client.post("/api/v1/tokens", json=credentials), 401, "unauthenticated"
        )
        assert "/api/v1/tokens/two-factor" in refused["message"]

        started = client.post("/api/v1/tokens/two-factor", json=credentials)
        assert started.status_code == 201, started.get_data(as_text=True)
        setup = started.get_json()
        assert setup["otpauth_uri"].startswith("otpauth://totp/")
        assert f"secret={setup['secret']}" in setup["otpauth_uri"]
        pending = officer.tf_totp_pending_secret
        assert pending and officer.tf_primary_method is None and officer.tf_totp_secret is None

        code = security.totp_factory.generate_totp_password(pending)
        wrong = str((int(code) + 1) % 1_000_000).zfill(6)
        assert_error(
            client.post("/api/v1/tokens", json={**credentials, "code": wrong}),
            401,
            "unauthenticated",
        )
        assert (officer.tf_primary_method, officer.tf_totp_secret, _tokens(officer)) == (
            None,
            None,
            0,
        )
        assert officer.tf_totp_pending_secret == pending

        issued = client.post("/api/v1/tokens", json={**credentials, "code": code})
        assert issued.status_code == 201, issued.get_data(as_text=True)
        assert officer.tf_primary_method == "authenticator"
        assert officer.tf_totp_secret == pending and officer.tf_totp_pending_secret is None
        me = client.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {issued.get_json()['token']}"}
        )
        assert me.get_json()["two_factor"] is True

        # It is their authenticator now: it cannot be replaced without it, and the login
        # page asks for its codes.
        assert_error(client.post("/api/v1/tokens/two-factor", json=credentials), 409, "conflict")
        clock.shift(timedelta(seconds=60))
        page = app.test_client()
        page.post("/login", data={"email": officer.email, "password": PASSWORD})
        later = security.totp_factory.generate_totp_password(officer.tf_totp_secret)
        assert page.post("/tf-validate", data={"code": later}).status_code == 302
        assert page.get("/account/profile").status_code == 200


def test_a_new_setup_replaces_a_pending_one_and_bad_credentials_start_nothing(client):
    officer = _without_second_factor("admin")
    credentials = {"email": officer.email, "password": PASSWORD}
    wrong = client.post("/api/v1/tokens/two-factor", json={**credentials, "password": "nope"})
    assert_error(wrong, 401, "unauthenticated")
    assert officer.tf_totp_pending_secret is None
    extra = client.post("/api/v1/tokens/two-factor", json={**credentials, "code": "123456"})
    assert set(assert_error(extra, 422, "invalid")["errors"]) == {"code"}
    assert officer.tf_totp_pending_secret is None
    first = client.post("/api/v1/tokens/two-factor", json=credentials).get_json()["secret"]
    replaced = officer.tf_totp_pending_secret
    second = client.post("/api/v1/tokens/two-factor", json=credentials).get_json()["secret"]
    assert first != second and officer.tf_totp_pending_secret != replaced
    old_code = security.totp_factory.generate_totp_password(replaced)
    refused = client.post("/api/v1/tokens", json={**credentials, "code": old_code})
    assert_error(refused, 401, "unauthenticated")
    assert officer.tf_primary_method is None and _tokens(officer) == 0


def test_an_unconfirmed_address_sets_up_nothing(client):
    person = _without_second_factor("applicant")
    person.confirmed_at = None
    db.session.flush()
    refused = client.post(
        "/api/v1/tokens/two-factor", json={"email": person.email, "password": PASSWORD}
    )
    assert_error(refused, 403, "forbidden")
    assert person.tf_totp_pending_secret is None


def test_an_applicant_may_add_a_second_factor_and_then_needs_it(client):
    person = _without_second_factor("applicant")
    credentials = {"email": person.email, "password": PASSWORD}
    pending = client.post("/api/v1/tokens/two-factor", json=credentials)
    assert pending.status_code == 201
    # Not active yet: the token is given without a code, and the setup still waits.
    assert client.post("/api/v1/tokens", json=credentials).status_code == 201
    assert person.tf_primary_method is None and person.tf_totp_pending_secret
    code = security.totp_factory.generate_totp_password(person.tf_totp_pending_secret)
    assert client.post("/api/v1/tokens", json={**credentials, "code": code}).status_code == 201
    assert person.tf_primary_method == "authenticator"
    refused = assert_error(client.post("/api/v1/tokens", json=credentials), 401, "unauthenticated")
    assert "two-factor code" in refused["message"]
