"""The staff search: found without accents or case in any of the four languages, kept up
to date in the same transaction as the change, limited by the policy layer for every
role, and bad input answered with a sentence while nothing changes."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from grants.extensions import db
from grants.models.search import SearchEntry
from grants.roles import ADMIN, APPLICANT, EVALUATOR, FINANCE_OFFICER, PROGRAMME_OFFICER
from grants.services import search as service
from grants.services.errors import Forbidden, InvalidInput
from grants.text_search import excerpt, fold, marked, searchable, words
from tests.fixtures.people import make_association
from tests.fixtures.programme import make_application, make_award, make_call
from tests.queries import statements


def _found(person, query, **filters) -> set[tuple[str, int]]:
    return {(r.kind, r.record_id) for r in service.search(person, query, **filters).results}


@pytest.fixture
def programme(world):
    call = make_call(world)
    submitted = make_application(world, call, state="submitted")
    draft = make_application(world, call, state="draft")
    draft.summary = "Bakery cooperative in Kaolack"
    lyon = make_association(world.outsider, name="Association Rabita Lyon", state="verified")
    other = make_application(world, call, state="in_review", association=lyon)
    other.title = "École numérique à Ziguinchor"
    db.session.flush()
    return call, submitted, draft, other, lyon


# --- folding and marking ------------------------------------------------------------------


def test_folding_reads_accents_case_and_arabic_diacritics_alike():
    assert fold("SÉNÉGAL") == fold("Sénégal") == fold("senegal") == "senegal"
    assert fold("مَدْرَسَة") == fold("مدرسه")
    assert fold("Straße") == "strasse"
    assert words("  Sénégal, l'école  sénégal ") == ["senegal", "l", "ecole"]
    assert searchable("SN-2026-0012: Thiès") == "sn 2026 0012 thies"


def test_marks_the_words_found_on_the_text_as_written():
    assert str(marked("Jeunes du Sénégal & <Thiès>", ["senegal", "thies"])) == (
        "Jeunes du <mark>Sénégal</mark> &amp; &lt;<mark>Thiès</mark>&gt;"
    )
    # Only where a word begins: "gal" is no word of "Sénégal".
    assert "<mark>" not in str(marked("Sénégal", ["gal"]))
    long = "word " * 80 + "the Sénégal workshop " + "word " * 80
    piece = str(excerpt(long, ["senegal"], width=60))
    assert "<mark>Sénégal</mark>" in piece and piece.startswith("… ") and piece.endswith(" …")


# --- finding ------------------------------------------------------------------------------


def test_finds_applications_by_reference_title_and_summary_without_accents(world, programme):
    call, submitted, draft, other, lyon = programme
    officer = world.officer
    assert ("application", other.id) in _found(officer, "ecole NUMERIQUE")
    assert ("application", submitted.id) in _found(officer, submitted.reference)
    assert ("application", submitted.id) in _found(officer, submitted.reference[:-2])
    assert ("application", submitted.id) in _found(officer, "trains employs")
    assert _found(officer, "trains nosuchword") == set()


def test_a_country_is_found_by_its_name_in_any_language(world, programme):
    call, submitted, draft, other, lyon = programme
    for query in ("senegal", "Sénégal", "السنغال", "SN"):
        found = _found(world.officer, query, kind="application")
        assert ("application", submitted.id) in found, query
    assert ("association", lyon.id) in _found(world.officer, "sénégal", kind="association")
    assert ("association", lyon.id) in _found(world.officer, "france rabita")


def test_a_draft_is_found_by_its_title_not_by_the_text_still_being_written(world, programme):
    call, submitted, draft, other, lyon = programme
    assert ("application", draft.id) in _found(world.officer, draft.reference)
    assert ("application", draft.id) not in _found(world.officer, "bakery kaolack")


def test_the_index_follows_each_change_in_the_same_transaction(world, programme):
    call, submitted, draft, other, lyon = programme
    other.title = "Clinique mobile de Kolda"
    db.session.flush()
    assert ("application", other.id) in _found(world.officer, "kolda")
    assert ("application", other.id) not in _found(world.officer, "ziguinchor")
    lyon.name = "Rabita Villeurbanne"
    db.session.flush()
    # The association's new name finds it and the applications that show its name.
    found = _found(world.officer, "villeurbanne")
    assert {("association", lyon.id), ("application", other.id)} <= found
    draft.state = "submitted"
    db.session.flush()
    assert ("application", draft.id) in _found(world.officer, "bakery kaolack")


def test_an_autosave_of_a_drafts_summary_writes_nothing_to_the_index(world, programme):
    call, submitted, draft, other, lyon = programme
    before = db.session.scalar(select(SearchEntry.updated_at).filter_by(record_id=draft.id))
    draft.summary = "Another summary, as typed"
    with statements() as seen:
        db.session.flush()
    assert seen and not any("search_entries" in statement for statement in seen)
    after = db.session.scalar(select(SearchEntry.updated_at).filter_by(record_id=draft.id))
    assert after == before


def test_filters_by_kind_call_state_and_country(world, programme):
    call, submitted, draft, other, lyon = programme
    other_call = make_call(world, countries=["ML"])
    mali = make_application(world, other_call, state="submitted")
    mali.country = "ML"
    db.session.flush()
    officer = world.officer
    assert ("application", mali.id) not in _found(officer, "tailors", call_id=call.id)
    assert ("application", mali.id) in _found(officer, "tailors", call_id=other_call.id)
    assert _found(officer, "tailors", country="ml") == {("application", mali.id)}
    in_review = _found(officer, "thies", state="in_review", kind="application")
    assert in_review == {("application", other.id)}


def test_grants_and_people_are_found(world, programme):
    call, submitted, draft, other, lyon = programme
    award = make_award(world)
    db.session.flush()
    reference = award.application.reference
    assert ("award", award.id) in _found(world.finance, reference, kind="award")
    world.officer.full_name = "Aïssatou Ndiaye"
    db.session.flush()
    assert ("person", world.officer.id) in _found(world.admin, "aissatou")
    assert ("person", world.officer.id) in _found(world.admin, world.officer.email)


# --- who sees what ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "kinds"),
    [
        (ADMIN, {"application", "association", "award", "person"}),
        (PROGRAMME_OFFICER, {"application", "association", "award"}),
        (FINANCE_OFFICER, {"association", "award"}),
    ],
)
def test_results_hold_only_what_the_person_may_see(world, programme, role, kinds):
    make_award(world)
    person = world.person(role)
    person.full_name = "Searchable Person"
    db.session.flush()
    found = set()
    for query in ("senegal", "searchable", "association", "thies"):
        found |= {kind for kind, _ in _found(person, query)}
    assert found == kinds


@pytest.mark.parametrize("role", [APPLICANT, EVALUATOR])
def test_members_and_evaluators_cannot_search(world, role):
    with pytest.raises(Forbidden):
        service.search(world.person(role), "senegal")


def test_the_page_searches_and_marks_what_it_found(world, programme, login):
    call, submitted, draft, other, lyon = programme
    client = login(world.officer)
    page = client.get("/search?q=ECOLE+numerique").get_data(as_text=True)
    assert "<mark>École</mark> <mark>numérique</mark>" in page
    assert f"/applications/{other.id}" in page
    assert 'id="site-search"' in client.get("/calls/").get_data(as_text=True)


@pytest.mark.parametrize("role", [APPLICANT, EVALUATOR])
def test_the_page_is_refused_to_members_and_evaluators(world, login, role):
    response = login(world.person(role)).get("/search?q=senegal")
    assert response.status_code == 403
    assert "staff" in response.get_data(as_text=True)
    assert 'id="site-search"' not in login(world.person(role)).get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "field", "says"),
    [
        ("q=%21%21%21", "q", "at least one word"),
        ("q=senegal&kind=budgets", "kind", "kinds offered"),
        ("q=senegal&country=Senegal", "country", "two-letter code"),
        ("q=senegal&page=0", "page", "numbered from 1"),
    ],
)
def test_bad_input_is_answered_and_changes_nothing(world, programme, login, query, field, says):
    client = login(world.officer)
    entries = db.session.scalar(select(func.count(SearchEntry.id)))
    response = client.get(f"/search?{query}")
    assert response.status_code == 422
    assert says in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(SearchEntry.id))) == entries
    with pytest.raises(InvalidInput) as refused:
        service.search(world.officer, **_arguments(query))
    assert field in refused.value.errors


def _arguments(query: str) -> dict:
    from urllib.parse import parse_qsl

    values = dict(parse_qsl(query, keep_blank_values=True))
    out = {"query": values.pop("q")}
    if "page" in values:
        out["page"] = int(values.pop("page"))
    out.update(values)
    return out


def test_one_statement_however_many_results(world, programme):
    call = programme[0]
    for _ in range(3):
        make_application(world, call, state="submitted")
    db.session.flush()
    with statements() as few:
        service.search(world.officer, "tailors")
    for _ in range(12):
        make_application(world, call, state="submitted")
    db.session.flush()
    with statements() as many:
        page = service.search(world.officer, "tailors")
    assert len(page.results) >= 15
    assert len(many) == len(few) == 1


def test_rebuild_writes_every_entry_again(world, programme):
    connection = db.session.connection()
    written = service.rebuild(connection)
    assert written["application"] == db.session.scalar(
        select(func.count()).select_from(SearchEntry).filter_by(kind="application")
    )
    assert ("application", programme[3].id) in _found(world.officer, "ziguinchor")


def test_the_demo_finds_the_senegal_calls_work_typed_without_accents(app):
    from grants.models import Application, Association, Call, User
    from grants.services.demo import LYON, seed

    seed()
    officer = db.session.scalar(select(User).filter_by(email="officer@demo.example.org"))
    lyon = db.session.scalar(select(Association).filter_by(name=LYON))
    senegal = [
        application.id
        for application in db.session.scalars(select(Application).join(Call))
        if "SN" in application.call.countries
    ]
    # By kind: the associations and applications of the screening day fill more than
    # one page of every kind together.
    found = _found(officer, "senegal", kind="association") | _found(
        officer, "senegal", kind="application"
    )
    assert ("association", lyon.id) in found
    assert senegal and {("application", i) for i in senegal} <= found
