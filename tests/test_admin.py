"""Admin pages: search users, grant and remove roles, deactivate."""

from __future__ import annotations

from tests.clients import text_of
from tests.fixtures.people import PASSWORD, make_user


def test_search_users_by_name_or_email(as_role):
    make_user("evaluator", email="fatou@example.org", full_name="Fatou Sow")
    make_user("applicant", email="other@example.org", full_name="Someone Else")
    _, client = as_role("admin")
    page = text_of(client.get("/admin/users?q=sow"))
    assert "fatou@example.org" in page and "other@example.org" not in page
    page = text_of(client.get("/admin/users?role=evaluator"))
    assert "fatou@example.org" in page and "other@example.org" not in page


def test_grant_and_remove_a_role(as_role):
    person = make_user("applicant")
    _, client = as_role("admin")
    assert (
        client.post(f"/admin/users/{person.id}/roles", data={"role": "evaluator"}).status_code
        == 302
    )
    assert person.role_names == {"applicant", "evaluator"}
    assert client.post(f"/admin/users/{person.id}/roles/applicant/remove").status_code == 302
    assert person.role_names == {"evaluator"}


def test_an_unknown_role_is_refused(as_role):
    person = make_user("applicant")
    _, client = as_role("admin")
    response = client.post(f"/admin/users/{person.id}/roles", data={"role": "king"})
    assert response.status_code == 422
    assert 'id="role-error"' in response.get_data(as_text=True)
    assert person.role_names == {"applicant"}


def test_deactivated_people_cannot_log_in(as_role, client):
    person = make_user("applicant", email="gone@example.org")
    _, admin = as_role("admin")
    assert admin.post(f"/admin/users/{person.id}/active/0").status_code == 302
    assert person.active is False
    response = client.post("/login", data={"email": "gone@example.org", "password": PASSWORD})
    assert response.status_code == 200


def test_the_last_admin_cannot_lock_everyone_out(as_role):
    admin_user, admin = as_role("admin")
    response = admin.post(f"/admin/users/{admin_user.id}/active/0")
    assert response.status_code == 409
    assert "own account" in text_of(response)
    response = admin.post(f"/admin/users/{admin_user.id}/roles/admin/remove")
    assert response.status_code == 409
    assert admin_user.active and "admin" in admin_user.role_names
