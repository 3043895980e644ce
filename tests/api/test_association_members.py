"""Associations through the API: registered with the page's checks, edited with the
version read, members listed, people invited by email and invitations accepted; other
associations stay out of reach."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import Association, Invitation, Membership
from tests.api.test_api import assert_error, bearer
from tests.fixtures.people import make_association, make_user

NEW = {
    "name": "Association des Sénégalais de Lyon",
    "registration_number": "W691234567",
    "registration_country": "FR",
    "residence_country": "FR",
    "countries_of_work": ["SN"],
    "founded_on": "2015-06-01",
    "contact_name": "Awa Ndiaye",
    "contact_email": "contact@asl.example.org",
    "description": "Training for young people in Thiès.",
    "working_languages": ["fr", "wo"],
}


def _count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def test_a_person_registers_an_association_and_becomes_its_founding_member(world, client):
    person = make_user("evaluator")
    created = client.post("/api/v1/associations", json=NEW, headers=bearer(person))
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert (body["name"], body["state"], body["founded_on"]) == (
        NEW["name"],
        "pending",
        "2015-06-01",
    )
    assert created.headers["ETag"] == f'"{body["version"]}"'
    association = db.session.get(Association, body["id"])
    assert [m.user_id for m in association.memberships] == [person.id]
    assert "applicant" in person.role_names  # as on the page: members apply


def test_bad_association_input_is_refused_field_by_field_and_nothing_is_stored(world, client):
    before = (_count(Association), _count(Membership))
    headers = bearer(world.applicant)
    refused = assert_error(
        client.post(
            "/api/v1/associations",
            json={
                **NEW,
                "registration_country": "ZZ",
                "countries_of_work": [],
                "contact_email": "not-an-email",
                "website": "example.org",
                "founded_on": "2999-01-01",
            },
            headers=headers,
        ),
        422,
        "invalid",
    )
    assert set(refused["errors"]) == {
        "registration_country",
        "countries_of_work",
        "contact_email",
        "website",
        "founded_on",
    }
    assert refused["errors"]["countries_of_work"] == ["Choose at least one country."]
    missing = assert_error(
        client.post("/api/v1/associations", json={"name": "X", "extra": 1}, headers=headers),
        422,
        "invalid",
    )
    assert {"registration_number", "description", "extra"} <= set(missing["errors"])
    taken = assert_error(
        client.post(
            "/api/v1/associations", json={**NEW, "name": world.association.name}, headers=headers
        ),
        422,
        "invalid",
    )
    assert taken["errors"] == {"name": ["An association with this name is already registered."]}
    assert (_count(Association), _count(Membership)) == before


def test_members_edit_with_the_version_read(world, client):
    association = world.association
    url = f"/api/v1/associations/{association.id}"
    headers = bearer(world.applicant)
    assert_error(
        client.patch(url, json={"description": "New"}, headers=headers),
        428,
        "precondition_required",
    )
    version = association.version
    saved = client.patch(
        url,
        json={"description": "Now also in Saint-Louis.", "countries_of_work": ["SN", "ML"]},
        headers={**headers, "If-Match": f'"{version}"'},
    )
    assert saved.status_code == 200, saved.get_data(as_text=True)
    assert saved.get_json()["countries_of_work"] == ["SN", "ML"]
    assert association.description == "Now also in Saint-Louis."
    assert association.version == version + 1
    stale = client.patch(url, json={"version": version, "description": "Old"}, headers=headers)
    assert_error(stale, 409, "conflict")
    bad = client.patch(
        url,
        json={"version": association.version, "website": "nope", "working_languages": ["xx"]},
        headers=headers,
    )
    assert set(assert_error(bad, 422, "invalid")["errors"]) == {"website", "working_languages"}
    assert association.description == "Now also in Saint-Louis." and association.website == ""


def test_only_members_edit_and_other_associations_are_not_found(world, client):
    association = world.association
    body = {"version": association.version, "description": "Taken over"}
    url = f"/api/v1/associations/{association.id}"
    assert_error(client.patch(url, json=body, headers=bearer(world.outsider)), 404, "not_found")
    assert_error(client.patch(url, json=body, headers=bearer(world.officer)), 403, "forbidden")
    assert_error(client.get(f"{url}/members", headers=bearer(world.outsider)), 404, "not_found")
    assert_error(
        client.post(
            f"{url}/invitations", json={"email": "x@example.org"}, headers=bearer(world.outsider)
        ),
        404,
        "not_found",
    )
    assert_error(
        client.post(
            f"{url}/invitations", json={"email": "x@example.org"}, headers=bearer(world.officer)
        ),
        403,
        "forbidden",
    )
    assert association.description != "Taken over"
    assert _count(Invitation) == 0


def test_members_are_a_page_with_addresses_for_fellow_members_only(world, client):
    association = make_association(world.applicant, *(make_user() for _ in range(2)))
    url = f"/api/v1/associations/{association.id}/members?per_page=2"
    first = client.get(url, headers=bearer(world.applicant)).get_json()
    assert (first["total"], len(first["items"]), first["total_estimated"]) == (3, 2, False)
    assert all(item["email"] for item in first["items"])
    second = client.get(first["next"], headers=bearer(world.applicant)).get_json()
    assert len(second["items"]) == 1 and second["next"] is None
    seen = [item["user_id"] for item in first["items"] + second["items"]]
    assert sorted(seen) == sorted(m.user_id for m in association.memberships)
    staff = client.get(url, headers=bearer(world.officer)).get_json()
    assert [item["email"] for item in staff["items"]] == [None, None]


def test_an_invitation_is_emailed_listed_and_accepted(world, client, mailbox):
    association = world.association
    invited = client.post(
        f"/api/v1/associations/{association.id}/invitations",
        json={"email": "Moussa@Example.org"},
        headers=bearer(world.applicant),
    )
    assert invited.status_code == 201, invited.get_data(as_text=True)
    assert invited.get_json()["email"] == "moussa@example.org"
    [message] = mailbox.to("moussa@example.org")
    assert association.name in str(message["Subject"])
    token = re.search(r"/invitations/(\S+)", mailbox.body(message)).group(1)

    moussa = make_user(email="moussa@example.org")
    headers = bearer(moussa)
    pending = client.get("/api/v1/invitations", headers=headers).get_json()
    assert [i["association_name"] for i in pending["items"]] == [association.name]
    assert pending["items"][0]["invited_by"] == world.applicant.display_name
    # Someone else holding the link cannot use it.
    stranger = assert_error(
        client.post(f"/api/v1/invitations/{token}/acceptance", headers=bearer(world.outsider)),
        409,
        "conflict",
    )
    assert "moussa@example.org" in stranger["message"]
    assert not any(m.association_id == association.id for m in world.outsider.memberships)

    joined = client.post(f"/api/v1/invitations/{token}/acceptance", headers=headers)
    assert joined.status_code == 200 and joined.get_json()["id"] == association.id
    assert db.session.scalar(
        select(Membership).where(
            Membership.user_id == moussa.id, Membership.association_id == association.id
        )
    )
    assert client.get("/api/v1/invitations", headers=headers).get_json()["items"] == []
    used = client.post(f"/api/v1/invitations/{token}/acceptance", headers=headers)
    assert_error(used, 409, "conflict")


def test_bad_invitations_are_refused_and_nothing_is_sent(world, client, mailbox):
    url = f"/api/v1/associations/{world.association.id}/invitations"
    headers = bearer(world.applicant)
    malformed = assert_error(
        client.post(url, json={"email": "moussa"}, headers=headers), 422, "invalid"
    )
    assert set(malformed["errors"]) == {"email"}
    member = assert_error(
        client.post(url, json={"email": world.applicant.email}, headers=headers), 422, "invalid"
    )
    assert member["errors"] == {"email": ["This person is already a member."]}
    assert_error(
        client.post("/api/v1/invitations/not-a-token/acceptance", headers=headers),
        404,
        "not_found",
    )
    assert _count(Invitation) == 0 and mailbox.messages == []


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        ("applicant", 200, 200),
        ("outsider", 404, 404),
        ("evaluator", 404, 404),
        ("officer", 200, 403),
        ("finance", 200, 403),
        ("admin", 200, 403),
    ],
)
def test_every_role_reads_and_changes_what_the_pages_let_it(world, client, role, read, write):
    """The association pages' table (tests/test_authorization.py), through tokens."""
    association = world.association
    headers = bearer(getattr(world, role))
    url = f"/api/v1/associations/{association.id}"
    assert client.get(f"{url}/members", headers=headers).status_code == read
    invited = client.post(f"{url}/invitations", json={"email": "n@example.org"}, headers=headers)
    changed = client.patch(
        url, json={"version": association.version, "contact_phone": "+33 6"}, headers=headers
    )
    assert (invited.status_code, changed.status_code) == (201 if write == 200 else write, write)
    assert (association.contact_phone == "+33 6") is (write == 200)
