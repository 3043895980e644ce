"""A member adds a passkey and signs in with it, without a password, through Chromium's
virtual authenticator (the device's screen lock, answered by the test); then confirms
it is them with the same passkey before a sensitive page."""

from __future__ import annotations

from playwright.sync_api import expect

from grants.extensions import db
from grants.models import Passkey, User
from tests.browser.people import flash, log_in

SITA = ("sita.gurung@demo.example.org", "nepal-rhodo-summit-27")


def _virtual_authenticator(page) -> None:
    """A security key that keeps passkeys and always verifies its user (a passkey for
    signing in is asked of a roaming authenticator)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "usb",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )


def test_a_member_adds_a_passkey_and_signs_in_with_it(person, live):
    # A passkey belongs to a domain name: the product is opened as localhost (an IP
    # address cannot hold passkeys), still a secure context over plain HTTP.
    page = person("en", base_url=live.url.replace("127.0.0.1", "localhost"))
    _virtual_authenticator(page)
    log_in(page, live, *SITA)

    page.goto("/account/profile")
    page.get_by_role("link", name="Passkeys").click()
    expect(page.locator("h1")).to_have_text("Passkeys")
    expect(page.get_by_text("You have no passkey yet.")).to_be_visible()
    live.screenshot(page, "passkeys", "no passkey yet")

    page.get_by_label("A name to recognise it").fill("My phone")
    page.get_by_label("Signing in without a password").check()
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.locator("ul.passkeys")).to_contain_text("My phone")
    expect(page.locator("ul.passkeys")).to_contain_text("Signing in without a password")
    assert "passkey" in flash(page).lower() or "webauthn" in flash(page).lower()
    live.screenshot(page, "passkeys", "passkey added")
    with live.app.app_context():
        sita = db.session.query(User).filter_by(email=SITA[0]).one()
        assert [
            (p.name, p.usage) for p in db.session.query(Passkey).filter_by(user_id=sita.id)
        ] == [("My phone", "first")]

    # Signed out, Sita signs in with the passkey alone: no email, no password.
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_role("link", name="Sign in with a passkey").click()
    live.screenshot(page, "passkeys", "sign in with a passkey")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.locator("form[action='/logout'] button")).to_have_count(1)
    page.goto("/account/profile")
    expect(page.locator("#full_name")).to_have_value("Sita Gurung")
    live.screenshot(page, "passkeys", "signed in with the passkey")

    # The same passkey confirms it is her before a sensitive page.
    page.goto("/verify/passkey?next=/account/tokens")
    page.get_by_role("button", name="Confirm with a passkey").click()
    page.wait_for_url("**/account/tokens")
    expect(page.locator("h1")).to_contain_text("API tokens")
