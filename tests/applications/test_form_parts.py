"""The application form in parts: each part a page of its own, saved on its own, so that a
volunteer on a slow phone loads and sends one part at a time. The overview lists the
parts with what each still needs; the whole form stays one page at ``?part=all``."""

from __future__ import annotations

import re

import pytest

from grants.extensions import db
from grants.models import Application
from tests.applications.test_applications import FORM, _start
from tests.clients import text_of
from tests.fixtures.programme import make_call

PROJECT = {name: FORM[name] for name in ("title", "summary", "objectives", "sector", "country")}


@pytest.fixture
def member(world, login):
    return login(world.applicant)


@pytest.fixture
def draft(world, member) -> Application:
    return _start(member, make_call(world, code="SN-EMP-2027"))


def _post(member, draft, part: str | None, **fields):
    data = {"version": str(draft.version), **fields}
    if part is not None:
        data["part"] = part
    return member.post(f"/applications/{draft.id}", data=data)


def test_starting_opens_the_first_part_alone(world, member):
    call = make_call(world, code="SN-EMP-2027")
    response = member.post(f"/calls/{call.code}/apply")
    assert response.status_code == 302
    assert response.location.endswith("?part=project")
    assert response.get_data() == b""  # a redirect carries no page
    page = member.get(response.location).get_data(as_text=True)
    assert 'id="title"' in page and 'name="budget_lines-0-category"' not in page
    assert 'name="sdg_targets"' not in page and 'id="documents"' not in page
    text = text_of(member.get(response.location))
    assert "is started. Save it as often as you like." in text
    assert "Part 1 of 5: The project" in text
    for part in ("Beneficiaries and goals", "Partners and team", "Budget and co-financing"):
        assert part in text
    assert 'aria-current="step">The project' in page


def test_a_part_saves_its_fields_and_leaves_the_others_as_saved(member, draft):
    assert _post(member, draft, None, **FORM).status_code == 303  # the whole form
    db.session.refresh(draft)
    lines = [line.description for line in draft.budget_lines]
    response = _post(member, draft, "project", **{**PROJECT, "title": "Atelier de couture"})
    assert response.status_code == 303
    assert response.location.endswith(f"/applications/{draft.id}?part=project")
    db.session.refresh(draft)
    assert draft.title == "Atelier de couture"
    assert [line.description for line in draft.budget_lines] == lines
    assert draft.beneficiaries_count == 40 and draft.locality == "Thiès"


def test_no_target_ticked_in_the_goals_part_clears_them_and_only_them(member, draft):
    _post(member, draft, None, **FORM, sdg_targets=["8.6", "4.4"])
    db.session.refresh(draft)
    assert sorted(draft.sdg_targets) == ["4.4", "8.6"]
    _post(member, draft, "goals", beneficiaries_count="40")
    db.session.refresh(draft)
    assert draft.sdg_targets == [] and draft.title == FORM["title"]


def test_save_and_continue_goes_to_the_next_part_then_to_the_submission(member, draft):
    response = _post(member, draft, "project", **{**PROJECT, "continue": "1"})
    assert response.location.endswith("?part=goals")
    db.session.refresh(draft)
    response = _post(member, draft, "budget", **{"continue": "1", "budget_currency": "XOF"})
    assert response.status_code == 303
    assert response.location.endswith(f"/applications/{draft.id}#checklist")


def test_a_refused_part_is_shown_again_with_its_reason_and_nothing_saved(member, draft):
    version = draft.version
    response = _post(member, draft, "project", **{**PROJECT, "duration_months": "douze"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="duration_months-error"' in page and 'value="douze"' in page
    assert 'name="budget_lines-0-category"' not in page  # the same part, not the whole form
    db.session.refresh(draft)
    assert draft.version == version and draft.title == ""


def test_an_unknown_part_is_a_page_that_does_not_exist(member, draft):
    assert member.get(f"/applications/{draft.id}?part=appendix").status_code == 404
    version = draft.version
    assert _post(member, draft, "appendix", title="Lost").status_code == 404
    db.session.refresh(draft)
    assert draft.version == version and draft.title == ""


def test_adding_a_line_without_javascript_shows_the_budget_part_again(member, draft):
    response = _post(member, draft, "budget", add_line="1", budget_currency="XOF")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'name="budget_lines-1-category"' in page and 'id="title"' not in page


def test_the_overview_says_what_each_part_still_needs(member, draft):
    _post(member, draft, "project", **PROJECT)
    db.session.refresh(draft)
    text = text_of(member.get(f"/applications/{draft.id}"))
    page = member.get(f"/applications/{draft.id}").get_data(as_text=True)
    assert "Before you can submit" in text and "Documents" in text
    assert "to complete" in text  # the project misses its place, dates and more
    checklist = page[page.index('id="checklist-items"') :]
    assert f'href="/applications/{draft.id}?part=project">These parts are missing' in checklist
    assert 'id="application-form"' not in page and "form.js" not in page


def test_the_whole_form_on_one_page_saves_as_before(member, draft):
    page = member.get(f"/applications/{draft.id}?part=all").get_data(as_text=True)
    for field in ('id="title"', 'name="sdg_targets"', 'name="budget_lines-0-category"'):
        assert field in page
    assert 'name="continue"' not in page
    response = _post(member, draft, "all", **FORM)
    assert response.status_code == 303 and response.location.endswith("?part=all")
    db.session.refresh(draft)
    assert draft.title == FORM["title"] and len(draft.budget_lines) == 2


def test_a_concept_note_is_one_part(world, member):
    call = make_call(world, code="MG-HEA-2099", two_stage=True, countries=["MG"])
    response = member.post(f"/calls/{call.code}/apply")
    assert response.location.endswith("?part=concept")
    text = text_of(member.get(response.location))
    assert "Part 1 of 2: Concept note" in text and "Budget and co-financing" not in text


def test_an_autosave_refused_for_another_part_says_which(member, draft):
    """The next part's page sends what was typed in the previous one: a refusal there
    links to the part holding the field."""
    response = member.post(
        f"/applications/{draft.id}",
        data={"version": str(draft.version), "changed": "duration_months", "duration_months": "x"},
        headers={"X-Requested-With": "autosave"},
    )
    assert response.status_code == 422
    assert response.get_json()["where"] == f"/applications/{draft.id}?part=project"


def _start_key(member, call) -> str:
    page = member.get(f"/calls/{call.code}").get_data(as_text=True)
    return re.search(r'name="start_key" value="([A-Za-z0-9_-]+)"', page).group(1)


def _drafts(world, call) -> int:
    return db.session.query(Application).filter_by(call_id=call.id).count()


def test_the_call_pages_start_answers_with_the_first_part_and_is_safe_to_repeat(world, member):
    """The call page's form carries a one-time key: its answer is the first part itself
    (no redirect, a round trip less on a slow phone), and the same POST again (a second
    tap, a reload) opens the same draft rather than starting another."""
    call = make_call(world, code="SN-EMP-2027")
    key = _start_key(member, call)
    assert key != _start_key(member, call)  # each showing of the page has its own
    response = member.post(f"/calls/{call.code}/apply", data={"start_key": key})
    assert response.status_code == 200
    draft = db.session.query(Application).filter_by(call_id=call.id).one()
    page = response.get_data(as_text=True)
    address = f"/applications/{draft.id}?part=project"
    # The form posts to the draft and gives the page the draft's address (form.js).
    assert f'action="{address}" data-page-url="{address}"' in page
    assert "is started. Save it as often as you like." in text_of(response)
    assert 'name="next" value="/applications/' in page  # the language switch comes back here
    assert 'name="version" type="hidden" value="1"' in page  # the saved draft, not the POST
    saved = member.post(address, data={**PROJECT, "version": "1", "part": "project"})
    assert saved.status_code == 303, text_of(saved)
    again = member.post(f"/calls/{call.code}/apply", data={"start_key": key})
    assert again.status_code == 200 and f'data-page-url="{address}"' in again.get_data(True)
    assert _drafts(world, call) == 1
    # A new showing of the call page starts a new draft, as before.
    member.post(f"/calls/{call.code}/apply", data={"start_key": _start_key(member, call)})
    assert _drafts(world, call) == 2


@pytest.mark.parametrize("key", ["short", "x" * 33, "with spaces in it here", "é" * 20])
def test_a_malformed_start_key_is_refused_and_starts_nothing(world, member, key):
    call = make_call(world, code="SN-EMP-2027")
    response = member.post(f"/calls/{call.code}/apply", data={"start_key": key})
    assert response.status_code in (400, 422)
    assert "This start of an application is not valid. Open the call again." in text_of(response)
    world.applicant.locale = "fr"
    db.session.commit()
    in_french = member.post(f"/calls/{call.code}/apply", data={"start_key": key})
    assert "Ce lancement de candidature n’est pas valide. Rouvrez l’appel." in text_of(in_french)
    assert _drafts(world, call) == 0


def test_a_start_key_someone_else_used_is_refused(world, member, login):
    call = make_call(world, code="SN-EMP-2027")
    key = _start_key(member, call)
    assert member.post(f"/calls/{call.code}/apply", data={"start_key": key}).status_code == 200
    other = login(world.outsider)  # a member of another association
    response = other.post(f"/calls/{call.code}/apply", data={"start_key": key})
    assert response.status_code == 409
    assert "This start of an application was already used." in text_of(response)
    assert _drafts(world, call) == 1
