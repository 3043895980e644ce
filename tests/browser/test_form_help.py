"""The application form on a phone: the call's countries only, a live count of the
characters left, SDG targets found by a filter box; without JavaScript the goals still
open and their targets are ticked and saved."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from grants.extensions import db
from grants.models import Application, Association, Call, User
from grants.orm import utcnow
from grants.services.demo import LYON
from tests.browser.people import log_in

JOURNEY = "form-help"
AWA = ("awa.ndiaye@demo.example.org", "lyon-thiof-sunrise-27")


@pytest.fixture
def draft(live) -> int:
    """A draft of the Lyon association in a call for Senegal only."""
    with live.app.app_context():
        officer = db.session.query(User).filter_by(email="officer@demo.example.org").one()
        awa = db.session.query(User).filter_by(email=AWA[0]).one()
        lyon = db.session.query(Association).filter_by(name=LYON).one()
        now = utcnow()
        code = f"SN-FORM-{now:%H%M%S%f}"
        call = Call(
            code=code,
            language="fr",
            sector="employment",
            countries=["SN"],
            currency="USD",
            envelope=Decimal("100000"),
            min_grant=Decimal("5000"),
            max_grant=Decimal("20000"),
            min_cofinancing_share=Decimal("10"),
            timezone="Africa/Dakar",
            state="open",
            opens_at=now - timedelta(days=3),
            closes_at=now + timedelta(days=40),
            title={"fr": "Emploi des jeunes — Sénégal"},
            description={"fr": "Des emplois pour les jeunes."},
            created_by_id=officer.id,
        )
        application = Application(
            call=call,
            association_id=lyon.id,
            reference=f"{code}-0001",
            language="fr",
            state="draft",
            created_by_id=awa.id,
            budget_currency="XOF",
            country="SN",
        )
        db.session.add_all([call, application])
        db.session.commit()
        return application.id


def test_the_form_counts_characters_and_finds_sdg_targets(person, live, draft):
    awa = person("fr", phone=True)
    shot = lambda step: live.screenshot(awa, JOURNEY, step)  # noqa: E731
    log_in(awa, live, *AWA)
    awa.goto(f"/applications/{draft}?part=all")
    options = awa.locator("#country option").evaluate_all("(os) => os.map((o) => o.value)")
    assert options == ["", "SN"]

    awa.fill("#summary", "Former quarante jeunes.")
    expect(awa.locator("#summary-count")).to_have_text(re.compile(r"Caractères restants : 2\s977"))
    awa.fill("#summary", "x" * 3_005)
    expect(awa.locator("#summary-count")).to_have_text("Caractères au-delà de la limite : 5")
    expect(awa.locator("#summary-count")).to_have_class(re.compile("error"))
    shot("a summary too long, counted")
    awa.locator("#application-form .form-actions button:not([name])").click()
    expect(awa.locator("#summary-error")).to_have_text(
        re.compile(r"Le résumé ne peut dépasser 3\s000 caractères ; ce texte en compte 3\s005\.")
    )
    expect(awa.locator("#summary")).to_have_attribute("aria-invalid", "true")
    shot("refused next to the field")
    with live.app.app_context():
        assert db.session.get(Application, draft).summary == ""

    awa.fill("#sdg_targets-filter", "8.6")
    awa.press("#sdg_targets-filter", "Enter")  # finds, and sends nothing
    expect(awa.locator("#budget_lines-1-category")).to_have_count(0)
    goals = awa.locator("details.sdg-goal")
    expect(goals.filter(has_text="Objectif 8")).to_be_visible()
    expect(goals.filter(has_text="Objectif 4")).to_be_hidden()
    awa.get_by_label("8.6", exact=True).check()
    shot("the filter finds 8.6")
    awa.fill("#sdg_targets-filter", "éducation")
    expect(goals.filter(has_text="Objectif 4")).to_be_visible()
    awa.get_by_label("4.4", exact=True).check()
    awa.fill("#sdg_targets-filter", "")
    expect(goals).to_have_count(17)

    awa.fill("#summary", "Former quarante jeunes à la couture.")
    awa.locator("#application-form .form-actions button:not([name])").click()
    expect(awa.locator(".error-summary")).to_have_count(0)
    with live.app.app_context():
        assert db.session.get(Application, draft).sdg_targets == ["4.4", "8.6"]
    expect(awa.locator("details.sdg-goal[open]")).to_have_count(2)
    shot("saved, the chosen goals open")


def test_without_javascript_the_goals_open_and_their_targets_are_saved(person, live, draft):
    awa = person("fr", phone=True, java_script_enabled=False)
    log_in(awa, live, *AWA)
    awa.goto(f"/applications/{draft}?part=all")
    expect(awa.locator("#sdg_targets-filter")).to_have_count(0)
    awa.locator("details.sdg-goal summary", has_text="Objectif 10").click()
    awa.get_by_label("10.7", exact=True).check()
    awa.fill("#title", "Atelier de couture")
    awa.locator("#application-form .form-actions button:not([name])").click()
    expect(awa.locator(".error-summary")).to_have_count(0)
    with live.app.app_context():
        assert db.session.get(Application, draft).sdg_targets == ["10.7"]
    live.screenshot(awa, JOURNEY, "without javascript, saved")


def test_the_interim_report_shows_the_plan_for_its_period(person, live):
    awa = person("fr", phone=True)
    log_in(awa, live, *AWA)
    awa.goto("/grants")
    awa.locator("main a[href^='/grants/']").first.click()
    awa.locator("a[href*='/reports/']").first.click()
    expect(awa.locator("main")).to_contain_text("Prévu pour la période")
    live.screenshot(awa, JOURNEY, "interim report")


def test_long_words_wrap_instead_of_widening_the_page(person, live, draft):
    long_word = "Développementcommunautaireetsolidaire" * 5
    with live.app.app_context():
        application = db.session.get(Application, draft)
        application.title = f"Atelier {long_word}"
        application.summary = f"Un résumé avec {long_word} au milieu."
        application.locality = long_word
        application.state = "submitted"
        db.session.commit()
    awa = person("fr", phone=True)
    log_in(awa, live, *AWA)
    awa.goto(f"/applications/{draft}?part=all")
    expect(awa.locator("h1")).to_contain_text("Atelier")
    widths = awa.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    live.screenshot(awa, JOURNEY, "long words wrap")
