"""The autosave of a slow phone sends only the fields that changed: the rest is the saved
draft, and the whole is judged by the same rules as a full save. A refused change saves
nothing; a stale one is a conflict that says which version is current; a session that
ended is told apart from a lost connection."""

from __future__ import annotations

from decimal import Decimal

import pytest

from grants.extensions import db
from tests.applications.test_applications import FORM, _save, _start
from tests.applications.test_applications import call  # noqa: F401 (the fixture)

AUTOSAVE = {"X-Requested-With": "autosave", "Accept": "application/json"}


@pytest.fixture
def draft(world, login, call):
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
    assert "These documents are missing" in response.json["checklist"]
    assert response.json["ready"] is False


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
