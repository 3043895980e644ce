"""Admins invite staff from the people page: the invited account with its roles, an
email through the outbox in the invitee's language with a signed link that expires and
works once; accepting chooses a password, and the second factor is set up at the first
sign-in for the roles that need it. Every refusal says why and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import time_machine
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import Notification, StaffInvitation, User
from tests.clients import text_of
from tests.fixtures.people import PASSWORD, make_user

T = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
NEW_PASSWORD = "kapok-harbour-lantern-quiet-91"


def _invite(admin, **changes):
    data = {
        "email": "amadou@programme.org",
        "full_name": "Amadou Diallo",
        "locale": "fr",
        "roles": ["finance_officer"],
    }
    data.update(changes)
    return admin.post("/admin/invitations", data=data)


def _count(model) -> int:
    return db.session.scalar(select(func.count(model.id)))


def _link() -> str:
    row = db.session.scalars(
        select(Notification).where(
            Notification.rule == "staff_invitation", Notification.channel == "email"
        )
    ).one()
    return row.link


def test_an_admin_invites_and_the_email_is_in_the_invitees_language(world, login):
    admin = login(world.admin)
    page = text_of(admin.get("/admin/users"))
    assert "Staff invitations" in page and "No invitation is waiting." in page
    sent = _invite(admin)
    assert sent.status_code == 303
    invitation = db.session.scalars(select(StaffInvitation)).one()
    person = invitation.user
    assert person.email == "amadou@programme.org" and person.role_names == {"finance_officer"}
    assert person.password is None and person.confirmed_at is None and person.locale == "fr"
    email = db.session.scalars(
        select(Notification).where(
            Notification.rule == "staff_invitation", Notification.channel == "email"
        )
    ).one()
    assert email.recipient_id == person.id and email.state == "pending"
    assert email.subject == f"{world.admin.display_name} vous invite sur Diaspora Grants"
    assert "responsable financier" in email.body
    assert email.link.startswith("/invitations/staff/")
    listed = text_of(admin.get("/admin/users"))
    assert "amadou@programme.org" in listed and "finance officer" in listed and "waiting" in listed


def test_accepting_chooses_a_password_and_the_second_factor_comes_at_first_sign_in(
    world, login, client
):
    _invite(login(world.admin))
    link = _link()
    page = client.get(link)
    assert page.status_code == 200 and "Join Diaspora Grants" in text_of(page)

    weak = client.post(
        link, data={"full_name": "Amadou", "password": "short", "password_confirm": "short"}
    )
    assert weak.status_code == 422 and 'id="password-error"' in weak.get_data(as_text=True)
    differ = client.post(
        link,
        data={"full_name": "Amadou", "password": NEW_PASSWORD, "password_confirm": "other-one"},
    )
    assert differ.status_code == 422 and "The two passwords differ." in text_of(differ)
    invitation = db.session.scalars(select(StaffInvitation)).one()
    assert invitation.accepted_at is None and invitation.user.password is None

    accepted = client.post(
        link,
        data={
            "full_name": "Amadou Diallo",
            "password": NEW_PASSWORD,
            "password_confirm": NEW_PASSWORD,
        },
    )
    assert accepted.status_code == 303 and accepted.location.startswith("/login")
    assert invitation.accepted_at is not None and invitation.user.confirmed_at is not None

    signed = client.post("/login", data={"email": invitation.email, "password": NEW_PASSWORD})
    assert signed.status_code == 302 and "/tf-setup" in signed.location

    again = client.get(link)
    assert again.status_code == 409 and "already been used" in text_of(again)


def test_an_expired_link_is_refused_and_changes_nothing(world, login, client):
    with time_machine.travel(T, tick=False):
        _invite(login(world.admin))
    link = _link()
    with time_machine.travel(T + timedelta(days=7, minutes=1), tick=False):
        refused = client.post(
            link,
            data={"full_name": "A", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
        )
        assert refused.status_code == 409 and "has expired" in text_of(refused)
    invitation = db.session.scalars(select(StaffInvitation)).one()
    assert invitation.accepted_at is None and invitation.user.password is None


def test_a_withdrawn_invitation_removes_the_unused_account_and_its_link_stops(world, login, client):
    admin = login(world.admin)
    _invite(admin)
    link = _link()
    invitation = db.session.scalars(select(StaffInvitation)).one()
    withdrawn = admin.post(f"/admin/invitations/{invitation.id}/revoke", follow_redirects=True)
    assert "The invitation of amadou@programme.org is withdrawn." in text_of(withdrawn)
    assert invitation.revoked_at is not None and invitation.user_id is None
    assert db.session.scalar(select(User).where(User.email == "amadou@programme.org")) is None
    refused = client.get(link)
    assert refused.status_code == 409 and "withdrawn by an administrator" in text_of(refused)


def test_a_tampered_link_is_not_valid(world, login, client):
    _invite(login(world.admin))
    refused = client.get(_link() + "x")
    assert refused.status_code == 404 and "not valid" in text_of(refused)


def test_an_address_that_has_an_account_is_refused_beside_the_field(world, login):
    admin = login(world.admin)
    people, rows = _count(User), _count(Notification)
    refused = _invite(admin, email=world.evaluator.email)
    assert refused.status_code == 409
    html = refused.get_data(as_text=True)
    assert 'id="email-error"' in html and "already has an account" in text_of(refused)
    assert (_count(User), _count(Notification), _count(StaffInvitation)) == (people, rows, 0)


def test_an_invitation_without_a_staff_role_or_with_a_bad_address_is_refused(world, login):
    admin = login(world.admin)
    no_role = _invite(admin, roles=[])
    assert no_role.status_code == 422
    assert "Choose at least one of the staff roles." in text_of(no_role)
    applicant = _invite(admin, roles=["applicant"])
    assert applicant.status_code == 422
    bad = _invite(admin, email="not an address")
    assert bad.status_code == 422 and 'id="email-error"' in bad.get_data(as_text=True)
    assert _count(StaffInvitation) == 0


def test_inviting_asks_an_old_session_to_confirm_first(world, login):
    with time_machine.travel(T, tick=False):
        admin = login(world.admin)
    with time_machine.travel(T + timedelta(minutes=16), tick=False):
        asked = _invite(admin)
        assert asked.location.startswith("/verify") and _count(StaffInvitation) == 0


def test_the_account_waits_without_a_way_in_until_accepted(world, login, client):
    _invite(login(world.admin))
    refused = client.post("/login", data={"email": "amadou@programme.org", "password": PASSWORD})
    assert refused.status_code == 200
    assert client.get("/account/profile").status_code == 302


def test_the_people_page_costs_the_same_with_one_or_many_invitations(world, login):
    from grants.services.staff_invitations import invite
    from tests.queries import cost_of

    admin = login(world.admin)
    invite(world.admin, "one@programme.org", ["evaluator"])
    one = cost_of(admin, "/admin/users")
    for number in range(5):
        inviter = world.admin if number % 2 else make_user("admin")
        invite(inviter, f"more{number}@programme.org", ["evaluator"])
    assert cost_of(admin, "/admin/users") == one
