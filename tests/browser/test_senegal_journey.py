"""The Senegal journey in a real browser, the association working in French on a slow
link: sign-up and email confirmation, the association registered and verified, the
application drafted (eight budget lines in XOF, 18 % co-financing) with its three
documents and submitted; an evaluator declares a conflict and is replaced, three score
it; the officer ranks and decides; the association accepts the grant; the officer
requests tranche 1, two finance officers approve it and the second records the payment;
the association submits its interim report. Every step leaves a screenshot in
``test-artifacts/browser/senegal/``."""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from grants.extensions import db
from grants.models import Application, Association, Award, Report, Review, User
from tests.browser.people import draft_id, flash, log_in, slow_link
from tests.documents.test_filetypes import pdf_bytes

JOURNEY = "senegal"
PASSWORD = "thies-couture-atelier-2027"
EMAIL = "mariama.ba@asds.example.org"
ASSOCIATION = "Association des Sénégalais de Strasbourg pour l'Emploi"
PDF = pdf_bytes()
DEMO = {
    "officer": ("officer@demo.example.org", "officer-mango-river-27"),
    "finance_a": ("finance.a@demo.example.org", "ledger-kapok-amber-27"),
    "finance_b": ("finance.b@demo.example.org", "ledger-tamarind-blue-27"),
    "fatou": ("fatou.sow@demo.example.org", "score-hibiscus-lake-27"),
    "jonas": ("jonas.berg@demo.example.org", "score-cedar-meadow-27"),
    "lucia": ("lucia.perez@demo.example.org", "score-quinoa-valley-27"),
    "karim": ("karim.haddad@demo.example.org", "score-olive-desert-27"),
}


def _upload(page: Page, form: str, name: str) -> None:
    """Choose a file in the upload form matched by ``form`` and send it."""
    page.locator(f"{form} input[type=file]").set_input_files(
        {"name": name, "mimeType": "application/pdf", "buffer": PDF}
    )
    page.locator(f"{form} button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text("téléversé")


def _record(live, model, **where):
    with live.app.app_context():
        return db.session.query(model).filter_by(**where).one()


def _continue(page) -> None:
    """ "Enregistrer et continuer": the next part of the form opens."""
    with page.expect_navigation():
        page.locator("#application-form button[name=continue]").click()
    expect(page.locator("main")).to_be_visible()


def test_the_senegal_journey_in_french(person, live):
    mariama = person("fr", phone=True)
    slow_link(mariama, kbit_per_second=256, latency_ms=300)
    shot = lambda page, step: live.screenshot(page, JOURNEY, step)  # noqa: E731

    # A volunteer finds the call without an account, in French, and signs up.
    mariama.goto("/calls")
    expect(mariama.locator("h1")).to_contain_text("Appels")
    expect(mariama.locator("body")).to_contain_text("Sénégal 2027")
    shot(mariama, "open calls")
    mariama.locator(".menu > summary").click()  # on a phone, the header's menu
    mariama.get_by_role("link", name=re.compile("inscrire")).first.click()
    mariama.fill("#full_name", "Mariama Ba")
    mariama.fill("#email", EMAIL)
    mariama.fill("#password", PASSWORD)
    mariama.fill("#password_confirm", PASSWORD)
    mariama.select_option("#locale", "fr")
    shot(mariama, "sign up")
    mariama.locator("form[name=register_user_form] button[type=submit]").click()
    mariama.wait_for_load_state()
    [welcome] = live.mailbox.to(EMAIL)
    link = re.search(r"https?://\S+/confirm/\S+", live.mailbox.body(welcome)).group(0)
    mariama.goto(link)
    log_in(mariama, live, EMAIL, PASSWORD)

    # She registers the association and uploads what verification needs.
    mariama.goto("/associations/new")
    mariama.fill("#name", ASSOCIATION)
    mariama.fill("#registration_number", "W672009876")
    mariama.select_option("#registration_country", "FR")
    mariama.select_option("#residence_country", "FR")
    mariama.select_option("#countries_of_work", ["SN"])
    mariama.select_option("#working_languages", ["fr", "wo"])
    mariama.fill("#contact_name", "Mariama Ba")
    mariama.fill("#contact_email", "contact@asds.example.org")
    mariama.fill("#description", "Formation et emploi des jeunes à Thiès.")
    shot(mariama, "association form")
    mariama.locator("main form button[type=submit]").last.click()
    expect(mariama.locator("h1")).to_contain_text(ASSOCIATION)
    for purpose in ("registration_certificate", "statutes"):
        _upload(mariama, f"form[action$='/documents/{purpose}']", f"{purpose}.pdf")
    shot(mariama, "association documents")
    assert _record(live, Association, name=ASSOCIATION).state == "pending"

    # The programme officer verifies it.
    officer = person("en")
    log_in(officer, live, *DEMO["officer"])
    officer.goto("/admin/associations?state=pending")
    officer.get_by_role("link", name=ASSOCIATION).click()
    officer.locator("form[action$='/verify'] button").click()
    expect(officer.locator(".messages")).to_be_visible()
    assert _record(live, Association, name=ASSOCIATION).state == "verified"
    shot(officer, "officer verifies the association")

    # Mariama applies: eight budget lines in XOF, 18 % co-financing, three documents.
    mariama.goto("/calls/SN-EMP-2027")
    shot(mariama, "the call")
    mariama.locator("form[action$='/apply'] button").click()
    expect(mariama.locator("#application-form")).to_be_visible()
    application_id = draft_id(mariama)
    # The form comes in parts, each saved on its own: "Save and continue" goes on.
    start = date.today() + timedelta(days=150)
    mariama.fill("#title", "Atelier de couture à Thiès")
    mariama.fill("#summary", "Former et employer 40 jeunes à la couture.")
    mariama.fill("#objectives", "40 jeunes formés, 25 employés en un an.")
    mariama.select_option("#sector", "employment")
    mariama.select_option("#country", "SN")
    mariama.fill("#locality", "Thiès")
    mariama.fill("#start_date", start.isoformat())
    mariama.fill("#duration_months", "12")
    shot(mariama, "the project, first part")
    _continue(mariama)
    mariama.fill("#beneficiaries_count", "40")
    mariama.fill("#beneficiaries_women", "22")
    mariama.fill("#beneficiaries_men", "18")
    _continue(mariama)
    _continue(mariama)  # no partner and no team member to name
    for _ in range(7):
        mariama.locator("button[name=add_line]").click()
    mariama.locator("button[name=add_source]").click()
    mariama.select_option("#budget_currency", "XOF")
    for line in range(8):
        mariama.select_option(f"#budget_lines-{line}-category", index=1 + line % 3)
        mariama.fill(f"#budget_lines-{line}-description", f"Ligne {line + 1}")
        mariama.fill(f"#budget_lines-{line}-quantity", "1")
        mariama.fill(f"#budget_lines-{line}-unit_cost", "2250000")
    mariama.fill("#amount_requested", "32000")
    mariama.select_option("#cofinancing-0-source", "association_cash")
    mariama.fill("#cofinancing-0-amount", "1800000")
    mariama.select_option("#cofinancing-1-source", "in_kind")
    mariama.fill("#cofinancing-1-amount", "1440000")
    mariama.locator("#application-form .form-actions button:not([name])").click()
    expect(mariama.locator("#cofinancing")).to_contain_text("18")
    with live.app.app_context():
        saved = db.session.get(Application, application_id)
        assert len(saved.budget_lines) == 8 and saved.cofinancing_share == 18
        assert saved.language == "fr"  # written in French for an English call
        assert saved.title == "Atelier de couture à Thiès" and saved.beneficiaries_count == 40
    shot(mariama, "application saved")
    _continue(mariama)  # after the last part: the documents and the submission
    for form in mariama.locator("form.upload[action*='/documents/']").all():
        action = form.get_attribute("action")
        _upload(mariama, f"form[action='{action}']", "document.pdf")
    expect(mariama.locator("body")).to_contain_text("Tout est en ordre.")
    mariama.locator("form.submit-form button[type=submit]").click()
    expect(mariama.locator("body")).to_contain_text("SN-EMP-2027-")
    shot(mariama, "application submitted")

    # Screening, then Fatou is assigned, declares her conflict and is replaced.
    officer.goto(f"/applications/{application_id}")
    officer.locator("form[action$='/mark_eligible'] button").click()
    expect(officer.locator(".messages")).to_be_visible()
    assert _record(live, Application, id=application_id).state == "eligible"
    fatou_id = _record(live, User, email=DEMO["fatou"][0]).id
    base = "/office/calls/SN-EMP-2027/assignments/"
    officer.goto(base)
    officer.select_option(f"#evaluator-{application_id}", str(fatou_id))
    officer.locator(f"form:has(#evaluator-{application_id}) button").click()
    officer.goto(base + "?propose=1")
    officer.locator("form[action$='/proposal'] button[type=submit]").click()
    officer.locator("form[action$='/start'] button").click()
    shot(officer, "evaluators assigned")

    fatou = person("fr")
    log_in(fatou, live, *DEMO["fatou"])
    fatou.goto("/reviews/")
    fatou.get_by_role("link", name=re.compile("SN-EMP-2027-")).first.click()
    fatou.fill("#reason", "Je siège au conseil d'administration de cette association.")
    shot(fatou, "conflict declared")
    fatou.locator("form[action$='/conflict'] button").click()
    expect(fatou.locator(".messages")).to_be_visible()

    officer.goto(base + "?propose=1")
    officer.locator("form[action$='/proposal'] button[type=submit]").click()
    shot(officer, "replacement assigned")

    # The three evaluators attest they have no conflict and score every criterion.
    with live.app.app_context():
        scorers = [
            (review.id, review.evaluator.email)
            for review in db.session.query(Review).filter_by(application_id=application_id)
            if review.state == "assigned"
        ]
    assert len(scorers) == 3 and DEMO["fatou"][0] not in {email for _, email in scorers}
    passwords = dict(DEMO.values())
    for number, (review_id, email) in enumerate(scorers):
        evaluator = person("fr")
        log_in(evaluator, live, email, passwords[email])
        evaluator.goto(f"/reviews/{review_id}")
        evaluator.locator("form[action$='/attest'] button").click()
        # .all() does not wait: the scoring page must have replaced the attestation first.
        expect(evaluator.locator("select[name^='score-']").first).to_be_visible()
        for select in evaluator.locator("select[name^='score-']").all():
            select.select_option(str(4 - number % 2))
        for comment in evaluator.locator("textarea[name^='comment-']").all():
            comment.fill("Projet solide, bien budgété.")
        evaluator.select_option("#recommendation", "fund")
        shot(evaluator, f"scores of evaluator {number + 1}")
        evaluator.locator("button[name=submit]").click()
        expect(evaluator.locator(".messages")).to_be_visible()
    assert _record(live, Application, id=application_id).state == "reviewed"

    # The officer ranks and decides: USD 32,000 at 600 XOF to the dollar.
    officer.goto("/office/calls/SN-EMP-2027/ranking/")
    shot(officer, "ranking")
    officer.select_option(f"#outcome-{application_id}", "award")
    officer.fill(f"#amount-{application_id}", "32000")
    officer.fill(f"#rate-{application_id}", "600")
    officer.fill("#meeting_date", date.today().isoformat())
    officer.fill("#present", "Comité d'évaluation, bureau du programme")
    officer.locator("form[action$='/decisions'] button[type=submit]").click()
    expect(officer.locator(".messages")).to_be_visible()
    shot(officer, "decision recorded")

    # Mariama reads the award letter and accepts with the association's bank details.
    award = _record(live, Award, application_id=application_id)
    mariama.goto(f"/grants/{award.id}")
    expect(mariama.locator("main")).to_contain_text("32\u202f000,00\xa0$US")
    mariama.fill("#signatory_name", "Mariama Ba")
    mariama.fill("#signatory_role", "Présidente")
    mariama.fill("#account_holder", ASSOCIATION)
    mariama.fill("#iban", "FR76 3000 4000 0312 3456 7890 143")
    mariama.fill("#bank_name", "BNP Paribas Strasbourg")
    mariama.fill("#bic", "BNPAFRPPSTR")
    mariama.check("#letter_read")
    shot(mariama, "accepting the grant")
    mariama.locator("form[action$='/accept'] button[type=submit]").click()
    expect(mariama.locator(".messages")).to_be_visible()
    assert _record(live, Award, id=award.id).state == "active"

    # Tranche 1: requested by the officer, approved by A then B, paid by B.
    officer.goto(f"/grants/{award.id}")
    officer.locator("form[action*='/request'] button").first.click()
    expect(officer.locator(".messages")).to_be_visible()
    shot(officer, "tranche requested")
    for name in ("finance_a", "finance_b"):
        finance = person("en")
        log_in(finance, live, *DEMO[name])
        finance.goto(f"/grants/{award.id}")
        finance.locator("form[action*='/approve'] button").first.click()
        expect(finance.locator(".messages")).to_be_visible()
        shot(finance, f"tranche approved by {name.replace('_', ' ')}")
    finance.fill("input[name=bank_reference]", "SN-2027-0611-001")
    finance.locator("form[action*='/pay'] button").first.click()
    expect(finance.locator(".messages")).to_be_visible()
    shot(finance, "payment recorded")
    with live.app.app_context():
        assert db.session.get(Award, award.id).paid_total == 12800  # 40 % of USD 32,000

    # Mariama writes and submits the interim report.
    report = _record(live, Report, award_id=award.id, kind="interim")
    mariama.goto(f"/grants/{award.id}")
    shot(mariama, "the grant with its first payment")
    mariama.goto(f"/grants/{award.id}/reports/{report.id}")
    mariama.fill("#activities", "20 jeunes formés à la couture en trois mois.")
    mariama.fill("#results", "12 jeunes ont un emploi.")
    for actual in mariama.locator("input[name^='actual-']").all():
        actual.fill("1000000")
    for explanation in mariama.locator("input[name^='explanation-']").all():
        explanation.fill("Dépenses du premier semestre.")
    for indicator in mariama.locator("input[name^='indicator-']").all():
        indicator.fill("10")
    mariama.locator("main form button[type=submit]").first.click()
    expect(mariama.locator(".messages")).to_be_visible()
    mariama.locator("form[action$='/submit'] button").click()
    expect(mariama.locator(".messages")).to_be_visible()
    shot(mariama, "interim report submitted")
    assert _record(live, Report, id=report.id).state == "submitted", flash(mariama)
