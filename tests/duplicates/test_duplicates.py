"""The duplicate and double-funding check: the demo's pair flagged on both databases and
unrelated projects not, the officers' verdicts kept in the history, the warning before an
award, who sees it, bad input refused with a sentence while nothing changes, and a lookup
whose cost does not grow with the number of applications."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import Application, Award, HistoryEntry, Partner
from grants.models.audit import AuditRow
from grants.models.duplicates import DuplicateProfile, DuplicateVerdict
from grants.roles import ADMIN, APPLICANT, EVALUATOR, FINANCE_OFFICER, PROGRAMME_OFFICER
from grants.services import duplicates as service
from grants.services.errors import Forbidden, InvalidInput
from tests.fixtures.people import make_association
from tests.fixtures.programme import make_application, make_call
from tests.queries import statements


def _project(application: Application, title: str, summary: str, locality: str, **fields):
    application.title, application.summary, application.locality = title, summary, locality
    for name, value in fields.items():
        setattr(application, name, value)
    db.session.flush()
    return application


WELL = (
    "Forage et château d'eau solaire à Ndiaganiao",
    "Creuser un forage équipé d'une pompe solaire et d'un château d'eau pour les 3 000 "
    "habitants de Ndiaganiao, avec un comité de gestion formé.",
    "Ndiaganiao",
)
WELL_AGAIN = (
    "Château d'eau solaire et forage - Ndiaganiao",
    "Creuser un forage avec pompe solaire et château d'eau pour les 3 000 habitants de "
    "Ndiaganiao et former un comité de gestion de l'eau.",
    "Ndiaganiao",
)
UNRELATED = (
    "Digital skills for young women in Ziguinchor",
    "A training centre teaching coding and office software to 60 young women, with "
    "internships at local businesses.",
    "Ziguinchor",
)


@pytest.fixture
def pair(world):
    """Two associations submitting the same village's well, and an unrelated project."""
    call = make_call(world)
    other_call = make_call(world)
    rivals = make_association(world.outsider, name="Ressortissants de Ndiaganiao", state="verified")
    first = _project(make_application(world, call, state="submitted"), *WELL)
    second = _project(
        make_application(world, other_call, state="submitted", association=rivals), *WELL_AGAIN
    )
    unrelated = _project(make_application(world, call, state="submitted"), *UNRELATED)
    return first, second, unrelated


def _ids(found) -> list[int]:
    return [s.application.id for s in found.similar]


# --- finding ------------------------------------------------------------------------------


def test_the_same_village_project_by_two_associations_is_flagged_and_unrelated_is_not(world, pair):
    first, second, unrelated = pair
    found = service.check(world.officer, first)
    assert _ids(found) == [second.id]
    assert found.similar[0].similarity >= 80
    assert not found.similar[0].same_association
    assert unrelated.id not in _ids(service.check(world.officer, second))
    assert first.id not in _ids(service.check(world.officer, unrelated))


def test_the_demo_pair_is_flagged(app):
    from grants.models import User
    from grants.services.demo import seed

    seed()
    officer = db.session.scalar(select(User).filter_by(email="officer@demo.example.org"))
    one, two = db.session.scalars(
        select(Application)
        .where(Application.reference.in_(["MG-HEA-2027-0901", "MG-HEA-2027-0902"]))
        .order_by(Application.reference)
    ).all()
    found = service.check(officer, one)
    assert found.similar[0].application.id == two.id and found.similar[0].similarity >= 80
    assert service.check(officer, two).similar[0].application.id == one.id


def test_profiles_follow_each_change_in_the_same_transaction(world, pair):
    first, second, _unrelated = pair
    draft = make_application(world, first.call, state="draft")
    assert db.session.get(DuplicateProfile, draft.id) is None  # drafts are not compared
    first.title = "Mutuelle de santé des artisans de Kaolack"
    first.summary = "Une mutuelle de santé pour 400 artisans et leurs familles."
    first.locality = "Kaolack"
    db.session.flush()
    assert second.id not in _ids(service.check(world.officer, first))
    second.partners = [Partner(position=1, name="Mairie de Ndiaganiao", country="SN")]
    db.session.flush()
    assert db.session.get(DuplicateProfile, second.id).partners == "mairie de ndiaganiao"


# --- the verdict --------------------------------------------------------------------------


@pytest.mark.parametrize("verdict", ["duplicate", "not_duplicate"])
def test_an_officer_records_a_verdict_kept_in_both_histories(world, pair, login, verdict):
    first, second, _unrelated = pair
    officer = login(world.officer)
    page = officer.get(f"/applications/{first.id}").get_data(as_text=True)
    assert 'id="duplicates"' in page and second.reference in page and "% alike" in page
    response = officer.post(
        f"/applications/{first.id}/duplicates",
        data={"other_id": second.id, "verdict": verdict, "comment": "Same well, same village."},
    )
    assert response.status_code == 303
    row = db.session.scalar(select(DuplicateVerdict))
    assert (row.first_id, row.second_id, row.verdict) == (
        min(first.id, second.id),
        max(first.id, second.id),
        verdict,
    )
    entries = db.session.scalars(
        select(HistoryEntry).where(HistoryEntry.transition == verdict).order_by(HistoryEntry.id)
    ).all()
    assert {entry.entity_id for entry in entries} == {first.id, second.id}
    assert all("Same well, same village." in entry.comment for entry in entries)
    assert all(entry.actor_id == world.officer.id for entry in entries)
    audited = db.session.scalar(
        select(AuditRow).where(AuditRow.kind == "application.duplicate_verdict")
    )
    assert (audited.record_id, audited.actor_id) == (first.id, world.officer.id)
    assert audited.changes["verdict"] == verdict and audited.note == "Same well, same village."
    assert audited.changes["other_reference"] == second.reference
    page = officer.get(f"/applications/{second.id}").get_data(as_text=True)
    label = "Recorded as a duplicate" if verdict == "duplicate" else "Recorded as not a duplicate"
    assert label in page and "Same well, same village." in page


def test_a_second_verdict_replaces_the_first_and_both_stay_in_the_history(world, pair):
    first, second, _unrelated = pair
    service.record_verdict(world.officer, first, second.id, "duplicate", "Looks the same.")
    service.record_verdict(world.officer, second, first.id, "not_duplicate", "Two wells.")
    assert db.session.scalar(select(func.count(DuplicateVerdict.id))) == 1
    assert db.session.scalar(select(DuplicateVerdict.verdict)) == "not_duplicate"
    assert (
        db.session.scalar(
            select(func.count(HistoryEntry.id)).where(
                HistoryEntry.transition.in_(["duplicate", "not_duplicate"])
            )
        )
        == 4
    )


def _nothing_written() -> tuple[int, int]:
    audited = db.session.scalar(
        select(func.count(AuditRow.id)).where(AuditRow.kind == "application.duplicate_verdict")
    )
    assert audited == 0
    return (
        db.session.scalar(select(func.count(DuplicateVerdict.id))),
        db.session.scalar(
            select(func.count(HistoryEntry.id)).where(
                HistoryEntry.transition.in_(["duplicate", "not_duplicate"])
            )
        ),
    )


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"verdict": "duplicate", "comment": " "}, "comment", "Say why in a comment"),
        ({"verdict": "maybe", "comment": "Hm."}, "verdict", "Choose “duplicate” or"),
        ({"verdict": "duplicate", "comment": "x" * 5001}, "comment", "at most"),
        (
            {"verdict": "duplicate", "comment": "Same.", "other_id": 999999},
            "other_id",
            "Choose one of the similar applications listed.",
        ),
        (
            {"verdict": "duplicate", "comment": "Same.", "other_id": "self"},
            "other_id",
            "Choose one of the similar applications listed.",
        ),
    ],
)
def test_bad_input_is_refused_with_a_sentence_and_nothing_changes(
    world, pair, login, form, field, message
):
    first, second, _unrelated = pair
    other = form.get("other_id", second.id)
    other = first.id if other == "self" else other
    with pytest.raises(InvalidInput) as refused:
        service.record_verdict(world.officer, first, other, form["verdict"], form["comment"])
    assert message in " ".join(refused.value.errors[field])
    assert _nothing_written() == (0, 0)
    officer = login(world.officer)
    response = officer.post(
        f"/applications/{first.id}/duplicates",
        data={**form, "other_id": other},
        follow_redirects=True,
    )
    assert message in response.get_data(as_text=True)
    assert _nothing_written() == (0, 0)


def test_an_unknown_application_is_not_found_and_nothing_changes(world, pair, login):
    _first, second, _unrelated = pair
    response = login(world.officer).post(
        "/applications/999999/duplicates",
        data={"other_id": second.id, "verdict": "duplicate", "comment": "Same."},
    )
    assert response.status_code == 404
    assert _nothing_written() == (0, 0)


@pytest.mark.parametrize("state", ["draft", "awarded", "rejected", "withdrawn"])
def test_no_verdict_outside_screening_to_decision(world, pair, login, state):
    first, second, _unrelated = pair
    first.state = state
    db.session.flush()
    with pytest.raises(InvalidInput, match="between the screening and the committee"):
        service.record_verdict(world.officer, first, second.id, "duplicate", "Same.")
    response = login(world.officer).post(
        f"/applications/{first.id}/duplicates",
        data={"other_id": second.id, "verdict": "duplicate", "comment": "Same."},
        follow_redirects=True,
    )
    assert "between the screening and the committee" in response.get_data(as_text=True)
    assert _nothing_written() == (0, 0)


# --- who sees it --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "sees", "records"),
    [
        (PROGRAMME_OFFICER, True, 303),
        (ADMIN, True, 403),
        (APPLICANT, False, 403),
        (EVALUATOR, False, 404),
        (FINANCE_OFFICER, False, 404),
    ],
)
def test_only_the_programme_office_sees_the_check(world, pair, login, role, sees, records):
    first, second, _unrelated = pair
    person = world.person(role)
    client = login(person)
    page = client.get(f"/applications/{first.id}")
    if sees or role == APPLICANT:
        text = page.get_data(as_text=True)
        assert ('id="duplicates"' in text) is sees
        assert (second.reference in text) is sees
    else:
        assert page.status_code == 404
    if not sees:
        with pytest.raises(Forbidden):
            service.check(person, first)
    response = client.post(
        f"/applications/{first.id}/duplicates",
        data={"other_id": second.id, "verdict": "duplicate", "comment": "Same."},
    )
    assert response.status_code == records
    if records != 303:
        assert _nothing_written() == (0, 0)


# --- double funding -----------------------------------------------------------------------


def _hold_grant(world, application: Application, state: str = "active") -> Award:
    application.state = "awarded"
    award = Award(
        application_id=application.id,
        association_id=application.association_id,
        amount=Decimal("30000"),
        currency="USD",
        state=state,
    )
    db.session.add(award)
    db.session.flush()
    return award


def test_an_award_is_warned_of_a_grant_held_in_the_same_locality(world, pair, login):
    first, second, unrelated = pair
    _hold_grant(world, first)
    second.state = "reviewed"
    unrelated.state = "reviewed"
    db.session.flush()
    found = service.check(world.officer, second)
    assert [s.application.id for s in found.double_funding] == [first.id]
    assert found.double_funding[0].same_locality
    warnings = service.double_funding(world.officer, [second, unrelated])
    assert list(warnings) == [second.id]
    assert warnings[second.id][0].application.id == first.id
    officer = login(world.officer)
    page = officer.get(f"/applications/{second.id}").get_data(as_text=True)
    assert "Possible double funding" in page
    ranking = officer.get(f"/office/calls/{second.call.code}/ranking/").get_data(as_text=True)
    assert "Possible double funding" in ranking and first.reference in ranking


def test_a_grant_of_the_same_association_warns_and_a_closed_one_does_not(world):
    call = make_call(world)
    earlier = _project(make_application(world, call, state="submitted"), *WELL)
    again = _project(
        make_application(world, make_call(world), state="reviewed"),
        *WELL_AGAIN[:2],
        "Ndiaganiao Nord",
    )
    award = _hold_grant(world, earlier)
    warned = service.double_funding(world.officer, [again])[again.id]
    assert warned[0].same_association and not warned[0].same_locality
    award.state = "completed"
    db.session.flush()
    assert service.double_funding(world.officer, [again]) == {}
    assert service.double_funding(world.applicant, [again]) == {}


# --- cost ---------------------------------------------------------------------------------


def _lookup_cost(world, application_id: int):
    """The statements of one lookup, with the person and application already loaded."""
    db.session.expire_all()
    application = db.session.get(Application, application_id)
    assert world.officer.role_names and application.association
    with statements() as seen:
        found = service.check(world.officer, application)
    return len(seen), found


def test_the_lookup_costs_the_same_whatever_the_number_of_applications(world, pair):
    first, _second, _unrelated = pair
    few, _found = _lookup_cost(world, first.id)
    rivals = make_association(world.outsider, name="Others", state="verified")
    call = make_call(world)
    for number in range(30):
        _project(
            make_application(world, call, state="submitted", association=rivals),
            f"Forage solaire numéro {number} à Ndiaganiao",
            WELL[1],
            "Ndiaganiao",
        )
    many, found = _lookup_cost(world, first.id)
    assert len(found.similar) == service.SHOWN
    assert many == few


def test_the_screening_list_marks_applications_recorded_as_duplicates(world, pair, login):
    first, second, unrelated = pair
    service.record_verdict(world.officer, first, second.id, "duplicate", "Same well.")
    page = login(world.officer).get(f"/calls/{first.call.code}/applications")
    text = page.get_data(as_text=True)
    row = text[text.index(first.reference) :].split("</tr>")[0]
    assert "duplicate" in row
    other = text[text.index(unrelated.reference) :].split("</tr>")[0]
    assert "duplicate" not in other
    assert service.recorded_duplicates(world.applicant, [first.id]) == set()


# --- through the API ----------------------------------------------------------------------


def _bearer(person) -> dict[str, str]:
    from grants.services.accounts import issue_token

    return {"Authorization": f"Bearer {issue_token(person, person, 'test', 30)}"}


def test_the_api_lists_similar_applications_and_records_a_verdict(world, pair, client):
    first, second, _unrelated = pair
    headers = _bearer(world.officer)
    listed = client.get(f"/api/v1/applications/{first.id}/duplicates", headers=headers)
    assert listed.status_code == 200
    similar = listed.get_json()["similar"]
    assert similar[0]["application_id"] == second.id and similar[0]["similarity"] >= 80
    refused = client.post(
        f"/api/v1/applications/{first.id}/duplicates",
        json={"other_id": second.id, "verdict": "duplicate", "comment": ""},
        headers=headers,
    )
    assert refused.status_code == 422 and "comment" in refused.get_json()["errors"]
    assert _nothing_written() == (0, 0)
    recorded = client.post(
        f"/api/v1/applications/{first.id}/duplicates",
        json={"other_id": second.id, "verdict": "duplicate", "comment": "Same well."},
        headers=headers,
    )
    assert recorded.status_code == 201 and recorded.get_json()["verdict"] == "duplicate"
    again = client.get(f"/api/v1/applications/{first.id}/duplicates", headers=headers)
    assert again.get_json()["similar"][0]["verdict_comment"] == "Same well."


@pytest.mark.parametrize(("role", "status"), [(APPLICANT, 403), (EVALUATOR, 404), (ADMIN, 200)])
def test_the_api_shows_the_check_to_the_programme_office_only(world, pair, client, role, status):
    first, _second, _unrelated = pair
    response = client.get(
        f"/api/v1/applications/{first.id}/duplicates", headers=_bearer(world.person(role))
    )
    assert response.status_code == status
