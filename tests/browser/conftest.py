"""The product served for real and driven through Debian's Chromium with Playwright.

One server per test session: the demo programme seeded into its own database
(PostgreSQL when reachable, as in production; SQLite otherwise), served by a threaded
WSGI server on a free port, with its emails going to the test SMTP server. Each person
gets a browser context of their own (cookies, language), so a journey reads like the
people doing it. Chromium is never downloaded: without ``/usr/bin/chromium`` the suite
skips with the reason, and ``REQUIRE_BROWSER=1`` (set by CI) makes that a failure.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from grants import create_app
from grants.extensions import db
from tests.conftest import (
    TEST_DATABASE,
    drop_postgres,
    postgres_unreachable,
    prepare_postgres,
    test_settings,
)
from tests.fixtures.smtp import Mailbox, free_port

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
BROWSER_DATABASE = f"{TEST_DATABASE}_browser"
#: How long Playwright waits for a page or an element: generous, for the slow-link runs.
TIMEOUT_MS = int(os.environ.get("BROWSER_TIMEOUT_MS", "60000"))
PHONE = {"width": 412, "height": 915}
DESKTOP = {"width": 1280, "height": 900}


def unavailable(reason: str) -> None:
    """Skip with the reason; fail instead when the browser suite is required (CI)."""
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing (make test installs Debian's chromium as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed (make install-test)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()


@dataclass
class Live:
    """The served product: its address, the app (for the database) and its outbox."""

    url: str
    app: Flask
    mailbox: Mailbox
    artifacts: Path = ARTIFACTS
    shots: dict[str, int] = field(default_factory=dict)

    def screenshot(self, page, journey: str, step: str) -> None:
        """Write ``test-artifacts/browser/<journey>/<nn>-<step>.png`` (full page)."""
        number = self.shots[journey] = self.shots.get(journey, 0) + 1
        folder = self.artifacts / journey
        folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        page.screenshot(path=str(folder / f"{number:02d}-{name}.png"), full_page=True)


@pytest.fixture(scope="session")
def live(tmp_path_factory, smtp_server) -> Iterator[Live]:
    instance = tmp_path_factory.mktemp("instance-browser")
    if postgres_unreachable() and os.environ.get("REQUIRE_POSTGRES") != "1":
        url, postgres = f"sqlite:///{instance / 'browser.db'}", False
    else:
        url, postgres = prepare_postgres(BROWSER_DATABASE), True
    port = free_port()
    address = f"127.0.0.1:{port}"
    settings = test_settings(url, instance) | {
        "TESTING": False,
        "SERVER_NAME": address,
        "BASE_URL": f"http://{address}",
        # Every person of a journey logs in from the same address within minutes.
        "LOGIN_RATE_LIMIT": "200 per minute",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "MAIL_SUPPRESS_SEND": False,
    }
    app = create_app(settings)
    app.extensions["mail"].server = "127.0.0.1"
    app.extensions["mail"].port = smtp_server.port
    app.extensions["mail"].suppress = False
    with app.app_context():
        from flask_migrate import upgrade

        from grants.services.demo import seed

        upgrade()
        seed()
        db.session.commit()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield Live(url=f"http://{address}", app=app, mailbox=Mailbox(smtp_server.handler))
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()
        if postgres:
            drop_postgres(BROWSER_DATABASE)


@pytest.fixture
def person(chromium, live):
    """``person(locale)`` → a new page in a browser context of its own."""
    contexts = []

    def _person(locale: str = "en", **options):
        context = chromium.new_context(
            base_url=options.pop("base_url", live.url),
            locale=locale,
            extra_http_headers={"Accept-Language": locale},
            viewport=PHONE if options.pop("phone", False) else DESKTOP,
            **options,
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        # Forms that ask "Please confirm" (data-confirm) are confirmed, as a person would.
        page.on("dialog", lambda dialog: dialog.accept())
        return page

    yield _person
    for context in contexts:
        context.close()
