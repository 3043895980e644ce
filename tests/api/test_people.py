"""People for admins through the API: the list with its filters, one person, roles granted
and removed, accounts deactivated and reactivated; the last admin stays; nobody else gets
in."""

from __future__ import annotations

import pytest

from grants.extensions import db
from grants.models import ApiToken
from tests.api.test_api import assert_error, bearer
from tests.fixtures.people import make_user


def test_admins_list_people_filtered_a_page_at_a_time(world, client):
    headers = bearer(world.admin)
    make_user("evaluator", full_name="Fatou Sow Evaluator")
    make_user("evaluator", full_name="Ibrahima Evaluator")
    page = client.get("/api/v1/users?role=evaluator&per_page=2", headers=headers).get_json()
    assert page["total"] == 3 and len(page["items"]) == 2
    assert all("evaluator" in person["roles"] for person in page["items"])
    rest = client.get(page["next"], headers=headers).get_json()
    assert len(rest["items"]) == 1 and rest["next"] is None
    found = client.get("/api/v1/users?q=fatou sow", headers=headers).get_json()
    assert [person["full_name"] for person in found["items"]] == ["Fatou Sow Evaluator"]
    one = client.get(f"/api/v1/users/{world.applicant.id}", headers=headers).get_json()
    assert one["email"] == world.applicant.email and one["active"] is True
    assert [m["association_id"] for m in one["memberships"]] == [world.association.id]
    unknown = client.get("/api/v1/users?role=king", headers=headers)
    assert set(assert_error(unknown, 422, "invalid")["errors"]) == {"role"}
    assert_error(client.get("/api/v1/users/999999", headers=headers), 404, "not_found")


@pytest.mark.parametrize("role", ["applicant", "evaluator", "officer", "finance"])
def test_nobody_but_admins_manages_people(world, client, role):
    headers = bearer(getattr(world, role))
    target = world.evaluator
    for method, url, body in (
        ("GET", "/api/v1/users", None),
        ("GET", f"/api/v1/users/{target.id}", None),
        ("POST", f"/api/v1/users/{target.id}/roles", {"role": "admin"}),
        ("DELETE", f"/api/v1/users/{target.id}/roles/evaluator", None),
        ("PATCH", f"/api/v1/users/{target.id}", {"active": False}),
    ):
        refused = client.open(url, method=method, json=body, headers=headers)
        assert_error(refused, 403, "forbidden")
    assert target.role_names == {"evaluator"} and target.active


def test_admins_grant_and_remove_roles(world, client):
    headers = bearer(world.admin)
    url = f"/api/v1/users/{world.evaluator.id}/roles"
    granted = client.post(url, json={"role": "programme_officer"}, headers=headers)
    assert granted.status_code == 200, granted.get_data(as_text=True)
    assert granted.get_json()["roles"] == ["evaluator", "programme_officer"]
    twice = client.post(url, json={"role": "programme_officer"}, headers=headers)
    assert "already has the role" in assert_error(twice, 409, "conflict")["message"]
    removed = client.delete(f"{url}/programme_officer", headers=headers)
    assert removed.status_code == 200 and removed.get_json()["roles"] == ["evaluator"]
    assert world.evaluator.role_names == {"evaluator"}


def test_bad_role_requests_are_refused_and_change_nothing(world, client):
    headers = bearer(world.admin)
    url = f"/api/v1/users/{world.evaluator.id}/roles"
    unknown = assert_error(client.post(url, json={"role": "king"}, headers=headers), 422, "invalid")
    assert set(unknown["errors"]) == {"role"}
    extra = client.post(url, json={"role": "admin", "reason": "x"}, headers=headers)
    assert set(assert_error(extra, 422, "invalid")["errors"]) == {"reason"}
    not_held = assert_error(
        client.delete(f"{url}/finance_officer", headers=headers), 409, "conflict"
    )
    assert "does not have the role" in not_held["message"]
    assert world.evaluator.role_names == {"evaluator"}


def test_an_admin_keeps_their_own_role_and_account(world, client):
    """An admin cannot remove their own admin role nor deactivate themselves (another
    admin does it), so the programme always keeps an active admin."""
    headers = bearer(world.admin)
    refused = client.delete(f"/api/v1/users/{world.admin.id}/roles/admin", headers=headers)
    assert "your own admin role" in assert_error(refused, 409, "conflict")["message"]
    itself = client.patch(
        f"/api/v1/users/{world.admin.id}", json={"active": False}, headers=headers
    )
    assert_error(itself, 409, "conflict")
    db.session.expire_all()
    assert "admin" in world.admin.role_names and world.admin.active
    deputy = make_user("admin")
    removed = client.delete(f"/api/v1/users/{deputy.id}/roles/admin", headers=headers)
    assert removed.status_code == 200 and "admin" not in removed.get_json()["roles"]


def test_deactivation_ends_tokens_and_reactivation_lets_them_back(world, client):
    headers = bearer(world.admin)
    theirs = bearer(world.applicant)
    assert client.get("/api/v1/me", headers=theirs).status_code == 200
    url = f"/api/v1/users/{world.applicant.id}"
    off = client.patch(url, json={"active": False}, headers=headers)
    assert off.status_code == 200 and off.get_json()["active"] is False
    assert_error(client.get("/api/v1/me", headers=theirs), 401, "unauthenticated")
    assert all(
        token.revoked_at
        for token in db.session.query(ApiToken).filter_by(user_id=world.applicant.id)
    )
    bad = client.patch(url, json={"active": "maybe"}, headers=headers)
    assert set(assert_error(bad, 422, "invalid")["errors"]) == {"active"}
    on = client.patch(url, json={"active": True}, headers=headers)
    assert on.status_code == 200 and world.applicant.active
