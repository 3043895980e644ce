"""WCAG 2.1 AA on the main pages of every role, in English and in Arabic (right to left):
axe-core, run inside Chromium on each page, finds no serious or critical violation, and
no page scrolls sideways on a phone. Each page's screenshot goes to
``test-artifacts/browser/accessibility/``."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from grants.extensions import db
from grants.models import Application, Association, Award, Report
from tests.browser.conftest import AXE, unavailable
from tests.browser.people import draft_parts, log_in

#: WCAG 2.0 and 2.1, levels A and AA: the rules axe-core tags with these.
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}

ROLES = {
    "visitor": None,
    "association": ("awa.ndiaye@demo.example.org", "lyon-thiof-sunrise-27", "fr"),
    "evaluator": ("fatou.sow@demo.example.org", "score-hibiscus-lake-27", "fr"),
    "officer": ("officer@demo.example.org", "officer-mango-river-27", "en"),
    "finance": ("finance.a@demo.example.org", "ledger-kapok-amber-27", "en"),
    "admin": ("admin@demo.example.org", "baobab-admin-harbour-27", "en"),
}


def _pages(live) -> dict[str, list[str]]:
    """The main pages of each role, on the demo programme."""
    with live.app.app_context():
        webhook = _paused_webhook()
        award = db.session.query(Award).order_by(Award.id).first()
        report = db.session.query(Report).filter_by(award_id=award.id, kind="interim").one()
        application = db.session.get(Application, award.application_id)
        lyon = db.session.get(Association, application.association_id)
    grant = f"/grants/{award.id}"
    return {
        "visitor": ["/", "/calls", "/calls/SN-EMP-2027", "/login", "/register", "/open-data/"],
        "association": [
            "/",
            "/dashboard/",
            f"/applications/{application.id}",
            *draft_parts(live, application.association_id),
            grant,
            f"{grant}/reports/{report.id}",
            f"/associations/{lyon.id}",
            "/notifications/",
            "/account/profile",
            "/change",
        ],
        "evaluator": ["/", "/reviews/"],
        "officer": [
            "/",
            "/dashboard/",
            "/office/calls/",
            "/calls/SN-EMP-2027/applications",
            "/office/calls/SN-EMP-2027/assignments/",
            "/office/calls/SN-EMP-2026/ranking/",
            "/admin/associations",
            grant,
        ],
        "finance": [
            "/",
            "/dashboard/",
            "/finance/",
            "/finance/run",
            "/finance/totals",
            grant,
            "/mf-recovery-codes",
        ],
        "admin": [
            "/admin/users",
            "/admin/scheduler",
            "/admin/webhooks/",
            "/admin/webhooks/new",
            f"/admin/webhooks/{webhook}",
        ],
    }


def _paused_webhook() -> int:
    """A webhook for its page, paused so that the other journeys send it nothing."""
    from grants.models import User, WebhookEndpoint
    from grants.services.webhooks import create_endpoint, set_active

    found = db.session.query(WebhookEndpoint.id).order_by(WebhookEndpoint.id).first()
    if found:
        return found.id
    admin = db.session.query(User).filter_by(email=ROLES["admin"][0]).one()
    endpoint, _ = create_endpoint(
        admin,
        "https://erp.programme-partner.example.org/integrations/diaspora-grants/webhooks",
        "Finance ERP",
        ["tranche.pay", "application.return_to_applicant"],
    )
    set_active(admin, endpoint, False)
    db.session.commit()
    return endpoint.id


def _choose_language(page: Page, locale: str) -> None:
    """The language switcher every page carries, as a person would use it."""
    page.goto("/")
    menu = page.locator(".menu > summary")
    if menu.is_visible():  # on a phone, the switcher is in the header's menu
        menu.click()
    page.select_option("#language-select", locale)
    page.locator("form.language button").click()
    page.wait_for_load_state()


def _problems(page: Page, url: str) -> list[str]:
    found = []
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if width[0] > width[1] + 1:
        found.append(f"{url}: scrolls sideways on a phone ({width[0]} px > {width[1]} px)")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_AA
    )
    for violation in result["violations"]:
        if violation["impact"] in BLOCKING:
            targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
            found.append(
                f"{url}: {violation['id']} ({violation['impact']}): {violation['help']} — {targets}"
            )
    return found


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_main_pages_of_every_role_pass_axe(person, live, locale):
    if not AXE.exists():
        unavailable(f"{AXE} is missing (make install-test runs npm ci in tests/browser)")
    problems: list[str] = []
    for role, pages in _pages(live).items():
        page = person(locale, phone=True, bypass_csp=True)  # axe is injected as a script
        if ROLES[role]:
            email, password, _own_language = ROLES[role]
            log_in(page, live, email, password)
        _choose_language(page, locale)
        for url in pages:
            response = page.goto(url)
            assert response is not None and response.ok, f"{role} {url}: {response.status}"
            assert page.locator("html").get_attribute("dir") == ("rtl" if locale == "ar" else "ltr")
            live.screenshot(page, f"accessibility-{locale}", f"{role} {url}")
            problems += _problems(page, f"{role} {url}")
        if ROLES[role]:  # the switcher saved the choice: give the person theirs back
            _choose_language(page, ROLES[role][2])
    assert not problems, "\n".join(problems)
