"""Staff single sign-on against a real OpenID Connect provider started by the test
(``oidc-provider-mock``, served on a thread): the product discovers it, sends the person
there, exchanges the code and checks the ID token. The provider's consent form is
answered over HTTP as the person's browser would; nothing of ours is replaced."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
from oidc_provider_mock import User as ProviderUser
from oidc_provider_mock import run_server_in_thread
from sqlalchemy import func, select

from config import ConfigError, load_settings
from grants.extensions import db
from grants.models import User
from tests.clients import text_of
from tests.fixtures.people import make_user

DOMAIN = "programme.org"


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    people = [
        ProviderUser(sub="unverified", claims={"email": f"new@{DOMAIN}", "email_verified": False})
    ]
    with run_server_in_thread(user_claims=people) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def site(worker, issuer):
    """The product with the staff's sign-on configured."""
    return worker(
        SSO_ISSUER=issuer,
        SSO_CLIENT_ID="diaspora-grants",
        SSO_CLIENT_SECRET="not-a-real-secret",
        SSO_STAFF_DOMAINS=(DOMAIN,),
    )


def _sign_on(client, subject: str):
    """Press the staff button, answer the provider's form as ``subject``, and come back:
    the product's answer to the provider's redirect."""
    start = client.post("/login/oauthstart/staff")
    assert start.status_code == 302, start.get_data(as_text=True)
    authorize = start.location
    assert authorize.startswith("http://localhost:")
    consent = requests.post(authorize, data={"sub": subject}, allow_redirects=False, timeout=10)
    assert consent.status_code == 302, consent.text
    back = urlsplit(consent.headers["Location"])
    assert back.path == "/login/oauthresponse/staff"
    return client.get(f"{back.path}?{back.query}")


def _people() -> int:
    return db.session.scalar(select(func.count(User.id)))


def test_an_officer_signs_in_with_the_organisation_account(site):
    officer = make_user("programme_officer", email=f"amina@{DOMAIN}")
    client = site.test_client()
    assert "sign in with your organisation’s account" in text_of(client.get("/login"))
    signed = _sign_on(client, officer.email)
    assert signed.status_code == 302 and signed.location == "/"
    assert client.get("/account/profile").status_code == 200
    assert officer.login_count == 1


def test_a_finance_officer_still_gives_the_second_factor(site):
    finance = make_user("finance_officer", email=f"kofi@{DOMAIN}")
    client = site.test_client()
    asked = _sign_on(client, finance.email)
    assert asked.status_code == 302 and "/tf-" in asked.location
    assert client.get("/account/profile").status_code == 302


@pytest.mark.parametrize(
    ("subject", "says"),
    [
        (f"nobody@{DOMAIN}", "No staff account has the address nobody@programme.org"),
        ("officer@elsewhere.org", "is for the programme's staff (addresses at programme.org)"),
        ("unverified", "has not verified the address new@programme.org"),
    ],
)
def test_anyone_else_is_refused_with_the_reason_and_nothing_is_created(site, subject, says):
    client = site.test_client()
    before = _people()
    refused = _sign_on(client, subject)
    assert refused.status_code == 302 and refused.location == "/login"
    assert says in html.unescape(text_of(client.get("/login")))
    assert client.get("/account/profile").status_code == 302
    assert _people() == before


def test_a_member_of_an_association_is_refused_even_at_a_staff_domain(site):
    member = make_user("applicant", email=f"volunteer@{DOMAIN}")
    client = site.test_client()
    _sign_on(client, member.email)
    assert "is not a staff account" in text_of(client.get("/login"))
    assert client.get("/account/profile").status_code == 302 and member.login_count in (0, None)


def test_without_an_issuer_there_is_no_staff_button(client):
    assert "organisation’s account" not in text_of(client.get("/login"))


def test_an_issuer_needs_a_client_id_and_staff_domains():
    with pytest.raises(ConfigError, match="SSO_CLIENT_ID and SSO_STAFF_DOMAINS"):
        load_settings({"SSO_ISSUER": "https://id.programme.org"})
    with pytest.raises(ConfigError, match="SSO_STAFF_DOMAINS must list email domains"):
        load_settings({"SSO_STAFF_DOMAINS": "not a domain"})


def test_an_invited_member_of_staff_accepts_by_signing_on(site, world, login):
    from grants.models import StaffInvitation
    from grants.services.staff_invitations import invite

    invitation = invite(world.admin, f"bintou@{DOMAIN}", ["programme_officer"])
    client = site.test_client()
    signed = _sign_on(client, invitation.email)
    assert signed.status_code == 302 and signed.location == "/"
    assert client.get("/account/profile").status_code == 200
    accepted = db.session.get(StaffInvitation, invitation.id)
    assert accepted.accepted_at is not None and accepted.user.confirmed_at is not None


def test_an_expired_invitation_cannot_be_accepted_by_signing_on(site, world):
    import time_machine

    from grants.orm import utcnow
    from grants.services.staff_invitations import invite

    with time_machine.travel(utcnow() - timedelta(days=8), tick=False):
        invitation = invite(world.admin, f"late@{DOMAIN}", ["evaluator"])
    client = site.test_client()
    _sign_on(client, invitation.email)
    assert "has expired or was withdrawn" in text_of(client.get("/login"))
    assert client.get("/account/profile").status_code == 302
    assert invitation.accepted_at is None
