"""No lost work on a phone: what a volunteer types while the connection is down, or
after the session ended, stays on the device and reaches the server when the connection
or the session returns — through a closed tab and a sign-in. Someone else's save in the
meantime is shown as a conflict, never overwritten silently. Screenshots go to
``test-artifacts/browser/unsent/``."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from grants.extensions import db
from grants.models import Application
from tests.browser.people import draft_id, log_in, two_factor_code
from tests.browser.test_slow_phone import AWA, CODE, short_call  # noqa: F401 (the fixture)

JOURNEY = "unsent"
MOUSSA = ("moussa.fall@demo.example.org", "lyon-yassa-sunset-27")
OFFLINE_FR = "Pas de connexion : vos modifications sont gardées sur ce téléphone"
SIGNED_OUT_FR = "Vous avez été déconnecté·e"


@pytest.fixture
def draft(person, live, short_call) -> tuple[Page, int]:  # noqa: F811
    """Awa, in French on her phone, on a new draft of the call."""
    awa = person("fr", phone=True)
    log_in(awa, live, *AWA)
    awa.goto(f"/calls/{CODE}")
    awa.locator("form[action$='/apply'] button").first.click()
    awa.wait_for_url("**/applications/*")
    application_id = draft_id(awa)
    awa.goto(f"/applications/{application_id}?part=all")  # every field on one page
    return awa, application_id


def _stored(live, application_id: int) -> Application:
    with live.app.app_context():
        application = db.session.get(Application, application_id)
        db.session.expunge(application)
        return application


def _kept_on_device(page: Page) -> dict | None:
    kept = page.evaluate(
        "() => { for (const k of Object.keys(localStorage)) "
        "if (k.startsWith('unsent-changes ')) return localStorage.getItem(k); return null; }"
    )
    return json.loads(kept) if kept else None


def _cut(page: Page) -> None:
    """The connection drops: the phone is offline, and no request reaches the server
    (Chromium's offline switch alone may let a request already on its way through)."""
    page.context.set_offline(True)
    page.context.route("**/*", lambda route: route.abort("internetdisconnected"))


def _restore(page: Page) -> None:
    page.context.unroute("**/*")
    page.context.set_offline(False)


def _save(page: Page) -> None:
    page.locator("#application-form .form-actions button:not([name])").click()


def test_typed_offline_sent_when_the_connection_returns(draft, live):
    awa, application_id = draft
    status = awa.locator(".autosave-status")
    _cut(awa)
    awa.fill("#title", "Atelier de couture à Thiès")
    awa.locator("button[name=add_line]").click()
    awa.select_option("#budget_lines-1-category", "training")
    awa.fill("#budget_lines-1-description", "Formatrice")
    awa.fill("#budget_lines-1-quantity", "12")
    awa.fill("#budget_lines-1-unit_cost", "300")
    _save(awa)
    expect(status).to_have_attribute("data-state", "unsent")
    expect(status).to_contain_text(OFFLINE_FR)
    live.screenshot(awa, JOURNEY, "offline, kept on the phone")
    kept = _kept_on_device(awa)
    assert kept["changed"] and "title" in kept["changed"] and "budget_lines" in kept["changed"]
    assert ["title", "Atelier de couture à Thiès"] in kept["values"]
    assert _stored(live, application_id).title == ""

    _restore(awa)  # the "online" event sends them
    expect(status).to_have_attribute("data-state", "saved")
    stored = _stored(live, application_id)
    assert stored.title == "Atelier de couture à Thiès"
    with live.app.app_context():
        lines = db.session.get(Application, application_id).budget_lines
        assert [line.description for line in lines] == ["Formatrice"]
    assert _kept_on_device(awa) is None


def test_typed_offline_survives_a_reload_and_is_sent_when_the_connection_returns(draft, live):
    awa, application_id = draft
    status = awa.locator(".autosave-status")
    _cut(awa)
    awa.fill("#summary", "Former vingt jeunes à la couture.")
    for target in ("8.6", "4.4"):  # ticked in their goal's disclosure
        tick = awa.locator(f"input[name=sdg_targets][value='{target}']")
        awa.locator("details.sdg-goal", has=tick).locator("summary").click()
        tick.check()
    _save(awa)
    expect(status).to_have_attribute("data-state", "unsent")
    with pytest.raises(Exception, match="ERR_INTERNET_DISCONNECTED"):
        awa.reload()  # offline: the phone shows its own error page

    # The connection is back but poor: pages load, saves are lost on the way.
    awa.route(
        "**/applications/*", lambda r: r.abort() if r.request.method == "POST" else r.fallback()
    )
    _restore(awa)
    awa.clock.install()
    awa.goto(f"/applications/{application_id}?part=all")
    expect(awa.locator("#summary")).to_have_value("Former vingt jeunes à la couture.")
    expect(status).to_have_attribute("data-state", "unsent")

    awa.unroute("**/applications/*")
    awa.clock.run_for(6_000)  # the next try, five seconds later
    expect(status).to_have_attribute("data-state", "saved")
    live.screenshot(awa, JOURNEY, "back online, sent")
    stored = _stored(live, application_id)
    assert stored.summary == "Former vingt jeunes à la couture."
    assert sorted(stored.sdg_targets) == ["4.4", "8.6"]
    assert _kept_on_device(awa) is None


def test_a_save_by_someone_else_meanwhile_is_a_conflict_not_an_overwrite(draft, live, person):
    awa, application_id = draft
    _cut(awa)
    awa.fill("#title", "Le titre d'Awa")
    _save(awa)
    expect(awa.locator(".autosave-status")).to_have_attribute("data-state", "unsent")
    with pytest.raises(Exception, match="ERR_INTERNET_DISCONNECTED"):
        awa.reload()

    # Moussa, of the same association, saves the draft from his computer meanwhile.
    moussa = person("fr")
    log_in(moussa, live, *MOUSSA)
    moussa.goto(f"/applications/{application_id}?part=all")
    moussa.fill("#title", "Le titre de Moussa")
    _save(moussa)
    expect(moussa.locator(".autosave-status")).to_have_attribute("data-state", "saved")
    assert _stored(live, application_id).title == "Le titre de Moussa"

    _restore(awa)
    again = awa
    again.goto(f"/applications/{application_id}?part=all")
    status = again.locator(".autosave-status")
    expect(status).to_have_attribute("data-state", "conflict")
    expect(status).to_contain_text("Quelqu’un d’autre a enregistré")
    expect(again.locator("#title")).to_have_value("Le titre d'Awa")
    live.screenshot(again, JOURNEY, "conflict shown")
    assert _stored(live, application_id).title == "Le titre de Moussa"

    # Told, she saves her title over his on purpose.
    _save(again)
    expect(status).to_have_attribute("data-state", "saved")
    assert _stored(live, application_id).title == "Le titre d'Awa"
    assert _kept_on_device(again) is None


def test_typed_after_the_session_ended_is_back_and_saved_after_signing_in(draft, live):
    awa, application_id = draft
    awa.context.clear_cookies()  # the session ended (expired, or signed out elsewhere)
    awa.fill("#objectives", "Vingt jeunes formés, douze installés.")
    _save(awa)
    status = awa.locator(".autosave-status")
    expect(status).to_have_attribute("data-state", "expired")
    expect(status).to_contain_text(SIGNED_OUT_FR)
    live.screenshot(awa, JOURNEY, "signed out, kept on the phone")
    assert _stored(live, application_id).objectives == ""

    status.get_by_role("link", name="Se reconnecter").click()
    awa.locator("#email").fill(AWA[0])
    awa.locator("#password").fill(AWA[1])
    awa.locator("#password").press("Enter")
    awa.wait_for_load_state()
    if "/tf-" in awa.url:
        awa.locator("#code").fill(two_factor_code(live, AWA[0]))
        awa.locator("#code").press("Enter")
    awa.wait_for_url(f"**/applications/{application_id}?part=all")
    expect(awa.locator("#objectives")).to_have_value("Vingt jeunes formés, douze installés.")
    expect(awa.locator(".autosave-status")).to_have_attribute("data-state", "saved")
    live.screenshot(awa, JOURNEY, "signed in again, sent")
    assert _stored(live, application_id).objectives == "Vingt jeunes formés, douze installés."
    assert _kept_on_device(awa) is None


def test_enter_in_a_field_saves_and_adds_no_row(draft, live):
    awa, application_id = draft
    awa.fill("#locality", "Thiès")
    awa.locator("#locality").press("Enter")
    expect(awa.locator(".autosave-status")).to_have_attribute("data-state", "saved")
    expect(awa.locator("#budget_lines tbody tr")).to_have_count(1)
    assert _stored(live, application_id).locality == "Thiès"
    awa.locator("button[name=add_line]").press("Enter")  # the button itself adds a line
    expect(awa.locator("#budget_lines tbody tr")).to_have_count(2)


def test_what_is_typed_in_a_part_goes_on_to_the_next_and_is_saved_from_there(draft, live):
    """ "Save and continue" opens the next part at once; the changes go with the person
    (kept on the device) and the next part's page sends them as it opens."""
    awa, application_id = draft
    awa.goto(f"/applications/{application_id}?part=project")
    awa.fill("#title", "Atelier de couture à Thiès")
    awa.locator("button[name=continue]").click()
    awa.wait_for_url(f"**/applications/{application_id}?part=goals")
    expect(awa.locator(".autosave-status")).to_have_attribute("data-state", "saved")
    assert _stored(live, application_id).title == "Atelier de couture à Thiès"
    assert _kept_on_device(awa) is None


def test_a_refused_change_of_another_part_links_to_that_part(draft, live):
    """A value the server refuses, sent from the next part's page, is not lost there: the
    page says so and links to its part, where it is back in its field with the reason."""
    awa, application_id = draft
    awa.goto(f"/applications/{application_id}?part=project")
    awa.fill("#duration_months", "douze")
    awa.locator("button[name=continue]").click()
    awa.wait_for_url(f"**/applications/{application_id}?part=goals")
    status = awa.locator(".autosave-status")
    expect(status).to_have_attribute("data-state", "refused")
    expect(status).to_contain_text("une saisie dans une autre partie du formulaire")
    live.screenshot(awa, JOURNEY, "refused in another part")
    status.get_by_role("link", name="Ouvrir cette partie").click()
    awa.wait_for_url(f"**/applications/{application_id}?part=project")
    expect(awa.locator("#duration_months")).to_have_value("douze")
    _save(awa)
    expect(awa.locator("#duration_months-error")).to_be_visible()
    live.screenshot(awa, JOURNEY, "refused value beside its field")
    assert _stored(live, application_id).duration_months is None
