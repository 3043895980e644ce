"""The layout holds for every role, in English, French and Arabic (right to left), on a
phone (412 px) and a desktop (1280 px): no page scrolls sideways, the header is one row
on a desktop and stays short on a phone (its menu closed). A screenshot of each page,
language and width goes to ``test-artifacts/layout/``."""

from __future__ import annotations

import re

from playwright.sync_api import Page

from grants.extensions import db
from grants.models import Application, Award, Report, Review, User
from tests.browser.conftest import ARTIFACTS
from tests.browser.people import draft_parts, log_in

FOLDER = ARTIFACTS.parent / "layout"
LOCALES = ("en", "fr", "ar")
WIDTHS = {412: 900, 1280: 900}
#: A phone's header, menu closed: the brand and "Menu" on one line.
PHONE_HEADER_PX = 70

PEOPLE = {
    "visitor": None,
    "applicant": ("awa.ndiaye@demo.example.org", "lyon-thiof-sunrise-27", "fr"),
    "officer": ("officer@demo.example.org", "officer-mango-river-27", "en"),
    "evaluator": ("fatou.sow@demo.example.org", "score-hibiscus-lake-27", "fr"),
    "finance": ("finance.a@demo.example.org", "ledger-kapok-amber-27", "en"),
    "admin": ("admin@demo.example.org", "baobab-admin-harbour-27", "en"),
}

#: The header's measures: its height, the top and bottom of each visible part of its one
#: row (the brand, the entries, the language switcher), and whether the entries overflow.
MEASURE = """() => {
  const header = document.querySelector('.site-header');
  const parts = [...header.querySelectorAll('.brand, .menu > summary, .site-nav > li, .language')]
    .filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')
    .map(e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom]; });
  const nav = header.querySelector('.site-nav');
  return {
    squeezed: !!nav && nav.getClientRects().length > 0 && nav.scrollWidth > nav.clientWidth + 1,
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
    header: header.getBoundingClientRect().height,
    parts: parts,
  };
}"""


def _pages(live) -> dict[str, list[str]]:
    with live.app.app_context():
        award = db.session.query(Award).order_by(Award.id).first()
        report = db.session.query(Report).filter_by(award_id=award.id, kind="interim").one()
        application = db.session.get(Application, award.application_id)
        fatou = db.session.query(User).filter_by(email=PEOPLE["evaluator"][0]).one()
        review = (
            db.session.query(Review)
            .filter_by(evaluator_id=fatou.id)
            .filter(Review.no_conflict_attested_at.is_not(None))
            .order_by(Review.id)
            .first()
        )
    grant = f"/grants/{award.id}"
    return {
        "visitor": ["/", "/calls", "/login", "/register", "/reset", "/no-such-page"],
        "applicant": [
            "/",
            f"/applications/{application.id}",
            *draft_parts(live, application.association_id),
            grant,
            f"{grant}/reports/{report.id}",
            "/notifications/",
            "/change",
        ],
        "officer": [
            "/office/calls/",
            "/calls/SN-EMP-2027/applications",
            "/office/calls/SN-EMP-2026/ranking/",
            grant,
            "/grants/",
        ],
        "evaluator": ["/reviews/"] + ([f"/reviews/{review.id}"] if review else []),
        "finance": ["/finance/", "/finance/run", "/finance/totals", grant, "/mf-recovery-codes"],
        "admin": ["/admin/users", "/admin/scheduler", "/admin/associations"],
    }


def _choose_language(page: Page, locale: str) -> None:
    """The language switcher, as a person would use it (through the menu on a phone)."""
    page.goto("/")
    menu = page.locator(".menu > summary")
    if menu.is_visible():
        menu.click()
    page.select_option("#language-select", locale)
    page.locator("form.language button").click()
    page.wait_for_load_state()


def _problems(page: Page, where: str, width: int) -> list[str]:
    found = []
    seen = page.evaluate(MEASURE)
    if seen["scroll"] > seen["inner"] + 1:
        found.append(f"{where}: scrolls sideways ({seen['scroll']} px > {seen['inner']} px)")
    if width < 600 and seen["header"] > PHONE_HEADER_PX:
        found.append(f"{where}: the closed header is {seen['header']:.0f} px high")
    if width >= 1280 and seen["parts"]:
        tops = [top for top, _ in seen["parts"]]
        bottoms = [bottom for _, bottom in seen["parts"]]
        if min(bottoms) <= max(tops):  # some part starts below where another ends
            found.append(f"{where}: the header takes more than one row")
        if seen["squeezed"]:
            found.append(f"{where}: the header's entries overflow their row")
    return found


def _shot(page: Page, role: str, locale: str, width: int, url: str) -> None:
    name = re.sub(r"[^a-z0-9]+", "-", url.lower()).strip("-") or "home"
    folder = FOLDER / f"{width}" / locale
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{role}-{name}.png"), full_page=True)


def test_no_page_scrolls_sideways_and_the_header_is_one_row(chromium, live):
    problems: list[str] = []
    pages = _pages(live)
    for role, who in PEOPLE.items():
        context = chromium.new_context(base_url=live.url, viewport={"width": 412, "height": 900})
        page = context.new_page()
        try:
            if who:
                log_in(page, live, who[0], who[1])
            for locale in LOCALES:
                page.set_viewport_size({"width": 412, "height": 900})
                _choose_language(page, locale)
                for width, height in WIDTHS.items():
                    page.set_viewport_size({"width": width, "height": height})
                    for url in pages[role]:
                        response = page.goto(url)
                        assert response is not None
                        assert response.ok or url == "/no-such-page", f"{role} {url}"
                        where = f"{role} {url} ({locale}, {width} px)"
                        problems += _problems(page, where, width)
                        _shot(page, role, locale, width, url)
            if who:  # the switcher saved the choice: give the person theirs back
                page.set_viewport_size({"width": 412, "height": 900})
                _choose_language(page, who[2])
        finally:
            context.close()
    assert not problems, "\n".join(problems)


def test_the_phone_menu_opens_without_javascript(chromium, live):
    context = chromium.new_context(
        base_url=live.url, viewport={"width": 412, "height": 900}, java_script_enabled=False
    )
    page = context.new_page()
    try:
        page.goto("/calls")
        entries = page.locator(".site-nav a[href='/login']")
        assert not entries.is_visible()
        page.locator(".menu > summary").click()
        assert entries.is_visible()
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto("/calls")  # a fresh page on a desktop: the entries show, no "Menu"
        assert entries.is_visible() and not page.locator(".menu > summary").is_visible()
    finally:
        context.close()
