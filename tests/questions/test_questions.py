"""A call's own questions: built by an officer in French or Arabic through the pages,
answered in the application form without JavaScript, judged by one set of rules (form,
autosave, submission, API), versioned once answers are submitted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import Answer, Application, Question, QuestionSet
from grants.orm import utcnow
from grants.services import question_building as building
from grants.services import questions as service
from grants.services.errors import InvalidInput
from tests.applications.test_applications import FORM
from tests.clients import text_of
from tests.fixtures.programme import make_application, make_call


@pytest.fixture
def call(world):
    now = utcnow()
    return make_call(
        world,
        language="fr",
        opens_at=now - timedelta(days=20),
        closes_at=now + timedelta(days=10),
    )


def _question(kind: str, label: str, **extra) -> dict:
    data = {
        "kind": kind,
        "label": {"fr": label},
        "help": {},
        "required": extra.pop("required", False),
        "options": extra.pop("options", {}),
    }
    data.update(extra)
    return data


@pytest.fixture
def built(world, call):
    """A section and questions of each kind used below."""
    officer = world.officer
    building.add_section(officer, call, {"fr": "Santé"})
    district = building.add_question(
        officer, call, 1, _question("short_text", "District sanitaire", required=True)
    )
    workers = building.add_question(
        officer, call, 1, _question("yes_no", "Agents de santé communautaire impliqués ?")
    )
    how_many = building.add_question(
        officer,
        call,
        1,
        _question(
            "whole_number",
            "Combien d'agents ?",
            minimum=1,
            maximum=500,
            condition_key=workers.key,
            condition_value="yes",
        ),
    )
    plan = building.add_question(
        officer, call, 1, _question("long_text", "Plan de formation", max_words=5)
    )
    services_ = building.add_question(
        officer,
        call,
        1,
        _question(
            "several_choices",
            "Services",
            options={"fr": ["Vaccination", "Nutrition", "Paludisme"]},
        ),
    )
    db.session.flush()
    return district, workers, how_many, plan, services_


def _answers_of(application) -> dict:
    db.session.expire_all()
    return service.saved_values(db.session.get(Application, application.id))


def test_officer_builds_questions_in_french_and_arabic_through_the_pages(world, call, login):
    client = login(world.officer)
    assert client.get(f"/office/calls/{call.code}/questions").status_code == 200
    response = client.post(
        f"/office/calls/{call.code}/questions/sections",
        data={"title_fr": "Le projet de santé", "title_ar": "المشروع الصحي"},
    )
    assert response.status_code == 303, text_of(response)
    response = client.post(
        f"/office/calls/{call.code}/questions/sections/1/new",
        data={
            "kind": "one_choice",
            "label_fr": "Type de structure",
            "label_ar": "نوع المنشأة",
            "options_fr": "Centre de santé\nHôpital",
            "options_ar": "مركز صحي\nمستشفى",
            "required": "y",
        },
    )
    assert response.status_code == 303, text_of(response)
    question = db.session.scalars(select(Question)).one()
    assert question.label == {"fr": "Type de structure", "ar": "نوع المنشأة"}
    assert [o["label"] for o in question.options] == [
        {"fr": "Centre de santé", "ar": "مركز صحي"},
        {"fr": "Hôpital", "ar": "مستشفى"},
    ]
    preview = client.get(f"/office/calls/{call.code}/questions/preview")
    assert "Type de structure" in text_of(preview)
    world.officer.locale = "ar"
    db.session.flush()
    preview = client.get(f"/office/calls/{call.code}/questions/preview")
    assert "نوع المنشأة" in text_of(preview) and "مستشفى" in text_of(preview)
    # the call's page links the builder for officers
    assert f"/office/calls/{call.code}/questions" in client.get(f"/calls/{call.code}").text


def test_ordering_with_buttons(world, call, login, built):
    district, workers, *_ = built
    client = login(world.officer)
    response = client.post(
        f"/office/calls/{call.code}/questions/{workers.key}/move", data={"step": "up"}
    )
    assert response.status_code == 303
    db.session.expire_all()
    keys = [q.key for q in service.latest_set(call).questions]
    assert keys[:2] == [workers.key, district.key]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "short_text"}, "label_fr", "label in at least one language"),
        (
            {"kind": "one_choice", "label_fr": "Choix"},
            "options_fr",
            "options to choose from",
        ),
    ],
)
def test_a_bad_question_is_refused_and_nothing_changes(world, call, login, data, field, message):
    client = login(world.officer)
    building.add_section(world.officer, call, {"fr": "Santé"})
    before = db.session.scalar(select(func.count(Question.id)))
    response = client.post(f"/office/calls/{call.code}/questions/sections/1/new", data=data)
    assert response.status_code == 422
    assert message in text_of(response)
    assert db.session.scalar(select(func.count(Question.id))) == before


def test_section_without_title_is_refused(world, call, login):
    client = login(world.officer)
    response = client.post(f"/office/calls/{call.code}/questions/sections", data={})
    assert response.status_code == 422
    assert "title in at least one language" in text_of(response)
    assert db.session.scalar(select(func.count(QuestionSet.id))) == 0


def test_the_applicant_answers_without_javascript(world, call, login, built):
    district, workers, how_many, plan, services_ = built
    application = make_application(world, call)
    client = login(world.applicant)
    page = client.get(f"/applications/{application.id}?part=questions")
    assert "District sanitaire" in text_of(page)
    assert "Agents de santé communautaire" in text_of(page)
    vaccination, nutrition, _ = (o["value"] for o in services_.options)
    data = {
        **FORM,
        "version": str(application.version),
        district.field_name: "Analamanga",
        workers.field_name: "yes",
        how_many.field_name: "12",
        plan.field_name: "Deux jours par mois",
        services_.field_name: [vaccination, nutrition],
    }
    response = client.post(f"/applications/{application.id}", data=data)
    assert response.status_code == 303, text_of(response)
    assert _answers_of(application) == {
        district.key: "Analamanga",
        workers.key: "yes",
        how_many.key: "12",
        plan.key: "Deux jours par mois",
        services_.key: [vaccination, nutrition],
    }


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"plan": "un deux trois quatre cinq six"}, "At most 5 words; the answer has 6."),
        ({"workers": "no", "how_many": "12"}, "Leave it empty."),
        ({"workers": "yes", "how_many": "900"}, "At most 500"),
        ({"services": ["nothing"]}, "Choose among the options given."),
    ],
)
def test_a_bad_answer_is_refused_next_to_the_question_and_nothing_changes(
    world, call, login, built, answers, message
):
    district, workers, how_many, plan, services_ = built
    fields = {"plan": plan, "workers": workers, "how_many": how_many, "services": services_}
    application = make_application(world, call)
    client = login(world.applicant)
    version = application.version
    data = {**FORM, "version": str(version), district.field_name: "Analamanga"}
    data.update({fields[name].field_name: value for name, value in answers.items()})
    response = client.post(f"/applications/{application.id}", data=data)
    assert response.status_code == 422
    assert message in text_of(response)
    name = next(fields[n].field_name for n in answers if n != "workers" or len(answers) == 1)
    assert f'id="{name}-error"' in response.text
    assert _answers_of(application) == {}
    assert db.session.get(Application, application.id).version == version


def test_autosave_sends_one_answer(world, call, login, built):
    district, *_ = built
    application = make_application(world, call)
    client = login(world.applicant)
    response = client.post(
        f"/applications/{application.id}",
        headers={"X-Requested-With": "autosave", "Accept": "application/json"},
        data={
            "version": str(application.version),
            "changed": [district.field_name],
            district.field_name: "Vakinankaratra",
        },
    )
    assert response.status_code == 200, response.json
    assert _answers_of(application) == {district.key: "Vakinankaratra"}
    assert response.json["version"] == application.version  # one save, one version
    overview = text_of(client.get(f"/applications/{application.id}"))
    assert "These questions need an answer" not in overview


def test_the_printable_form_lists_the_calls_questions(world, call, client, built):
    page = text_of(client.get(f"/calls/{call.code}/questions"))
    assert "District sanitaire" in page and "Vaccination / Nutrition / Paludisme" in page


def test_submission_needs_the_required_answers(world, call, login, built):
    district, *_ = built
    application = make_application(world, call)
    client = login(world.applicant)
    page = client.get(f"/applications/{application.id}")
    assert "These questions need an answer: District sanitaire." in text_of(page)
    response = client.post(
        f"/applications/{application.id}/submit", data={"version": str(application.version)}
    )
    assert response.status_code == 422
    assert db.session.get(Application, application.id).state == "draft"
    service.save_answers(world.applicant, application, {district.key: "Analamanga"}, typed=False)
    assert service.missing_answers(application) == []


def test_changes_after_submission_make_a_new_version(world, call, built):
    district, workers, *_ = built
    submitted = make_application(world, call, state="submitted")
    submitted.submitted_at = utcnow()
    draft = make_application(world, call)
    for application in (submitted, draft):
        application.question_set_id = service.latest_set(call).id
        service.store_answers(application, {district.key: "Analamanga"})
    db.session.flush()
    first = service.latest_set(call)
    # a text only change stays in the same version
    building.edit_question(
        world.officer, call, district.key, _question("short_text", "District", required=True)
    )
    assert service.latest_set(call).id == first.id
    # making it optional could change what a submitted answer means: a new version
    building.edit_question(world.officer, call, district.key, _question("short_text", "District"))
    second = service.latest_set(call)
    assert second.number == 2
    db.session.expire_all()
    assert db.session.get(Application, submitted.id).question_set_id == first.id
    assert db.session.get(Application, draft.id).question_set_id == second.id
    assert _answers_of(submitted) == {district.key: "Analamanga"}
    assert _answers_of(draft) == {district.key: "Analamanga"}
    assert db.session.scalar(select(func.count(Answer.id))) == 2


def test_the_api_notation_and_each_kind(world, call):
    officer = world.officer
    building.add_section(officer, call, {"fr": "Tout"})
    kinds = {
        "amount": ("1500.5", "1500.50"),
        "date": ("2027-06-01", "2027-06-01"),
        "country": ("mg", "MG"),
        "one_choice": (None, None),
    }
    questions = {
        kind: building.add_question(
            officer,
            call,
            1,
            _question(kind, kind, options={"fr": ["A", "B"]} if kind == "one_choice" else {}),
        )
        for kind in kinds
    }
    application = make_application(world, call)
    raw = {questions[k].key: v[0] for k, v in kinds.items() if v[0]}
    raw[questions["one_choice"].key] = questions["one_choice"].options[1]["value"]
    service.save_answers(world.applicant, application, raw, typed=False)
    values = _answers_of(application)
    assert values[questions["amount"].key] == "1500.50"
    assert values[questions["country"].key] == "MG"
    with pytest.raises(InvalidInput) as refused:
        service.save_answers(
            world.applicant, application, {questions["date"].key: "demain"}, typed=False
        )
    assert questions["date"].field_name in refused.value.errors


def test_the_demo_madagascar_call_asks_five_questions_in_french(app):
    from grants.models import Call
    from grants.services.demo import seed

    seed()
    call = db.session.scalar(select(Call).where(Call.code == "MG-HEA-2027"))
    asked = service.latest_set(call).questions
    assert len(asked) == 5 and all("fr" in question.label for question in asked)
    # The Nepali network's full proposal (the duplicate pair's concept notes answer none).
    application = db.session.scalar(
        select(Application).where(
            Application.call_id == call.id, Application.state == "proposal_draft"
        )
    )
    assert len(service.saved_values(application)) == 5
    assert service.missing_answers(application) == []
    seed()  # loading the demo again adds nothing
    assert service.question_count(call) == 5


def test_a_conditional_question_scored_by_a_criterion_through_the_page(world, call, login, built):
    _, workers, *_ = built
    client = login(world.officer)
    relevance = call.criteria[0]
    form = client.get(f"/office/calls/{call.code}/questions/sections/1/new")
    assert f'value="{workers.key}=yes"' in form.text
    response = client.post(
        f"/office/calls/{call.code}/questions/sections/1/new",
        data={
            "kind": "long_text",
            "label_ar": "دور العاملين الصحيين",
            "max_words": "200",
            "condition": f"{workers.key}=yes",
            "criteria": [str(relevance.id)],
        },
    )
    assert response.status_code == 303, text_of(response)
    question = service.latest_set(call).questions[-1]
    assert (question.condition_key, question.condition_value) == (workers.key, "yes")
    assert question.max_words == 200 and question.label == {"ar": "دور العاملين الصحيين"}
    assert relevance.question_keys == [question.key]
    edit = client.get(f"/office/calls/{call.code}/questions/{question.key}")
    assert "دور العاملين الصحيين" in edit.text


def test_a_file_question_is_answered_with_the_documents_checks(world, call, login, built):
    import io

    from tests.documents.test_filetypes import pdf_bytes

    district, *_ = built
    plan = building.add_question(
        world.officer, call, 1, _question("file", "Carte du district", required=True)
    )
    application = make_application(world, call)
    service.save_answers(world.applicant, application, {district.key: "Analamanga"}, typed=False)
    assert service.missing_answers(application) == ["Carte du district"]
    client = login(world.applicant)
    url = f"/applications/{application.id}/questions/{plan.key}/file"
    refused = client.post(
        url, data={"file": (io.BytesIO(b"MZ not a document"), "map.exe")}, follow_redirects=True
    )
    assert "not a document in one of the accepted formats" in text_of(refused)
    db.session.expire_all()
    assert service.missing_answers(db.session.get(Application, application.id)) == [
        "Carte du district"
    ]
    response = client.post(url, data={"file": (io.BytesIO(pdf_bytes()), "carte.pdf")})
    assert response.status_code == 303
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    assert service.missing_answers(application) == []
    assert "carte.pdf" in text_of(client.get(f"/applications/{application.id}"))


def test_a_french_label_quoted_in_an_arabic_hint_keeps_its_punctuation(world, call, login, built):
    """The hint of a conditional question quotes another question's label: set apart
    (first-strong isolate), the French label's question mark stays at its end, inside
    the Arabic quotation marks, in the page and in the refusal alike."""
    _, workers, how_many, _, _ = built
    application = make_application(world, call)
    world.applicant.locale = "ar"
    client = login(world.applicant)
    page = client.get(f"/applications/{application.id}?part=questions").text
    quoted = "«\u2068Agents de santé communautaire impliqués ?\u2069»"
    assert f"يُطرح فقط عندما تكون الإجابة عن {quoted}" in page
    response = client.post(
        f"/applications/{application.id}",
        data={
            "version": str(application.version),
            "part": "questions",
            workers.field_name: "no",
            how_many.field_name: "12",
        },
    )
    assert response.status_code == 422
    assert quoted in response.text
    assert _answers_of(application) == {}
