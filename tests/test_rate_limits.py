"""Login limits that hold: per real client behind proxies, and shared by every worker.

A second application instance (the ``worker`` fixture) stands for a second gunicorn
worker or host: it shares the database of ``app`` and, where a test says so, the
rate-limit storage.
"""

from __future__ import annotations

from tests.fixtures.people import PASSWORD, make_user
from tests.fixtures.redis import RedisService

PROXY = "10.0.0.1"
WRONG = {"email": "target@example.org", "password": "wrong-wrong-wrong"}


def failed_login(client, forwarded_for: str | None = None, remote: str = PROXY) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    response = client.post(
        "/login", data=WRONG, headers=headers, environ_base={"REMOTE_ADDR": remote}
    )
    return response.status_code


def test_forwarded_for_is_ignored_when_no_proxy_is_trusted(app, client):
    assert app.config["TRUSTED_PROXY_COUNT"] == 0
    # One client forging a new X-Forwarded-For on every attempt is still one client.
    statuses = [failed_login(client, f"203.0.113.{n}", remote="198.51.100.7") for n in range(11)]
    assert statuses == [200] * 10 + [429]
    # Another address is not touched by that client's limit.
    assert failed_login(client, remote="198.51.100.8") == 200


def test_behind_one_proxy_each_client_has_its_own_limit(worker):
    member = make_user(email="member@example.org")
    site = worker(TRUSTED_PROXY_COUNT=1)
    attacker, neighbour = site.test_client(), site.test_client()
    # Every request arrives from the balancer; the balancer appends the real client.
    statuses = [failed_login(attacker, "203.0.113.10") for _ in range(11)]
    assert statuses == [200] * 10 + [429]
    # Forging an earlier hop does not give the attacker a fresh limit: only the hop the
    # trusted proxy appended counts.
    assert failed_login(attacker, "192.0.2.99, 203.0.113.10") == 429
    # The neighbour behind the same balancer can still fail and still log in.
    assert failed_login(neighbour, "203.0.113.20") == 200
    response = neighbour.post(
        "/login",
        data={"email": member.email, "password": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.20"},
        environ_base={"REMOTE_ADDR": PROXY},
    )
    assert response.status_code == 302 and response.location.endswith("/")


def test_a_trusted_proxy_also_gives_the_scheme_and_host(worker):
    site = worker(TRUSTED_PROXY_COUNT=1, SERVER_NAME=None)
    seen = {}

    @site.get("/_request-seen")
    def _seen():
        from flask import request

        seen.update(addr=request.remote_addr, scheme=request.scheme, host=request.host)
        return "ok"

    site.test_client().get(
        "/_request-seen",
        headers={
            "X-Forwarded-For": "203.0.113.30",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "grants.example.org",
        },
        environ_base={"REMOTE_ADDR": PROXY},
    )
    assert seen == {"addr": "203.0.113.30", "scheme": "https", "host": "grants.example.org"}


def test_two_workers_sharing_redis_share_the_login_limit(worker, redis_service: RedisService):
    shared = {
        "RATELIMIT_STORAGE_URI": redis_service.url,
        "RATELIMIT_KEY_PREFIX": redis_service.prefix,
        "LOGIN_RATE_LIMIT": "10 per minute",
    }
    first, second = worker(**shared).test_client(), worker(**shared).test_client()
    # Ten failures spread over both workers use up the one limit of ten ...
    statuses = [failed_login(worker) for worker in (first, second) * 5]
    assert statuses == [200] * 10
    assert redis_service.keys(), "the attempts are counted in Redis"
    # ... so the eleventh is refused whichever worker receives it.
    assert failed_login(first) == 429
    assert failed_login(second) == 429
    # Another client is counted apart.
    assert failed_login(second, remote="10.0.0.2") == 200


def test_a_limit_set_for_every_route_in_the_settings_still_applies(worker):
    """Our own limits guard their views; one an operator sets for the whole site holds too."""
    site = worker(RATELIMIT_DEFAULT="3 per minute")
    client = site.test_client()
    statuses = [client.get("/health/live").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    # Without it, a page is never counted: its requests are all answered.
    plain = worker().test_client()
    assert {plain.get("/health/live").status_code for _ in range(20)} == {200}
