"""Officers set a call's eligibility rules on a page of their own, without JavaScript:
all saved or nothing, with an error beside the question that needs it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from grants.extensions import db
from grants.models import AuditRow
from tests.clients import text_of
from tests.fixtures.programme import make_call


@pytest.fixture
def call(world):
    return make_call(world, state="draft", language="en")


def _form(call, **fields):
    data = {
        "version": str(call.version),
        "registration_countries": ["FR", "BE"],
        "questions-0-text_en": "Is the association a political party?",
        "questions-0-text_ar": "هل الجمعية حزب سياسي؟",
        "questions-0-excludes": "yes",
    }
    data.update(fields)
    return {name: value for name, value in data.items() if value is not None}


def _url(call) -> str:
    return f"/office/calls/{call.code}/eligibility"


def test_an_officer_sets_the_rules_of_a_draft_call(world, login, call):
    officer = login(world.officer)
    page = text_of(officer.get(_url(call)))
    assert "Who may apply to" in page and "Question 1" in page
    response = officer.post(_url(call), data=_form(call))
    assert response.status_code == 303, text_of(response)
    assert call.registration_countries == ["FR", "BE"]
    assert call.no_overdue_reports is False  # the box was not ticked
    [question] = call.eligibility_questions
    assert question["text"] == {
        "en": "Is the association a political party?",
        "ar": "هل الجمعية حزب سياسي؟",
    }
    assert question["excludes"] == "yes" and question["key"]
    row = db.session.scalars(
        select(AuditRow).where(AuditRow.kind == "call.eligibility_edited")
    ).one()
    assert row.record_id == call.id
    # Rewording keeps the key, so the answers given stay with the question.
    again = officer.get(_url(call)).get_data(as_text=True)
    assert f'value="{question["key"]}"' in again
    officer.post(
        _url(call),
        data=_form(
            call,
            **{
                "questions-0-key": question["key"],
                "questions-0-text_en": "Is it a party?",
                "no_overdue_reports": "y",
            },
        ),
    )
    assert call.eligibility_questions[0]["key"] == question["key"]
    assert call.eligibility_questions[0]["text"]["en"] == "Is it a party?"
    assert call.no_overdue_reports is True


def test_add_a_question_without_javascript(world, login, call):
    officer = login(world.officer)
    response = officer.post(_url(call), data={**_form(call), "add_question": "1"})
    assert response.status_code == 200
    assert "Question 2" in text_of(response)
    assert call.eligibility_questions == []  # nothing saved


def test_a_question_removed_is_gone(world, login, call):
    call.eligibility_questions = [
        {"key": "k1", "text": {"en": "First?"}, "excludes": "yes"},
        {"key": "k2", "text": {"en": "Second?"}, "excludes": "no"},
    ]
    db.session.flush()
    officer = login(world.officer)
    data = {
        "version": str(call.version),
        "questions-0-key": "k1",
        "questions-0-text_en": "First?",
        "questions-0-excludes": "yes",
        "questions-0-remove": "y",
        "questions-1-key": "k2",
        "questions-1-text_en": "Second?",
        "questions-1-excludes": "no",
    }
    assert officer.post(_url(call), data=data).status_code == 303
    assert [q["key"] for q in call.eligibility_questions] == ["k2"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"questions-0-text_en": "", "questions-0-text_ar": ""},
            "Give the question a text.",
        ),
        ({"questions-0-text_en": ""}, "Give the question a text in the call"),
        ({"questions-0-excludes": ""}, "Choose the answer that excludes an association."),
        ({"questions-0-text_en": "x" * 501}, "The question can be at most 500 characters"),
        ({"registration_countries": ["XX"]}, "Unknown country code: XX"),
    ],
)
def test_bad_rules_get_a_clear_error_and_nothing_is_saved(world, login, call, fields, message):
    officer = login(world.officer)
    version = call.version
    response = officer.post(_url(call), data=_form(call, **fields))
    assert response.status_code == 422
    page = text_of(response)
    assert "Please correct the following" in page and message in page
    db.session.refresh(call)
    assert call.eligibility_questions == [] and call.registration_countries == []
    assert call.version == version
    assert (
        db.session.scalars(select(AuditRow).where(AuditRow.kind == "call.eligibility_edited")).all()
        == []
    )


def test_a_question_without_text_is_named_on_its_own_row(world, login, call):
    """A blank row in the middle is skipped; the error lands on the row it belongs to."""
    officer = login(world.officer)
    data = {
        "version": str(call.version),
        "questions-0-text_en": "Fine?",
        "questions-0-excludes": "no",
        "questions-1-text_en": "",
        "questions-2-excludes": "yes",
        "questions-2-text_fr": "Seulement en français ?",
    }
    response = officer.post(_url(call), data=data)
    assert response.status_code == 422
    assert "Eligibility questions, row 3, Question (English): Give the question a text in the " in (
        text_of(response)
    )
    assert call.eligibility_questions == []


def test_a_published_calls_rules_do_not_change(world, login):
    call = make_call(world, state="open")
    officer = login(world.officer)
    response = officer.post(_url(call), data=_form(call))
    assert response.status_code == 409
    assert "eligibility rules can be changed: applicants rely on them" in text_of(response)
    assert call.eligibility_questions == []


def test_a_stale_form_is_refused(world, login, call):
    officer = login(world.officer)
    response = officer.post(_url(call), data=_form(call, version=str(call.version - 1)))
    assert response.status_code == 409
    assert call.eligibility_questions == []
