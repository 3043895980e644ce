"""Through the API: a call shows its eligibility rules, a draft takes its answers with
the same rules as the page, and the submission refuses with the same reasons."""

from __future__ import annotations

from datetime import timedelta

from grants.orm import utcnow
from tests.api.test_api import assert_error, bearer
from tests.fixtures.programme import make_application, make_call

QUESTION = {"key": "party", "text": {"en": "Is it a political party?"}, "excludes": "yes"}


def _draft(world):
    now = utcnow()
    call = make_call(
        world,
        opens_at=now - timedelta(days=5),
        closes_at=now + timedelta(days=5),
        eligibility_questions=[QUESTION],
        registration_countries=["FR"],
    )
    return call, make_application(world, call)


def test_a_draft_answers_the_eligibility_questions_through_the_api(world, client):
    call, draft = _draft(world)
    headers = bearer(world.applicant)
    shown = client.get(f"/api/v1/calls/{call.id}", headers=headers).get_json()
    assert shown["eligibility_questions"] == [QUESTION]
    assert shown["registration_countries"] == ["FR"] and shown["no_overdue_reports"] is True
    url = f"/api/v1/applications/{draft.id}"
    refused = assert_error(
        client.post(f"{url}/transitions", json={"name": "submit"}, headers=headers),
        422,
        "invalid",
    )
    assert "Answer the eligibility questions: Is it a political party?" in str(refused)
    bad = assert_error(
        client.patch(
            url,
            json={"eligibility_answers": {"party": "maybe"}, "version": draft.version},
            headers=headers,
        ),
        422,
        "invalid",
    )
    assert bad["errors"] == {"eligibility_answers.party.value": ["Must be one of: yes, no."]}
    assert draft.eligibility_answers == {}
    incomplete = assert_error(
        client.patch(
            url,
            json={"eligibility_answers": {"other": "no"}, "version": draft.version},
            headers=headers,
        ),
        422,
        "invalid",
    )
    assert incomplete["errors"] == {"eligibility_answers.party": ["Answer yes or no."]}
    assert draft.eligibility_answers == {}
    saved = client.patch(
        url,
        json={"eligibility_answers": {"party": "no"}, "title": "Tailors", "version": draft.version},
        headers=headers,
    )
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.get_json()["eligibility_answers"] == {"party": "no"}
    assert draft.title == "Tailors"
    done = client.post(f"{url}/transitions", json={"name": "submit"}, headers=headers)
    assert done.status_code == 200, done.get_data(as_text=True)
    assert draft.state == "submitted"
