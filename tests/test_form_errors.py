"""Errors of rows in a table (budget lines, criteria, tranches) are sentences next to
their cell and in the summary, linked to the cell, in the reader's language: never the
Python data WTForms keeps them in."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import Application, Call
from tests.applications.test_applications import FORM, _start
from tests.applications.test_applications import call as call  # noqa: F401 (fixture)
from tests.calls.test_calls import SENEGAL
from tests.clients import text_of

PYTHON_DATA = re.compile(r"[{\[]'")


def _summary(html: str) -> str:
    found = re.search(r'<div class="error-summary".*?</div>', html, flags=re.S)
    assert found, "no error summary"
    return found.group(0)


def _cell_error(html: str, cell_id: str) -> str:
    found = re.search(rf'<span class="error" id="{cell_id}-error">([^<]*)</span>', html)
    assert found, f"no error next to {cell_id}"
    return found.group(1)


@pytest.fixture
def french_applicant(world, login):
    world.applicant.locale = "fr"
    db.session.flush()
    return login(world.applicant)


def test_a_bad_budget_line_is_explained_in_its_cell_and_linked_from_the_summary(
    french_applicant, call
):
    client = french_applicant
    application = _start(client, call)
    before = application.version
    response = client.post(
        f"/applications/{application.id}",
        data={
            **FORM,
            "version": str(application.version),
            "budget_lines-1-quantity": "-3",
            "budget_lines-1-unit_cost": "",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert not PYTHON_DATA.search(text_of(response)), text_of(response)
    assert _cell_error(html, "budget_lines-1-quantity") == "Ne doit pas être négatif."
    assert 'aria-describedby="budget_lines-1-quantity-error"' in html
    link = re.search(r'<a href="#budget_lines-1-quantity">([^<]*)</a>', _summary(html))
    assert link, "the summary does not link to the cell"
    assert link.group(1).startswith("Lignes du budget, ligne 2, Quantité : ")
    assert link.group(1).endswith("Ne doit pas être négatif.")
    db.session.expire_all()
    assert db.session.get(Application, application.id).version == before


def test_a_line_without_its_unit_cost_says_so_under_the_table_and_in_the_cell(
    french_applicant, call
):
    client = french_applicant
    application = _start(client, call)
    response = client.post(
        f"/applications/{application.id}",
        data={**FORM, "version": str(application.version), "budget_lines-1-unit_cost": ""},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    table_error = re.search(r'<p class="error" id="budget_lines-error">([^<]*)</p>', html)
    assert table_error, "no message under the budget"
    assert table_error.group(1) == (
        "Chaque ligne budgétaire doit comporter une quantité et un coût unitaire."
    )
    assert _cell_error(html, "budget_lines-1-unit_cost") == "Obligatoire pour cette ligne."
    assert 'href="#budget_lines"' in _summary(html)


@pytest.fixture
def french_officer(world, login):
    world.officer.locale = "fr"
    db.session.flush()
    return login(world.officer)


def test_bad_criteria_and_tranches_are_explained_per_row_in_french(french_officer):
    calls_before = db.session.scalar(select(func.count(Call.id)))
    response = french_officer.post(
        "/office/calls/new",
        data={
            **SENEGAL,
            "criteria-1-weight": "-5",
            "criteria-2-scale_min": "5",
            "criteria-2-scale_max": "3",
            "tranches-1-percentage": "abc",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    text = text_of(response)
    assert not PYTHON_DATA.search(text), text
    assert "{'" not in html
    scale = _cell_error(html, "criteria-2-scale_max")
    assert scale == "Doit être supérieure à la note la plus basse."
    weight = _cell_error(html, "criteria-1-weight")
    tranche = _cell_error(html, "tranches-1-percentage")
    assert weight and tranche
    summary = _summary(html)
    for anchor in ("criteria-1-weight", "criteria-2-scale_max", "tranches-1-percentage"):
        assert f'href="#{anchor}"' in summary
    assert "Grille, ligne 2" in summary
    assert "Tranches, ligne 2" in summary
    criteria_error = re.search(r'<p class="error" id="criteria-error">([^<]*)</p>', html)
    assert criteria_error and "note la plus basse" in criteria_error.group(1)
    assert db.session.scalar(select(func.count(Call.id))) == calls_before
