"""What every browser journey does the same way: log in (answering two-factor), read
the messages on a page, and take the step's screenshot."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from grants.extensions import db, security
from grants.models import User


def two_factor_code(live, email: str) -> str:
    """The current code of the person's authenticator, as their phone would show it."""
    with live.app.app_context():
        user = db.session.query(User).filter_by(email=email).one()
        # A code is accepted once per 30-second step; a journey logs people in often.
        user.tf_totp_last_counter = None
        db.session.commit()
        return security.totp_factory.generate_totp_password(user.tf_totp_secret)


def log_in(page: Page, live, email: str, password: str) -> None:
    page.goto("/login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("#password").press("Enter")
    page.wait_for_load_state()
    if "/tf-" in page.url:
        page.locator("#code").fill(two_factor_code(live, email))
        page.locator("#code").press("Enter")
        page.wait_for_load_state()
    # Signed in: the header carries the way out (in its menu on a phone).
    expect(page.locator("form[action='/logout'] button")).to_have_count(1)


def draft_id(page: Page) -> int:
    """The draft whose form the page shows. A draft just started is the answer to the call
    page's POST: without JavaScript its address stays the call's ``/apply``."""
    address = page.locator("#application-form").get_attribute("data-autosave")
    return int(address.rstrip("/").rsplit("/", 1)[-1])


def flash(page: Page) -> str:
    """The messages the page shows after an action."""
    return page.locator(".messages").inner_text() if page.locator(".messages").count() else ""


def slow_link(page: Page, kbit_per_second: int, latency_ms: int) -> None:
    """Emulate the person's connection (Chromium's network throttling) for this page."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    rate = kbit_per_second * 1000 / 8
    cdp.send(
        "Network.emulateNetworkConditions",
        {
            "offline": False,
            "latency": latency_ms,
            "downloadThroughput": rate,
            "uploadThroughput": rate,
        },
    )


def draft_parts(live, association_id: int, code: str = "SN-EMP-2027") -> list[str]:
    """The pages of a draft of the association's (started here when it has none): its
    overview and the parts of its form with the most to lay out."""
    from grants.models import Application, Association, Call
    from grants.services.applications import start_application

    with live.app.app_context():
        call = db.session.query(Call).filter_by(code=code).one()
        draft = (
            db.session.query(Application)
            .filter_by(association_id=association_id, call_id=call.id, state="draft")
            .first()
        )
        if draft is None:
            association = db.session.get(Association, association_id)
            member = association.memberships[0].user
            draft = start_application(member, call, association)
            db.session.commit()
        page = f"/applications/{draft.id}"
    return [page, f"{page}?part=goals", f"{page}?part=budget"]
