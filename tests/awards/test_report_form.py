"""Writing a report: a negative amount is refused for being negative, texts hold their
limits, and spending is compared with what was planned for the report's period (an
interim report with the share released before it, a final report with the budget).
Accepting the award holds the same limits on the bank details, on the page and the API."""

from __future__ import annotations

from decimal import Decimal

import pytest

from grants.extensions import db
from tests.api.test_api import assert_error, bearer
from tests.clients import text_of
from tests.fixtures.programme import make_award, make_report
from workflows.report import period_share


def _report(world, kind: str):
    award = make_award(world, state="active")
    return award, next(r for r in award.reports if r.kind == kind)


def _form(award, first: str, second: str, **changes) -> dict[str, str]:
    one, two = award.application.budget_lines  # 20,000 and 18,000 planned
    return {
        "activities": "Trained 20 young people.",
        "results": "12 are employed.",
        f"actual-{one.id}": first,
        f"actual-{two.id}": second,
        **changes,
    }


def _saved(report):
    db.session.expire_all()
    return (report.version, report.spending, report.activities, report.cofinancing_received)


@pytest.mark.parametrize(
    ("locale", "typed", "message"),
    [
        ("en", "-5", "The amount spent cannot be negative."),
        ("en", "- 5", "The amount spent cannot be negative."),
        ("en", "5-", "The amount spent cannot be negative."),
        ("fr", "−5", "Le montant dépensé ne peut pas être négatif."),
        ("ar", "5-", "لا يمكن أن يكون المبلغ المنفق سالبًا."),
        ("en", "five", "Give the amount as a number, such as 1,250.50."),
    ],
)
def test_a_negative_amount_spent_is_refused_for_what_it_is(world, login, locale, typed, message):
    award, report = _report(world, "interim")
    world.applicant.locale = locale
    db.session.flush()
    before = _saved(report)
    first = award.application.budget_lines[0]
    page = f"/grants/{award.id}/reports/{report.id}"
    response = login(world.applicant).post(
        page, data=_form(award, typed, "100", activities="Changed")
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'<p class="error" id="actual-{first.id}-error">{message}</p>' in html.replace(
        "&#39;", "'"
    )
    assert f'aria-describedby="actual-{first.id}-error"' in html
    assert _saved(report) == before


def test_negative_co_financing_received_is_said_so(world, login):
    award, report = _report(world, "interim")
    source = award.application.cofinancing[0]
    before = _saved(report)
    response = login(world.applicant).post(
        f"/grants/{award.id}/reports/{report.id}",
        data=_form(award, "100", "100", **{f"cofinancing-{source.id}": "-7600"}),
    )
    assert response.status_code == 422
    assert "The co-financing received cannot be negative." in text_of(response)
    assert _saved(report) == before


def test_a_report_text_beyond_its_limit_is_refused_not_cut(world, login):
    award, report = _report(world, "interim")
    before = _saved(report)
    first = award.application.budget_lines[0]
    client = login(world.applicant)
    page = f"/grants/{award.id}/reports/{report.id}"
    html = client.get(page).get_data(as_text=True)
    assert 'data-characters="20000"' in html and "At most 20,000 characters." in html
    response = client.post(
        page,
        data=_form(
            award,
            "100",
            "100",
            results="r" * 20_001,
            **{f"explanation-{first.id}": "e" * 2_001},
        ),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert (
        '<p class="error" id="results-error">'
        "This section can be at most 20,000 characters; it has 20,001.</p>" in html
    )
    assert (
        f'<p class="error" id="explanation-{first.id}-error">'
        "The explanation can be at most 2,000 characters; it has 2,001.</p>" in html
    )
    assert _saved(report) == before


def test_the_api_refuses_a_negative_amount_spent_with_the_same_sentence(world, client):
    award, report = _report(world, "interim")
    before = _saved(report)
    line = award.application.budget_lines[0]
    body = assert_error(
        client.patch(
            f"/api/v1/reports/{report.id}",
            json={
                "version": report.version,
                "activities": "Changed",
                "spending": [{"budget_line_id": line.id, "actual": "-5"}],
            },
            headers={**bearer(world.applicant), "Accept-Language": "fr"},
        ),
        422,
        "invalid",
    )
    assert body["errors"][f"actual-{line.id}"] == ["Le montant dépensé ne peut pas être négatif."]
    assert _saved(report) == before


# --- what a report is compared with ------------------------------------------------------------


def test_an_interim_report_answers_for_the_tranches_released_before_it(world):
    award, interim = _report(world, "interim")
    final = next(r for r in award.reports if r.kind == "final")
    # Tranches of 40 % (unconditional), 40 % (after the interim), 20 % (after the final).
    assert period_share(interim) == Decimal("0.4")
    assert period_share(final) == 1
    assert period_share(make_report(world)) == 1  # no schedule of tranches: the budget


def test_normal_mid_project_under_spending_does_not_block_an_interim_report(world, login):
    award, report = _report(world, "interim")
    awa = login(world.applicant)
    page = f"/grants/{award.id}/reports/{report.id}"
    # 40 % of the lines is 8,000 and 7,200; a project half as fast as planned is normal.
    assert awa.post(page, data=_form(award, "4000", "3000")).status_code == 303
    shown = text_of(awa.get(page))
    assert "Planned for the period" in shown and "compared with what was planned until now" in shown
    assert "8,000.00" in shown and "7,200.00" in shown
    assert awa.post(f"{page}/submit").status_code == 303
    assert report.state == "submitted"


def test_an_interim_report_over_its_period_plan_needs_an_explanation(world, login):
    award, report = _report(world, "interim")
    awa = login(world.applicant)
    page = f"/grants/{award.id}/reports/{report.id}"
    # 9,000 against 8,000 planned for the period: 12.5 % over.
    awa.post(page, data=_form(award, "9000", "7000"))
    refused = text_of(awa.post(f"{page}/submit", follow_redirects=True))
    assert (
        "Explain the spending more than 10 % above what was planned for the period: "
        "Sewing machines." in refused
    )
    assert report.state == "scheduled"


def test_a_final_report_is_compared_with_the_whole_budget(world, login):
    award, report = _report(world, "final")
    awa = login(world.applicant)
    page = f"/grants/{award.id}/reports/{report.id}"
    # Half the budget spent at the end of the project is a deviation to explain.
    awa.post(page, data=_form(award, "10000", "18000"))
    assert "compared with what was planned until now" not in text_of(awa.get(page))
    refused = text_of(awa.post(f"{page}/submit", follow_redirects=True))
    assert (
        "Explain the spending that differs from the budget by more than 10 %: Sewing machines."
        in refused
    )
    assert report.state == "scheduled"
    first = award.application.budget_lines[0]
    explained = _form(award, "10000", "18000", **{f"explanation-{first.id}": "Cheaper machines."})
    assert awa.post(page, data=explained).status_code == 303
    assert awa.post(f"{page}/submit").status_code == 303
    assert report.state == "submitted"


# --- the award's acceptance --------------------------------------------------------------------


def test_a_bank_name_too_long_is_refused_on_the_page_and_in_the_api(world, login, client):
    from tests.awards.test_pages import _accept_form

    award = make_award(world)
    award.bank_name = ""
    db.session.flush()
    awa = login(world.applicant)
    html = awa.get(f"/grants/{award.id}").get_data(as_text=True)
    assert 'data-characters="200"' in html
    response = awa.post(f"/grants/{award.id}/accept", data=_accept_form(bank_name="B" * 250))
    assert response.status_code == 422
    assert (
        '<p class="error" id="bank_name-error">'
        "The bank&#39;s name can be at most 200 characters; it has 250.</p>"
    ) in response.get_data(as_text=True)
    db.session.expire_all()
    assert award.state == "offered" and award.bank_name == ""

    refused = assert_error(
        client.post(
            f"/api/v1/awards/{award.id}/transitions",
            json={**_accept_form(bank_name="B" * 250, letter_read=True), "name": "accept"},
            headers={**bearer(world.applicant), "Accept-Language": "es"},
        ),
        422,
        "invalid",
    )
    assert "El nombre del banco no puede superar los 200 caracteres; este texto tiene 250." in str(
        refused
    )
    db.session.expire_all()
    assert award.state == "offered" and award.bank_name == ""
