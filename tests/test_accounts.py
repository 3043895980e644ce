"""Sign-up, login, password reset, two-factor, rate limits and the security envelope."""

from __future__ import annotations

import logging
import re

from sqlalchemy import func, select

from grants.extensions import db
from grants.models.accounts import User
from tests.clients import text_of
from tests.fixtures.people import PASSWORD, make_user


def _user_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


def _signup(client, **overrides):
    data = {
        "full_name": "Awa Ndiaye",
        "email": "awa@example.org",
        "password": PASSWORD,
        "password_confirm": PASSWORD,
        "locale": "fr",
    }
    data.update(overrides)
    return client.post("/register", data=data)


def test_sign_up_sends_a_confirmation_and_makes_an_applicant(client, mailbox):
    response = _signup(client)
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "awa@example.org"))
    assert user.full_name == "Awa Ndiaye" and user.locale == "fr"
    assert user.role_names == {"applicant"}
    assert user.confirmed_at is None
    [message] = mailbox.to("awa@example.org")
    link = re.search(r"https?://\S+/confirm/\S+", mailbox.body(message)).group(0)
    # Not confirmed yet: the login is refused with a reason.
    refused = client.post("/login", data={"email": "awa@example.org", "password": PASSWORD})
    assert "confirm" in text_of(refused).lower()
    client.get(link.replace("http://grants.test", ""))
    assert user.confirmed_at is not None
    assert client.login("awa@example.org", PASSWORD).status_code == 302


def _printed_emails(caplog, address: str) -> list[str]:
    """The emails printed to the log for ``address`` (no MAIL_SERVER: development)."""
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "notifications.mail" and f"Email to {address}:" in record.getMessage()
    ]


def test_in_development_the_confirmation_email_is_printed_and_its_link_works(app, client, caplog):
    assert not app.config["MAIL_SERVER"]
    caplog.set_level(logging.INFO, logger="notifications.mail")
    assert _signup(client, email="dev@example.org").status_code == 302
    [printed] = _printed_emails(caplog, "dev@example.org")
    assert "confirm your email" in printed
    link = re.search(r"https?://\S+/confirm/\S+", printed).group(0)
    confirmed = client.get(link.replace("http://grants.test", ""))
    assert confirmed.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "dev@example.org"))
    assert user.confirmed_at is not None


def test_in_development_the_password_reset_email_is_printed(client, caplog):
    make_user(email="forgetful@example.org")
    caplog.set_level(logging.INFO, logger="notifications.mail")
    client.post("/reset", data={"email": "forgetful@example.org"})
    [printed] = _printed_emails(caplog, "forgetful@example.org")
    assert re.search(r"https?://\S+/reset/\S+", printed)


def test_an_unconfirmed_person_is_told_so_and_can_have_the_email_sent_again(client, caplog):
    caplog.set_level(logging.INFO, logger="notifications.mail")
    _signup(client, email="waiting@example.org")
    refused = client.post("/login", data={"email": "waiting@example.org", "password": PASSWORD})
    page = text_of(refused)
    assert "not confirmed yet" in page
    assert "identity or password" not in page  # not the generic refusal
    form = re.search(
        r'<form action="([^"]+)" method="post"[^>]*>.*?name="email" value="([^"]+)"',
        refused.get_data(as_text=True),
        re.S,
    )
    assert form.group(2) == "waiting@example.org"
    again = client.post(form.group(1), data={"email": form.group(2)})
    assert again.status_code == 200
    assert "waiting@example.org" in text_of(again)
    assert len(_printed_emails(caplog, "waiting@example.org")) == 2
    # The newest link confirms, and the person logs in.
    link = re.search(
        r"https?://\S+/confirm/\S+", _printed_emails(caplog, "waiting@example.org")[-1]
    ).group(0)
    client.get(link.replace("http://grants.test", ""))
    assert client.login("waiting@example.org", PASSWORD).status_code == 302


def test_not_confirmed_is_said_only_to_whoever_gives_the_password(client):
    """A wrong password for an unconfirmed account gets the same generic answer as an
    unknown address: the state of an account is not disclosed."""
    _signup(client, email="private@example.org")
    wrong = client.post("/login", data={"email": "private@example.org", "password": "nope-nope-1"})
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": "nope-nope-1"})
    for response in (wrong, unknown):
        assert "not confirmed" not in text_of(response)
        assert "identity or password" in text_of(response)
    assert 'id="unconfirmed"' not in wrong.get_data(as_text=True)


def test_sign_up_with_an_existing_email_changes_nothing(client, mailbox):
    existing = make_user(email="taken@example.org")
    before = (_user_count(), existing.password)
    response = _signup(client, email="taken@example.org", full_name="Intruder")
    # The page gives nothing away; the owner of the address is told by email.
    assert response.status_code in (200, 302)
    assert (_user_count(), existing.password) == before
    assert existing.full_name != "Intruder"
    [notice] = mailbox.to("taken@example.org")
    assert "already" in mailbox.body(notice).lower() or "register" in str(notice["Subject"]).lower()


def test_sign_up_with_a_weak_password_is_refused_next_to_the_field(client):
    before = _user_count()
    response = _signup(client, password="password1", password_confirm="password1")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="password-error"' in page and 'aria-invalid="true"' in page
    assert _user_count() == before


def test_sign_up_with_a_malformed_email_is_refused(client):
    before = _user_count()
    response = _signup(client, email="awa-at-example.org")
    assert response.status_code == 200
    assert 'id="email-error"' in response.get_data(as_text=True)
    assert _user_count() == before


def test_wrong_password_gets_a_generic_message(client):
    make_user(email="known@example.org")
    wrong = client.post("/login", data={"email": "known@example.org", "password": "nope-nope-1"})
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": "nope-nope-1"})
    assert wrong.status_code == unknown.status_code == 200

    # Same words whether or not the account exists: nothing to enumerate.
    def message(r):
        return re.search(r'class="error[^"]*"[^>]*>(.*?)</', r.get_data(as_text=True), re.S)

    assert message(wrong) and message(unknown)
    assert message(wrong).group(1).strip() == message(unknown).group(1).strip()


def test_a_form_without_its_csrf_token_is_refused_and_nothing_changes(client):
    before = _user_count()
    response = client.post(
        "/register",
        data={
            "full_name": "X",
            "email": "csrf@example.org",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            "locale": "en",
        },
        csrf=False,
    )
    assert response.status_code in (200, 400)
    assert "expired" in text_of(response).lower() or "csrf" in text_of(response).lower()
    assert _user_count() == before


def test_an_oversized_request_gets_a_readable_413(app, client):
    before = _user_count()
    payload = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/register", data={"full_name": payload.decode()})
    assert response.status_code == 413
    assert "MB" in text_of(response)
    assert _user_count() == before


def test_password_reset_email_arrives_and_works(client, mailbox):
    user = make_user(email="reset@example.org", locale="fr")
    response = client.post("/reset", data={"email": "reset@example.org"})
    assert response.status_code in (200, 302)
    [message] = mailbox.to("reset@example.org")
    link = re.search(r"https?://\S+/reset/\S+", mailbox.body(message)).group(0)
    path = link.replace("http://grants.test", "")
    new_password = "another-long-passphrase-77"
    done = client.post(path, data={"password": new_password, "password_confirm": new_password})
    assert done.status_code == 302
    fresh = client.application.test_client()
    assert fresh.login(user.email, new_password).status_code == 302


def test_a_burst_of_wrong_passwords_gets_429(client):
    make_user(email="target@example.org")
    statuses = [
        client.post(
            "/login", data={"email": "target@example.org", "password": "wrong-wrong"}
        ).status_code
        for _ in range(12)
    ]
    assert statuses[0] == 200
    assert statuses[-1] == 429
    last = client.post("/login", data={"email": "target@example.org", "password": PASSWORD})
    assert last.status_code == 429
    assert "wait" in text_of(last).lower()


def test_finance_officers_must_use_two_factor(client):
    officer = make_user("finance_officer", email="cash@example.org")
    officer.tf_primary_method = None
    officer.tf_totp_secret = None
    response = client.post("/login", data={"email": "cash@example.org", "password": PASSWORD})
    assert response.status_code == 302 and "/tf-setup" in response.location
    # Not logged in until two-factor is set up.
    assert client.get("/account/profile").status_code == 302


def test_applicants_log_in_without_two_factor(client):
    make_user(email="member@example.org")
    response = client.login("member@example.org", PASSWORD)
    assert response.status_code == 302 and response.location.endswith("/")
    assert client.get("/account/profile").status_code == 200


def test_two_factor_login_with_a_code(login):
    officer = make_user("finance_officer")
    client = login(officer)
    assert client.get("/account/profile").status_code == 200


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_session_cookie_is_httponly_and_lax(client):
    make_user(email="cookie@example.org")
    response = client.post("/login", data={"email": "cookie@example.org", "password": PASSWORD})
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pages_have_no_inline_script(client):
    for path in ("/", "/calls", "/login", "/register", "/reset"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and "onclick=" not in html, path


def test_a_recovery_code_replaces_a_lost_authenticator(app, client):
    from grants.extensions import security

    officer = make_user("finance_officer", email="lost@example.org")
    codes = security.totp_factory.generate_recovery_codes(5)
    security.datastore.mf_set_recovery_codes(officer, codes)
    response = client.post("/login", data={"email": "lost@example.org", "password": PASSWORD})
    assert "/tf-validate" in response.location
    refused = client.post("/mf-recovery", data={"code": "not-a-code"})
    assert refused.status_code == 200 and client.get("/account/profile").status_code == 302
    accepted = client.post("/mf-recovery", data={"code": codes[0]})
    assert accepted.status_code == 302
    assert client.get("/account/profile").status_code == 200
    # A recovery code works once.
    assert codes[0] not in officer.mf_recovery_codes


def test_a_two_factor_code_works_only_once(app):
    import time_machine

    from grants.extensions import security
    from grants.orm import utcnow
    from tests.clients import AppClient

    officer = make_user("finance_officer", email="once@example.org")
    app.test_client_class = AppClient
    with time_machine.travel(utcnow(), tick=False):
        code = security.totp_factory.generate_totp_password(officer.tf_totp_secret)
        first = app.test_client()
        first.post("/login", data={"email": "once@example.org", "password": PASSWORD})
        assert first.post("/tf-validate", data={"code": code}).status_code == 302
        assert first.get("/account/profile").status_code == 200
        # Someone who saw the code types it on another device within the same 30 seconds.
        second = app.test_client()
        second.post("/login", data={"email": "once@example.org", "password": PASSWORD})
        replay = second.post("/tf-validate", data={"code": code})
        assert replay.status_code == 200 and second.get("/account/profile").status_code == 302
