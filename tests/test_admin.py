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


def test_an_admin_cannot_remove_their_own_admin_role_or_deactivate_themselves(as_role):
    """Even with another admin to fall back on: the page says why, nothing changes."""
    from sqlalchemy import select

    from grants.extensions import db
    from grants.models import Role, User

    make_user("admin", email="other-admin@example.org")
    admin_user, admin = as_role("admin", "programme_officer")
    admin_user.locale = "fr"
    db.session.flush()

    page = admin.get(f"/admin/users/{admin_user.id}")
    assert f"/admin/users/{admin_user.id}/roles/admin/remove" not in page.get_data(as_text=True)
    assert f"/admin/users/{admin_user.id}/active/0" not in page.get_data(as_text=True)
    assert "Vous ne pouvez pas retirer votre propre rôle d’administrateur" in text_of(page)

    removed = admin.post(f"/admin/users/{admin_user.id}/roles/admin/remove")
    assert removed.status_code == 409
    assert (
        "Vous ne pouvez pas retirer votre propre rôle d’administrateur : "
        "demandez-le à un autre administrateur." in text_of(removed)
    )
    assert "<h1>" in removed.get_data(as_text=True) and admin_user.email in text_of(removed)

    deactivated = admin.post(f"/admin/users/{admin_user.id}/active/0")
    assert deactivated.status_code == 409
    assert "Vous ne pouvez pas désactiver votre propre compte" in text_of(deactivated)

    db.session.expire_all()
    stored = db.session.scalar(select(User).where(User.id == admin_user.id))
    assert stored.active is True
    assert {role.name for role in stored.roles} == {"admin", "programme_officer"}
    admins = db.session.scalars(select(User).where(User.roles.any(Role.name == "admin"))).all()
    assert len(admins) == 2

    # Removing their other role stays possible.
    assert (
        admin.post(f"/admin/users/{admin_user.id}/roles/programme_officer/remove").status_code
        == 302
    )
    assert admin_user.role_names == {"admin"}


def test_deactivating_someone_is_red_and_asks_for_a_confirmation_step(as_role):
    person = make_user("applicant")
    _, admin = as_role("admin")
    html = admin.get(f"/admin/users/{person.id}").get_data(as_text=True)
    step = html[html.index('<details class="destructive">') :]
    step = step[: step.index("</details>")]
    assert "<summary>Deactivate this account</summary>" in step
    assert f'action="/admin/users/{person.id}/active/0"' in step
    assert '<button type="submit" class="danger">Confirm: Deactivate this account</button>' in step
    assert person.active
