"""Places to return to that come from the request never lead off the site.

Each route that takes one (``next`` of the language switcher, of the tranche actions, of
the login pages) is tried with the forms browsers read as another site; each falls
back to a page of ours, and a genuine local path is still followed.
"""

from __future__ import annotations

import pytest

from grants.security import safe_next
from tests.fixtures.people import PASSWORD, make_user
from tests.fixtures.programme import make_tranche

OFF_SITE = [
    "//evil.example",
    "///evil.example",
    "https://evil.example",
    "http:evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    " //evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "%2F%2Fevil.example",
    "/%2F/evil.example",
    "/%5Cevil.example",
    "/%09/evil.example",
    "/%252F%252Fevil.example",
    "evil.example",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_off_site_targets_fall_back(target):
    assert safe_next(target, fallback="/home") == "/home"


@pytest.mark.parametrize("target", ["/", "/calls?page=2", "/grants/7#tranche-3", "/finance/?"])
def test_local_paths_are_kept(target):
    assert safe_next(target) == target


def test_nothing_given_falls_back():
    assert safe_next(None) == "/" and safe_next("", fallback="/calls") == "/calls"


def test_the_language_switcher_returns_only_within_the_site(client):
    for target in OFF_SITE:
        response = client.post("/language", data={"locale": "fr", "next": target})
        assert response.status_code == 302 and response.location == "/", target
    kept = client.post("/language", data={"locale": "fr", "next": "/calls?page=2"})
    assert kept.location == "/calls?page=2"


def test_a_tranche_action_returns_only_within_the_site(world, login):
    tranche = make_tranche(world, state="approved")
    finance = login(world.finance)
    own_page = f"/grants/{tranche.award_id}#tranche-{tranche.id}"
    for target in OFF_SITE:
        # An incomplete payment is refused and sends the officer back.
        response = finance.post(f"/grants/tranches/{tranche.id}/pay", data={"next": target})
        assert response.status_code == 303 and response.location == own_page, target
    assert tranche.state == "approved"
    kept = finance.post(
        f"/grants/tranches/{tranche.id}/pay", data={"next": "/finance/run?tranche=3"}
    )
    assert kept.location == "/finance/run?tranche=3"


def test_a_completed_tranche_action_returns_only_within_the_site(world, login):
    tranche = make_tranche(world)
    officer = login(world.officer)
    response = officer.post(
        f"/grants/tranches/{tranche.id}/request", data={"next": "//evil.example"}
    )
    assert response.status_code == 303
    assert response.location == f"/grants/{tranche.award_id}#tranche-{tranche.id}"
    assert tranche.state == "requested"


@pytest.mark.parametrize("target", OFF_SITE)
def test_logging_in_returns_only_within_the_site(app, target):
    from tests.clients import AppClient

    app.test_client_class = AppClient
    member = make_user(email="member@example.org")
    client = app.test_client()
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": member.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.location == "/", target


def test_logging_in_follows_a_local_next(app):
    from tests.clients import AppClient

    app.test_client_class = AppClient
    member = make_user(email="member@example.org")
    response = app.test_client().post(
        "/login",
        query_string={"next": "/calls?page=2"},
        data={"email": member.email, "password": PASSWORD},
    )
    assert response.status_code == 302 and response.location == "/calls?page=2"
