"""The application form helps: it offers the call's countries only, the SDG targets by
goal, and says how long each text may be; the server holds the same rules for the page
and the API, refuses in the reader's language, next to the field, and saves nothing."""

from __future__ import annotations

import re

from grants.extensions import db
from tests.api.test_api import assert_error, bearer
from tests.applications.test_applications import FORM
from tests.clients import text_of
from tests.fixtures.programme import make_application, make_call


def _draft(world, **call_fields):
    return make_application(world, make_call(world, **call_fields))


def _post(client, application, **changes):
    data = {**FORM, "version": str(application.version), **changes}
    return client.post(f"/applications/{application.id}", data=data)


def _country_options(html: str) -> list[str]:
    select = re.search(r'<select[^>]*id="country"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option[^>]*value="([^"]*)"', select)


def _unchanged(application):
    db.session.expire_all()
    return (application.version, application.title, application.country, application.summary)


# --- countries -------------------------------------------------------------------------------


def test_the_country_list_offers_the_calls_countries_only(world, login):
    client = login(world.applicant)
    senegal = _draft(world, countries=["SN"])
    assert _country_options(
        client.get(f"/applications/{senegal.id}?part=all").get_data(as_text=True)
    ) == [
        "",
        "SN",
    ]
    two = _draft(world, countries=["SN", "ML"])
    offered = _country_options(
        client.get(f"/applications/{two.id}?part=all").get_data(as_text=True)
    )
    assert sorted(offered) == ["", "ML", "SN"]
    anywhere = _draft(world, countries=[])
    offered = _country_options(
        client.get(f"/applications/{anywhere.id}?part=all").get_data(as_text=True)
    )
    assert len(offered) > 200 and "FR" in offered


def test_a_country_outside_the_call_is_refused_in_french_and_nothing_is_saved(world, login):
    world.applicant.locale = "fr"
    application = _draft(world, countries=["SN"])
    before = _unchanged(application)
    client = login(world.applicant)
    response = _post(client, application, country="FR", title="Un autre titre")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    message = (
        "Cet appel ne finance que des projets dans ces pays : Sénégal ; "
        "France n'en fait pas partie."
    )
    error = re.search(r'<p class="error" id="country-error">(.*?)</p>', html, re.S).group(1)
    assert message in error.replace("&#39;", "'")
    assert 'aria-describedby="country-error"' in html or "country-error" in html
    assert _unchanged(application) == before
    assert _post(client, application, country="SN").status_code == 303
    assert application.country == "SN"


def test_the_api_refuses_a_country_outside_the_call_with_the_same_rule(world, client):
    application = _draft(world, countries=["SN"])
    before = _unchanged(application)
    url = f"/api/v1/applications/{application.id}"
    headers = {**bearer(world.applicant), "Accept-Language": "fr"}
    body = assert_error(
        client.patch(
            url,
            json={"country": "FR", "title": "Autre", "version": application.version},
            headers=headers,
        ),
        422,
        "invalid",
    )
    assert body["errors"]["country"] == [
        "Cet appel ne finance que des projets dans ces pays : Sénégal ; "
        "France n'en fait pas partie."
    ]
    assert _unchanged(application) == before
    saved = client.patch(
        url, json={"country": "SN", "version": application.version}, headers=headers
    )
    assert saved.status_code == 200, saved.get_data(as_text=True)


# --- SDG targets -------------------------------------------------------------------------------


def test_sdg_targets_are_chosen_by_goal_and_saved_as_before(world, login):
    application = _draft(world)
    application.sdg_targets = ["8.6"]
    client = login(world.applicant)
    html = client.get(f"/applications/{application.id}?part=all").get_data(as_text=True)
    goals = re.findall(r'<details class="sdg-goal"( open)?>\s*<summary>([^<]*)', html)
    assert len(goals) == 17
    assert [name.strip() for opened, name in goals if opened] == [
        "Goal 8: Decent work and economic growth"
    ]
    assert 'name="sdg_targets" value="8.6" checked' in html
    assert html.count('type="checkbox" name="sdg_targets"') == 169

    response = client.post(
        f"/applications/{application.id}",
        data={**FORM, "version": str(application.version), "sdg_targets": ["4.4", "10.c"]},
    )
    assert response.status_code == 303
    assert application.sdg_targets == ["4.4", "10.c"]
    html = client.get(f"/applications/{application.id}?part=all").get_data(as_text=True)
    opened = re.findall(r'<details class="sdg-goal" open>\s*<summary>([^<]*)', html)
    assert [name.strip() for name in opened] == [
        "Goal 4: Quality education",
        "Goal 10: Reduced inequalities",
    ]


def test_an_unknown_sdg_target_is_refused_next_to_the_goals_and_nothing_is_saved(world, login):
    application = _draft(world)
    application.sdg_targets = ["8.6"]
    db.session.flush()
    client = login(world.applicant)
    response = client.post(
        f"/applications/{application.id}",
        data={**FORM, "version": str(application.version), "sdg_targets": ["4.4", "8.99"]},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'<p class="error" id="sdg_targets-error">[^<]*8\.99', html)
    db.session.expire_all()
    assert (
        application.sdg_targets == ["8.6"]
        and application.title == "Training young tailors in Thiès"
    )


# --- limits on free text ----------------------------------------------------------------------


def test_a_summary_too_long_is_refused_with_its_limit_and_length(world, login):
    application = _draft(world)
    before = _unchanged(application)
    client = login(world.applicant)
    html = client.get(f"/applications/{application.id}?part=all").get_data(as_text=True)
    assert 'data-characters="3000"' in html and "At most 3,000 characters." in text_of(
        client.get(f"/applications/{application.id}?part=all")
    )
    response = _post(client, application, summary="x" * 19_500, title="Changed")
    assert response.status_code == 422
    error = re.search(
        r'<p class="error" id="summary-error">(.*?)</p>', response.get_data(as_text=True)
    )
    assert error.group(1) == "The summary can be at most 3,000 characters; it has 19,500."
    assert _unchanged(application) == before


def test_the_limit_is_said_in_arabic_and_holds_in_the_rows_too(world, login):
    world.applicant.locale = "ar"
    application = _draft(world)
    before = _unchanged(application)
    lines = [line.description for line in application.budget_lines]
    client = login(world.applicant)
    response = _post(client, application, **{"budget_lines-0-description": "ب" * 501})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(
        r'<span class="error" id="budget_lines-0-description-error">(.*?)</span>', html
    )
    assert error.group(1) == "لا يمكن أن يتجاوز الوصف 500 حرفًا؛ وفي هذا النص 501 حرفًا."
    assert _unchanged(application) == before
    assert [line.description for line in application.budget_lines] == lines


def test_the_api_holds_the_same_limits_and_says_them_in_the_callers_language(world, client):
    application = _draft(world)
    before = _unchanged(application)
    url = f"/api/v1/applications/{application.id}"
    headers = {**bearer(world.applicant), "Accept-Language": "fr"}
    body = assert_error(
        client.patch(
            url,
            json={"summary": "x" * 19_500, "title": "Autre", "version": application.version},
            headers=headers,
        ),
        422,
        "invalid",
    )
    assert body["errors"]["summary"] == [
        "Le résumé ne peut dépasser 3\u202f000 caractères ; ce texte en compte 19\u202f500."
    ]
    assert _unchanged(application) == before
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    update = next(s for name, s in schema.items() if name.startswith("ApplicationUpdate"))
    assert update["properties"]["summary"]["maxLength"] == 3000


# --- short lists: partners' countries and budget currencies ----------------------------------


def _options(html: str, select_id: str) -> list[str]:
    select = re.search(rf'<select[^>]*id="{select_id}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option[^>]*value="([^"]*)"', select)


def test_partners_countries_and_currencies_are_short_lists_that_accept_any_other(world, login):
    """A partner's country is offered among the call's countries and the association's
    (France in the fixtures), the budget's currency among the call's (USD), the
    programme's and those of these countries (XOF, EUR): a few options instead of 250
    countries and 150 currencies. Another country or currency sent (by an older page or
    a person who knows the code) is still saved, and then shown chosen."""
    client = login(world.applicant)
    application = _draft(world, countries=["SN"])
    html = client.get(f"/applications/{application.id}?part=all").get_data(as_text=True)
    assert _options(html, "partners-0-country") == ["", "SN", "FR"]
    assert _options(html, "budget_currency") == ["USD", "XOF", "EUR"]
    response = _post(
        client,
        application,
        budget_currency="JPY",
        **{"partners-0-name": "Tokyo Sewing Guild", "partners-0-country": "JP"},
    )
    assert response.status_code == 303, text_of(response)
    db.session.expire_all()
    assert application.budget_currency == "JPY"
    assert [(p.name, p.country) for p in application.partners] == [("Tokyo Sewing Guild", "JP")]
    html = client.get(f"/applications/{application.id}?part=all").get_data(as_text=True)
    assert _options(html, "partners-0-country") == ["", "SN", "FR", "JP"]
    assert _options(html, "partners-1-country") == ["", "SN", "FR", "JP"]
    assert _options(html, "budget_currency") == ["USD", "XOF", "EUR", "JPY"]
    assert '<option selected value="JPY">' in html
