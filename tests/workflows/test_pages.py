"""Lifecycles on the pages: diagrams for officers, buttons and history on a record."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from sqlalchemy import select

from grants.extensions import db
from grants.models import HistoryEntry
from tests.clients import text_of
from tests.fixtures.people import give_verification_documents, make_association, make_user
from workflows import MACHINES


def test_cli_prints_the_mermaid_of_the_application_machine(app):
    result = app.test_cli_runner().invoke(args=["workflows", "diagram", "application"])
    assert result.exit_code == 0
    assert result.output.startswith("stateDiagram-v2\n    [*] --> draft\n")
    assert "submitted --> eligible: mark_eligible (officer)" in result.output
    assert "in_review --> reviewed: complete_review (officer, system)" in result.output


def test_cli_svg_is_well_formed_and_names_every_state(app):
    runner = app.test_cli_runner()
    for name, machine in MACHINES.items():
        result = runner.invoke(args=["workflows", "diagram", name, "--format", "svg"])
        assert result.exit_code == 0
        root = ET.fromstring(result.output)
        texts = {element.text for element in root.iter("{http://www.w3.org/2000/svg}text")}
        assert {state.name for state in machine.states} <= texts


def test_cli_refuses_an_unknown_machine(app):
    result = app.test_cli_runner().invoke(args=["workflows", "diagram", "budget"])
    assert result.exit_code == 2 and "unknown lifecycle 'budget'" in result.output


def test_officers_read_every_lifecycle_as_a_diagram(as_role):
    _, client = as_role("programme_officer")
    index = text_of(client.get("/lifecycles/"))
    for name in MACHINES:
        assert name.replace("_", " ").capitalize() in index
        page = client.get(f"/lifecycles/{name}").get_data(as_text=True)
        assert "<svg" in page and "<script>" not in page
    tranche = text_of(client.get("/lifecycles/tranche"))
    assert "You requested this tranche" not in tranche  # guards are described, not raised
    assert "approve — finance" in tranche
    bank = text_of(client.get("/lifecycles/bank_change"))
    assert "approve — finance" in bank and "Approve the new details" in bank
    assert client.get("/lifecycles/budget").status_code == 404


def test_an_officer_verifies_an_association_from_its_page(as_role):
    officer, client = as_role("programme_officer")
    association = make_association(make_user("applicant"), state="pending")
    give_verification_documents(association)
    page = client.get(f"/associations/{association.id}").get_data(as_text=True)
    assert f"/transitions/association/{association.id}/verify" in page
    assert f"/transitions/association/{association.id}/reject" in page
    response = client.post(f"/transitions/association/{association.id}/verify")
    assert response.status_code == 303
    assert association.state == "verified"
    page = text_of(client.get(f"/associations/{association.id}"))
    assert "Verify (waiting for verification → verified)" in page
    assert officer.display_name in page


def test_rejecting_without_a_reason_says_so_and_changes_nothing(as_role):
    _, client = as_role("programme_officer")
    association = make_association(make_user("applicant"), state="pending")
    response = client.post(
        f"/transitions/association/{association.id}/reject", data={"comment": "   "}
    )
    assert response.status_code == 303
    page = text_of(client.get(response.location))
    assert "A reason is required." in page
    assert association.state == "pending"
    assert db.session.scalars(select(HistoryEntry)).all() == []


def test_members_see_the_history_but_no_verification_buttons(as_role):
    member, client = as_role("applicant")
    association = make_association(member, state="pending")
    page = client.get(f"/associations/{association.id}").get_data(as_text=True)
    assert "/transitions/association/" not in page
    assert client.post(f"/transitions/association/{association.id}/verify").status_code == 403
    assert association.state == "pending"


def test_a_button_needing_a_comment_is_enabled_with_its_comment_field(as_role):
    _, client = as_role("programme_officer")
    association = make_association(make_user("applicant"), state="pending")
    html = client.get(f"/associations/{association.id}").get_data(as_text=True)
    form = html[html.index(f"/transitions/association/{association.id}/reject") :]
    form = form[: form.index("</form>")]
    assert 'name="comment"' in form and "required" in form
    assert "disabled" not in form
