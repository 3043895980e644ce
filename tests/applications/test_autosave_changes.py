"""The autosave of a slow phone sends only the fields that changed: the rest is the saved
draft, and the whole is judged by the same rules as a full save. A refused change saves
nothing; a stale one is a conflict that says which version is current; a session that
ended is told apart from a lost connection."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine

from grants.extensions import db
from grants.orm import utcnow
from tests.applications.test_applications import (
    FORM,
    _save,
    _start,
    call,  # noqa: F401 (the fixture)
)

AUTOSAVE = {"X-Requested-With": "autosave", "Accept": "application/json"}


@pytest.fixture
def draft(world, login, call):  # noqa: F811 (the imported fixture)
    """A draft saved once in full, and the member's client."""
    client = login(world.applicant)
    application = _start(client, call)
    assert _save(client, application, sdg_targets=["8.6", "4.4"]).status_code == 303
    db.session.refresh(application)
    return application, client


def _autosave(client, application, changed: list[str], **fields):
    data = {"version": str(application.version), "changed": changed, **fields}
    return client.post(f"/applications/{application.id}", headers=AUTOSAVE, data=data)


def _snapshot(application) -> tuple:
    db.session.refresh(application)
    return (
        application.version,
        application.title,
        application.summary,
        application.beneficiaries_count,
        application.sdg_targets,
        [(line.description, line.quantity, line.unit_cost) for line in application.budget_lines],
        [(source.source, source.amount) for source in application.cofinancing],
    )


def test_one_changed_field_is_saved_and_the_rest_of_the_draft_kept(draft):
    application, client = draft
    before = _snapshot(application)
    response = _autosave(client, application, ["summary"], summary="Forty young tailors.")
    assert response.status_code == 200, response.json
    after = _snapshot(application)
    assert after[2] == "Forty young tailors."
    assert after[0] == response.json["version"] == before[0] + 1
    assert after[1] == before[1] and after[3:] == before[3:]
    assert application.budget_total == Decimal("24000000")
    assert "Saved automatically" in response.json["message"]
    # The budget's total and share are computed from tables this save did not carry.
    assert response.json["parts"] == {}


def test_a_table_is_sent_whole_and_replaces_its_rows(draft):
    application, client = draft
    response = _autosave(
        client,
        application,
        ["budget_lines"],
        **{
            "budget_lines-0-category": "equipment",
            "budget_lines-0-description": "Sewing machines",
            "budget_lines-0-quantity": "10",
            "budget_lines-0-unit_cost": "1200000",
            "budget_lines-1-category": "training",
            "budget_lines-1-description": "Trainers, 12 months",
            "budget_lines-1-quantity": "12",
            "budget_lines-1-unit_cost": "1000000",
            "budget_lines-2-category": "travel",
            "budget_lines-2-description": "Bus to Thiès",
            "budget_lines-2-quantity": "1",
            "budget_lines-2-unit_cost": "500000",
        },
    )
    assert response.status_code == 200, response.json
    db.session.refresh(application)
    assert [line.description for line in application.budget_lines][-1] == "Bus to Thiès"
    assert application.budget_total == Decimal("24500000")
    assert application.title == FORM["title"] and len(application.cofinancing) == 1
    parts = response.json["parts"]
    assert "24,500,000" in parts["budget-total"] and "16.16 %" in parts["cofinancing-share"]


def test_a_multiple_choice_sent_empty_is_cleared(draft):
    application, client = draft
    assert application.sdg_targets == ["8.6", "4.4"]
    assert _autosave(client, application, ["sdg_targets"]).status_code == 200
    db.session.refresh(application)
    assert application.sdg_targets == []


@pytest.mark.parametrize(
    ("changed", "fields", "status", "says"),
    [
        (["amount_requested"], {"amount_requested": "-1"}, 422, "some fields need attention"),
        # Judged with the saved counts of women (22) and men (18): 30 is fewer.
        (["beneficiaries_count"], {"beneficiaries_count": "30"}, 422, "need attention"),
        (["summary"], {"summary": "x" * 20001}, 422, "need attention"),
        (
            ["budget_lines"],
            {"budget_lines-0-category": "staff", "budget_lines-0-description": "No amounts"},
            422,
            "need attention",
        ),
    ],
    ids=["negative amount", "fewer than women and men", "too long", "line without amounts"],
)
def test_a_refused_change_says_why_and_saves_nothing(draft, changed, fields, status, says):
    application, client = draft
    before = _snapshot(application)
    response = _autosave(client, application, changed, **fields)
    assert response.status_code == status
    assert says in response.json["message"]
    assert _snapshot(application) == before


def test_a_stale_change_is_a_conflict_naming_the_current_version(draft):
    application, client = draft
    before = _snapshot(application)
    data = {"version": str(application.version - 1), "changed": ["title"], "title": "Stale"}
    response = client.post(f"/applications/{application.id}", headers=AUTOSAVE, data=data)
    assert response.status_code == 409
    assert "Someone else saved this application" in response.json["message"]
    assert response.json["current_version"] == application.version
    assert _snapshot(application) == before


def test_changes_sent_again_after_a_lost_answer_are_not_a_conflict(draft):
    application, client = draft
    loaded = application.version
    first = _autosave(client, application, ["title"], title="Sent twice")
    assert first.status_code == 200
    # The answer never reached the phone: it sends the same change with the same version.
    data = {"version": str(loaded), "changed": ["title"], "title": "Sent twice"}
    again = client.post(f"/applications/{application.id}", headers=AUTOSAVE, data=data)
    assert again.status_code == 200 and again.json["version"] == first.json["version"]
    db.session.refresh(application)
    assert application.version == first.json["version"] and application.title == "Sent twice"
    # Another change on that old version is someone else's save to protect.
    data["title"] = "Something else"
    other = client.post(f"/applications/{application.id}", headers=AUTOSAVE, data=data)
    assert other.status_code == 409
    db.session.refresh(application)
    assert application.title == "Sent twice"


def test_unknown_names_are_ignored_and_nothing_else_is_touched(draft):
    application, client = draft
    before = _snapshot(application)
    response = _autosave(client, application, ["state", "version"], state="submitted")
    assert response.status_code == 200
    after = _snapshot(application)
    assert application.state == "draft" and after[1:] == before[1:]


def test_an_ended_session_is_a_401_not_a_redirect_to_the_login_page(draft, app):
    application, client = draft
    before = _snapshot(application)
    client.post("/logout")
    response = _autosave(client, application, ["title"], title="Typed after the session ended")
    assert response.status_code == 401
    assert response.is_json
    assert _snapshot(application) == before


def test_an_ended_session_with_the_pages_old_token_is_a_401_too(draft):
    application, client = draft
    before = _snapshot(application)
    token = client.csrf_token()
    client.post("/logout")
    data = {
        "csrf_token": token,
        "version": str(application.version),
        "changed": ["title"],
        "title": "Typed after the session ended",
    }
    response = client.post(
        f"/applications/{application.id}", headers=AUTOSAVE, data=data, csrf=False
    )
    assert response.status_code == 401 and response.is_json
    assert _snapshot(application) == before


def test_a_token_aged_past_its_hour_is_renewed_for_the_script_and_nothing_saved(draft):
    application, client = draft
    before = _snapshot(application)
    token = client.csrf_token()
    data = {"version": str(application.version), "changed": ["title"], "title": "An hour later"}
    with time_machine.travel(utcnow() + timedelta(hours=2)):
        aged = client.post(
            f"/applications/{application.id}",
            headers=AUTOSAVE,
            data={**data, "csrf_token": token},
            csrf=False,
        )
        assert aged.status_code == 400 and "expired" in aged.json["message"]
        assert _snapshot(application) == before
        renewed = client.post(
            f"/applications/{application.id}",
            headers=AUTOSAVE,
            data={**data, "csrf_token": aged.json["csrf_token"]},
            csrf=False,
        )
    assert renewed.status_code == 200, renewed.json
    db.session.refresh(application)
    assert application.title == "An hour later"


def test_a_page_posted_with_an_old_token_still_gets_the_error_page(draft):
    application, client = draft
    data = {"csrf_token": "forged", "version": str(application.version), "title": "Forged"}
    response = client.post(f"/applications/{application.id}", data=data, csrf=False)
    assert response.status_code == 400 and not response.is_json
    assert "expired" in response.get_data(as_text=True)
