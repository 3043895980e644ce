"""Passkey pages without a browser: the list, removing one (and refusing an unknown
name, changing nothing), asking for a fresh confirmation before adding one, and the
confirmation page offering the passkey. Signing up and in with a passkey is in
``tests/browser/test_passkeys.py`` (Chromium's virtual authenticator)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import Passkey
from tests.clients import text_of

T = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def _passkey(user, name: str, usage: str = "first") -> Passkey:
    user.fs_webauthn_user_handle = user.fs_webauthn_user_handle or f"handle-{user.id}"
    passkey = Passkey(
        user_id=user.id,
        credential_id=f"credential-{user.id}-{name}".encode(),
        public_key=b"public key",
        sign_count=0,
        transports=["usb"],
        backup_state=False,
        device_type="single_device",
        name=name,
        usage=usage,
        lastuse_datetime=T,
    )
    db.session.add(passkey)
    db.session.flush()
    return passkey


def _count(user) -> int:
    return db.session.scalar(select(func.count(Passkey.id)).where(Passkey.user_id == user.id))


def test_the_list_names_each_passkey_and_what_it_is_for(world, login):
    awa = login(world.applicant)
    _passkey(world.applicant, "My phone")
    _passkey(world.applicant, "Office key", usage="secondary")
    shown = text_of(awa.get("/account/passkeys"))
    assert "My phone Signing in without a password" in shown
    assert "Office key Second step after your password" in shown
    assert "Confirm: remove the passkey My phone" in shown


def test_a_person_without_passkeys_is_told_so(world, login):
    page = login(world.applicant).get("/account/passkeys")
    assert page.status_code == 200 and "You have no passkey yet." in text_of(page)


def test_removing_a_passkey_and_an_unknown_name_changes_nothing(world, login):
    _passkey(world.applicant, "My phone")
    _passkey(world.outsider, "My phone")
    awa = login(world.applicant)
    unknown = awa.post("/account/passkeys/delete", data={"name": "Not mine"})
    assert unknown.status_code == 302 and unknown.location.endswith("/account/passkeys")
    assert _count(world.applicant) == 1
    told = text_of(awa.get("/account/passkeys"))
    assert "Not mine" in told and "My phone" in told
    removed = awa.post("/account/passkeys/delete", data={"name": "My phone"}, follow_redirects=True)
    assert "My phone" in text_of(removed) and "You have no passkey yet." in text_of(removed)
    assert _count(world.applicant) == 0
    # Another person's passkey of the same name is theirs: untouched.
    assert _count(world.outsider) == 1


def test_adding_a_passkey_asks_for_a_fresh_confirmation(world, login):
    with time_machine.travel(T, tick=False):
        awa = login(world.applicant)
    with time_machine.travel(T + timedelta(minutes=16), tick=False):
        asked = awa.get("/account/passkeys")
        assert asked.status_code == 302 and asked.location.startswith("/verify")
        added = awa.post("/account/passkeys", data={"name": "Phone", "usage": "first"})
        assert added.location.startswith("/verify") and _count(world.applicant) == 0


def test_the_confirmation_page_offers_the_passkey_of_a_person_who_has_one(world, login):
    awa = login(world.applicant)
    assert "Confirm with a passkey" not in text_of(awa.get("/verify"))
    _passkey(world.applicant, "My phone")
    page = text_of(awa.get("/verify?next=/account/tokens"))
    assert "Confirm with a passkey" in page
    ceremony = awa.post("/verify/passkey?next=/account/tokens", data={})
    assert ceremony.status_code == 200
    assert 'data-passkey="signin"' in ceremony.get_data(as_text=True)


def test_the_login_page_offers_a_passkey_and_its_page_asks_nothing_typed(world, client):
    from tests.clients import AppClient  # noqa: F401  (the client fixture's class)

    assert "Sign in with a passkey" in text_of(client.get("/login"))
    page = client.get("/login/passkey")
    assert page.status_code == 200 and "Email address (optional)" in text_of(page)


def test_a_passkey_as_the_second_step_is_asked_after_the_password(world, app):
    from tests.clients import AppClient
    from tests.fixtures.people import PASSWORD

    _passkey(world.applicant, "Office key", usage="secondary")
    app.test_client_class = AppClient
    client = app.test_client()
    asked = client.post("/login", data={"email": world.applicant.email, "password": PASSWORD})
    assert asked.status_code == 302 and asked.location.startswith("/login/passkey")
    page = client.get(asked.location)
    assert "Confirm with your passkey" in text_of(page)
    # Not signed in until the passkey answers.
    assert client.get("/account/profile").status_code == 302
