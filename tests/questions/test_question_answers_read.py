"""Answers to a call's own questions where they are read: the application page, the
evaluator's review page (beside the criteria that score them), the exports, the API."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from grants.extensions import db
from grants.models import Answer, Application
from grants.services import question_building as building
from grants.services import questions as service
from grants.services.evaluation import assign
from tests.api.test_api import bearer
from tests.clients import text_of
from tests.fixtures.programme import make_application, make_call
from tests.questions.test_questions import _question
from tests.spreadsheets import csv_rows, read_xlsx


def _asked(world, call):
    building.add_section(world.officer, call, {"en": "Health", "fr": "Santé"})
    district = building.add_question(
        world.officer, call, 1, _question("short_text", "District", required=True)
    )
    services_ = building.add_question(
        world.officer,
        call,
        1,
        _question("one_choice", "Service", options={"fr": ["Vaccination", "Nutrition"]}),
    )
    return district, services_


def _answered(world, call, district, services_, state="submitted"):
    application = make_application(world, call, state=state)
    application.submitted_at = datetime(2027, 2, 1, 9, 30, tzinfo=UTC)
    application.question_set_id = service.latest_set(call).id
    service.store_answers(
        application, {district.key: "Analamanga", services_.key: services_.options[1]["value"]}
    )
    db.session.flush()
    return application


def test_answers_on_the_application_page_and_in_exports(world, login):
    call = make_call(world, language="fr")
    district, services_ = _asked(world, call)
    application = _answered(world, call, district, services_)
    officer = login(world.officer)
    page = text_of(officer.get(f"/applications/{application.id}"))
    assert "District" in page and "Analamanga" in page and "Nutrition" in page

    rows = csv_rows(officer.get(f"/office/calls/{call.code}/applications.csv"))
    assert rows[0][-2:] == ["District", "Service"]
    assert rows[1][-2:] == ["Analamanga", "Nutrition"]
    sheet = read_xlsx(officer.get(f"/office/calls/{call.code}/applications.xlsx"))
    assert sheet.values()[1][-2:] == ["Analamanga", "Nutrition"]


def test_the_evaluator_reads_answers_beside_the_criterion_that_scores_them(world, login):
    call = make_call(world, language="fr")
    district, services_ = _asked(world, call)
    relevance = call.criteria[0]
    building.set_criteria_scoring(world.officer, call, district.key, [relevance.id])
    application = _answered(world, call, district, services_, state="eligible")
    review = assign(world.officer, application, world.evaluator)
    review.no_conflict_attested_at = datetime(2027, 2, 2, tzinfo=UTC)
    db.session.flush()
    page = login(world.evaluator).get(f"/reviews/{review.id}")
    assert page.status_code == 200
    criterion = page.text.split("Relevance", 1)[1].split("</fieldset>", 1)[0]
    assert "District" in criterion and "Analamanga" in criterion


def test_a_blind_call_never_shows_evaluators_an_answer_that_names_the_association(world, login):
    call = make_call(world, language="fr")
    call.blind_review = True
    building.add_section(world.officer, call, {"en": "Health", "fr": "Santé"})
    district = building.add_question(
        world.officer,
        call,
        1,
        _question("short_text", "District", required=True, identifying=True),
    )
    services_ = building.add_question(
        world.officer,
        call,
        1,
        _question("one_choice", "Service", options={"fr": ["Vaccination", "Nutrition"]}),
    )
    relevance = call.criteria[0]
    building.set_criteria_scoring(world.officer, call, district.key, [relevance.id])
    application = _answered(world, call, district, services_, state="eligible")
    review = assign(world.officer, application, world.evaluator)
    review.no_conflict_attested_at = datetime(2027, 2, 2, tzinfo=UTC)
    db.session.flush()

    page = login(world.evaluator).get(f"/reviews/{review.id}")
    assert page.status_code == 200
    assert "Analamanga" not in page.text and "Nutrition" in page.text
    # The officer still reads every answer.
    assert "Analamanga" in text_of(login(world.officer).get(f"/applications/{application.id}"))


def test_the_api_gives_the_questions_and_checks_answers_like_the_form(world, client):
    call = make_call(world, language="fr")
    district, services_ = _asked(world, call)
    asked = client.get(f"/api/v1/calls/{call.id}/questions", headers=bearer(world.applicant))
    assert asked.status_code == 200
    body = asked.get_json()
    assert body["language"] == "fr" and body["version"] == 1
    keys = [q["key"] for q in body["sections"][0]["questions"]]
    assert keys == [district.key, services_.key]

    application = make_application(world, call)
    url = f"/api/v1/applications/{application.id}"
    refused = client.patch(
        url,
        headers=bearer(world.applicant),
        json={"version": application.version, "answers": {services_.key: "nothing"}},
    )
    assert refused.status_code == 422
    assert f"answers.{services_.key}" in str(refused.get_json())
    assert db.session.scalar(select(Answer.id)) is None

    saved = client.patch(
        url,
        headers=bearer(world.applicant),
        json={"version": application.version, "answers": {district.key: "Analamanga"}},
    )
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["answers"] == {district.key: "Analamanga"}
    db.session.expire_all()
    assert service.saved_values(db.session.get(Application, application.id)) == {
        district.key: "Analamanga"
    }
