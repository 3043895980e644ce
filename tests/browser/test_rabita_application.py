"""The Rabita association applies in Arabic, right to left, on a phone, at 20 kbit/s and
with JavaScript turned off: every step is a plain form post. A mistake in the form is
answered in Arabic and nothing of it is saved. Screenshots of each step go to
``test-artifacts/browser/rabita/``; the time each page took on the slow link goes to
``test-artifacts/browser/rabita/timings.json``."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from grants.extensions import db
from grants.models import Application, Association, Call, Criterion, DocumentType, User
from grants.orm import utcnow
from tests.browser.people import draft_id, log_in, slow_link
from tests.documents.test_filetypes import pdf_bytes

JOURNEY = "rabita"
NADIA = ("nadia.elamrani@demo.example.org", "rabita-argan-atlas-27")
OFFICER = ("officer@demo.example.org", "officer-mango-river-27")
PDF = pdf_bytes()
TITLE_AR = "تشغيل النساء في جهة الشرق — المغرب 2027"


@pytest.fixture
def morocco_call(live) -> str:
    """A call for Morocco published in Arabic (and English), as an officer enters it."""
    with live.app.app_context():
        officer = db.session.query(User).filter_by(email=OFFICER[0]).one()
        now = utcnow()
        call = Call(
            code="MA-EMP-2027",
            language="ar",
            sector="employment",
            countries=["MA"],
            sdg_targets=["8.5", "5.5"],
            currency="USD",
            envelope=Decimal("120000"),
            min_grant=Decimal("5000"),
            max_grant=Decimal("25000"),
            min_cofinancing_share=Decimal("10"),
            timezone="Africa/Casablanca",
            state="open",
            opens_at=now - timedelta(days=3),
            closes_at=now + timedelta(days=40),
            title={"ar": TITLE_AR, "en": "Women's employment in the Oriental — Morocco 2027"},
            description={
                "ar": "منح للجمعيات التي تخلق فرص عمل للنساء في جهة الشرق.",
                "en": "Grants for associations creating jobs for women in the Oriental.",
            },
            created_by_id=officer.id,
            criteria=[
                Criterion(position=1, name={"ar": "الملاءمة", "en": "Relevance"}, weight=60),
                Criterion(position=2, name={"ar": "الجدوى", "en": "Feasibility"}, weight=40),
            ],
            document_types=[
                DocumentType(position=1, name={"ar": "الميزانية المفصلة", "en": "Detailed budget"})
            ],
        )
        db.session.add(call)
        db.session.commit()
    return "MA-EMP-2027"


class Timings:
    """How long each page took to arrive on the slow link, written as an artifact."""

    def __init__(self, page: Page) -> None:
        self.rows: list[dict] = []
        self.page = page

    def step(self, name: str, action) -> None:
        started = time.monotonic()
        action()
        self.page.wait_for_load_state("load")
        self.rows.append({"step": name, "seconds": round(time.monotonic() - started, 2)})

    def write(self, folder) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "timings.json").write_text(json.dumps(self.rows, indent=2, ensure_ascii=False))


def test_rabita_applies_in_arabic_without_javascript_at_20_kbits(person, live, morocco_call):
    nadia = person("ar", phone=True, java_script_enabled=False)
    slow_link(nadia, kbit_per_second=20, latency_ms=400)
    timings = Timings(nadia)
    shot = lambda step: live.screenshot(nadia, JOURNEY, step)  # noqa: E731

    timings.step("log in", lambda: log_in(nadia, live, *NADIA))
    expect(nadia.locator("html")).to_have_attribute("dir", "rtl")
    expect(nadia.locator("html")).to_have_attribute("lang", "ar")
    shot("home")

    # Verification documents first: the call accepts verified associations only.
    with live.app.app_context():
        rabita = db.session.query(Association).filter(Association.name.like("Rabita%")).one()
        rabita_id = rabita.id
    timings.step("association", lambda: nadia.goto(f"/associations/{rabita_id}"))
    for purpose in ("registration_certificate", "statutes"):
        nadia.locator(f"form[action$='/documents/{purpose}'] input[type=file]").set_input_files(
            {"name": f"{purpose}.pdf", "mimeType": "application/pdf", "buffer": PDF}
        )
        timings.step(
            f"upload {purpose}",
            lambda p=purpose: nadia.locator(f"form[action$='/documents/{p}'] button").click(),
        )
    shot("association documents")
    officer = person("en")
    log_in(officer, live, *OFFICER)
    officer.goto(f"/associations/{rabita_id}")
    officer.locator("form[action$='/verify'] button").click()
    expect(officer.locator(".messages")).to_be_visible()

    # The call reads in Arabic; she starts an application.
    timings.step("open calls", lambda: nadia.goto("/calls"))
    expect(nadia.locator("main")).to_contain_text(TITLE_AR)
    shot("open calls")
    timings.step("the call", lambda: nadia.get_by_role("link", name=TITLE_AR).click())
    timings.step("start", lambda: nadia.locator("form[action$='/apply'] button").click())
    application_id = draft_id(nadia)
    shot("empty application")
    save = nadia.locator("#application-form .form-actions button:not([name])")
    go_on = nadia.locator("#application-form button[name=continue]")

    # The form in parts, each a page: first the project, with a slip of the keyboard.
    nadia.fill("#title", "ورشة خياطة للنساء في وجدة")
    nadia.fill("#summary", "تكوين وتشغيل ثلاثين امرأة في الخياطة.")
    nadia.fill("#objectives", "ثلاثون امرأة مكونة، عشرون في عمل.")
    nadia.select_option("#sector", "employment")
    nadia.select_option("#country", "MA")
    nadia.fill("#locality", "وجدة")
    nadia.fill("#start_date", (utcnow() + timedelta(days=120)).date().isoformat())
    nadia.fill("#duration_months", "600")  # a project of 600 months
    timings.step("save with a mistake", lambda: save.click())
    expect(nadia.locator(".error-summary")).to_be_visible()
    shot("the mistake, explained")
    with live.app.app_context():
        assert db.session.get(Application, application_id).title == ""
    nadia.fill("#duration_months", "12")
    timings.step("save and continue", lambda: go_on.click())
    expect(nadia.locator(".error-summary")).to_have_count(0)
    nadia.fill("#beneficiaries_count", "30")
    timings.step("save and continue", lambda: go_on.click())
    timings.step("save and continue", lambda: go_on.click())  # no partner, no team

    # Adding budget lines without JavaScript: a form post each.
    timings.step("add a line", lambda: nadia.locator("button[name=add_line]").click())
    timings.step("add a line", lambda: nadia.locator("button[name=add_line]").click())
    nadia.select_option("#budget_currency", "MAD")
    for line, cost in enumerate(("60000", "80000", "40000")):
        nadia.select_option(f"#budget_lines-{line}-category", index=1 + line)
        nadia.fill(f"#budget_lines-{line}-description", f"بند {line + 1}")
        nadia.fill(f"#budget_lines-{line}-quantity", "1")
        nadia.fill(f"#budget_lines-{line}-unit_cost", cost)
    nadia.fill("#amount_requested", "15000")
    nadia.select_option("#cofinancing-0-source", "association_cash")
    nadia.fill("#cofinancing-0-amount", "20000")
    timings.step("save", lambda: save.click())
    expect(nadia.locator(".error-summary")).to_have_count(0)
    shot("application saved")
    timings.step("save and continue", lambda: go_on.click())  # to the documents

    for form in nadia.locator("form.upload[action*='/documents/']").all():
        action = form.get_attribute("action")
        form.locator("input[type=file]").set_input_files(
            {"name": "budget.pdf", "mimeType": "application/pdf", "buffer": PDF}
        )
        timings.step("upload", lambda a=action: nadia.locator(f"form[action='{a}'] button").click())
    timings.step("submit", lambda: nadia.locator("form.submit-form button[type=submit]").click())
    expect(nadia.locator("main")).to_contain_text("MA-EMP-2027-0001")
    shot("application submitted")
    with live.app.app_context():
        application = db.session.get(Application, application_id)
        assert application.state == "submitted"
        assert application.budget_total == Decimal("180000")
    timings.write(live.artifacts / JOURNEY)
