"""The embedded default under load, served the way ``make run`` serves it.

``flask db upgrade``, ``flask demo seed`` and ``flask serve`` on a SQLite instance of
their own (HOST and PORT passed as the Makefile does), with the scheduler in the same
process dispatching the outbox every second. Eight people then log in, start an
application and save their drafts, all at once, for a bounded number of rounds or
seconds. Not one request may fail: no 5xx, no "database is locked" anywhere in the
server's log, every login and every save done. Only the login rate limit is raised,
since every client comes from one address.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.fixtures.smtp import free_port

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 8
SECONDS = 20
ROUNDS = 12  # logins per client at most
SAVES_PER_LOGIN = 3
CALL = "SN-EMP-2027"
APPLICANTS = (
    ("awa.ndiaye@demo.example.org", "lyon-thiof-sunrise-27"),
    ("moussa.fall@demo.example.org", "lyon-yassa-sunset-27"),
    ("ibrahima.sarr@demo.example.org", "lyon-kora-morning-27"),
    ("sita.gurung@demo.example.org", "nepal-rhodo-summit-27"),
    ("diego.quishpe@demo.example.org", "madrid-condor-andes-27"),
    ("nadia.elamrani@demo.example.org", "rabita-argan-atlas-27"),
)


@dataclass
class Served:
    url: str
    port: int
    log: Path
    database: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Served:
    instance = tmp_path_factory.mktemp("instance-embedded")
    port = free_port()
    env = dict(
        os.environ,
        INSTANCE_PATH=str(instance),
        HOST="127.0.0.1",
        PORT=str(port),
        SCHEDULER_DISPATCH_SECONDS="1",
        LOGIN_RATE_LIMIT="100000 per minute",
        LOG_LEVEL="info",
    )
    for name in ("DATABASE_URL", "MAIL_SERVER", "BASE_URL", "DOCUMENT_STORE", "SECRET_KEY"):
        env.pop(name, None)  # the embedded defaults, as on a newcomer's machine
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    for command in (["db", "upgrade"], ["demo", "seed"]):
        subprocess.run([*flask, *command], cwd=ROOT, env=env, check=True, capture_output=True)
    log = instance / "serve.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [*flask, "serve"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:  # waiting for the server to listen; nothing below depends on time
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"flask serve did not start:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.1)
        yield Served(url, port, log, instance / "diaspora_grants.db")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


# --- a browser, reduced to what the journeys need ---------------------------------------


class _Keep3xx(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer to look at, not to follow


class FormFields(HTMLParser):
    """The fields a browser sends with the form whose ``id`` or ``action`` is given."""

    def __init__(self, wanted: str):
        super().__init__()
        self.wanted, self.inside = wanted, False
        self.fields: list[tuple[str, str]] = []
        self.textarea: list[str] | None = None
        self.select: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = self.wanted in (a.get("id"), a.get("action"))
        if not self.inside:
            return
        kind = a.get("type", "text")
        if tag == "input" and a.get("name"):
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "on")))
        elif tag == "textarea" and a.get("name"):
            self.textarea = [a["name"], ""]
        elif tag == "select" and a.get("name"):
            self.select = {"name": a["name"], "multiple": "multiple" in a}
            self.select.update(chosen=[], first=None)
        elif tag == "option" and self.select is not None:
            value = a.get("value", "")
            if self.select["first"] is None:
                self.select["first"] = value
            if "selected" in a:
                self.select["chosen"].append(value)

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self.textarea is not None:
            self.fields.append((self.textarea[0], self.textarea[1].removeprefix("\n")))
            self.textarea = None
        elif tag == "select" and self.select is not None:
            chosen = self.select["chosen"]
            if not chosen and not self.select["multiple"] and self.select["first"] is not None:
                chosen = [self.select["first"]]
            self.fields.extend((self.select["name"], value) for value in chosen)
            self.select = None


@dataclass
class Tally:
    """What every client did, and what went wrong."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    logins: int = 0
    saves: int = 0
    failures: list[str] = field(default_factory=list)

    def record(self, method: str, path: str, status: int) -> None:
        with self.lock:
            self.requests += 1
            self.statuses[status] += 1
            if status >= 500:
                self.failures.append(f"{method} {path}: {status}")

    def done(self, what: str) -> None:
        with self.lock:
            setattr(self, what, getattr(self, what) + 1)

    def fail(self, what: str) -> None:
        with self.lock:
            self.failures.append(what)


class Browser:
    def __init__(self, base: str, tally: Tally):
        self.base, self.tally = base, tally
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _Keep3xx()
        )

    def open(self, method: str, path: str, fields=None) -> tuple[int, str, str]:
        data = urllib.parse.urlencode(fields or []).encode() if method == "POST" else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        try:
            with self.opener.open(request, timeout=60) as response:
                status, body, location = response.status, response.read().decode(), ""
        except urllib.error.HTTPError as answer:
            status, body = answer.code, answer.read().decode(errors="replace")
            location = answer.headers.get("Location", "")
        self.tally.record(method, path, status)
        return status, body, urllib.parse.urlsplit(location).path

    def csrf(self, path: str) -> str:
        status, body, _ = self.open("GET", path)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body).group(1)


def journey(base: str, number: int, deadline: float, tally: Tally) -> None:
    """One person: log in, start an application once, save it a few times, log out;
    again, until the rounds or the seconds run out."""
    email, password = APPLICANTS[number % len(APPLICANTS)]
    browser = Browser(base, tally)
    application = None
    try:
        for round_number in range(ROUNDS):
            if time.monotonic() > deadline:
                return
            token = browser.csrf("/login")
            status, _, where = browser.open(
                "POST", "/login", {"email": email, "password": password, "csrf_token": token}
            )
            if status != 302 or where.startswith("/login"):
                return tally.fail(f"client {number}: login answered {status} {where}")
            tally.done("logins")
            if application is None:
                token = browser.csrf(f"/calls/{CALL}")
                status, _, application = browser.open(
                    "POST", f"/calls/{CALL}/apply", {"csrf_token": token}
                )
                if status != 302 or not application.startswith("/applications/"):
                    return tally.fail(f"client {number}: apply answered {status}")
            for save in range(SAVES_PER_LOGIN):
                _, page, _ = browser.open("GET", f"{application}?part=project")
                form = FormFields("application-form")
                form.feed(page)
                fields = [(k, v) for k, v in form.fields if k != "title"]
                fields.append(("title", f"Client {number}, round {round_number}, save {save}"))
                status, _, _ = browser.open("POST", f"{application}?part=project", fields)
                if status != 303:
                    return tally.fail(f"client {number}: save answered {status}")
                tally.done("saves")
            browser.open("POST", "/logout", {"csrf_token": browser.csrf("/")})
    except Exception as error:  # a refused connection, a timeout: a failure to report
        tally.fail(f"client {number}: {type(error).__name__}: {error}")


def test_eight_people_log_in_and_save_drafts_while_the_scheduler_dispatches(served):
    tally = Tally()
    deadline = time.monotonic() + SECONDS
    clients = [
        threading.Thread(target=journey, args=(served.url, number, deadline, tally))
        for number in range(CLIENTS)
    ]
    started = time.monotonic()
    for client in clients:
        client.start()
    for client in clients:
        client.join(SECONDS + 60)
    took = time.monotonic() - started
    log = served.log.read_text()
    # The scheduler ran beside the server throughout, and none of its runs failed.
    with sqlite3.connect(served.database) as database:
        runs, failed = database.execute(
            "SELECT count(*), sum(error != '') FROM job_runs WHERE job = 'dispatch'"
        ).fetchone()
        saved = database.execute(
            "SELECT count(*) FROM applications WHERE title LIKE 'Client %'"
        ).fetchone()[0]
    print(
        f"\n{tally.requests} requests in {took:.1f} s by {CLIENTS} clients: "
        f"{tally.logins} logins, {tally.saves} saves, statuses {dict(tally.statuses)}, "
        f"{len(tally.failures)} failures; {runs} dispatch runs beside them"
    )
    assert tally.failures == []
    assert tally.logins >= CLIENTS and tally.saves >= CLIENTS * SAVES_PER_LOGIN
    assert not [status for status in tally.statuses if status >= 500]
    assert "database is locked" not in log
    assert "Traceback" not in log
    assert runs >= 3 and not failed
    assert saved == CLIENTS  # each client's own draft, saved last by it


def test_emails_printed_by_make_run_link_to_its_own_port(served):
    """The demo's outbox (the finance officers are told of the tranche waiting) is
    printed with links to the port the server listens on, BASE_URL being unset."""
    deadline = time.monotonic() + 30
    while "Email to finance.a@demo.example.org" not in served.log.read_text():
        assert time.monotonic() < deadline, "the outbox was not dispatched"
        time.sleep(0.1)  # the first dispatch runs as the server starts
    log = served.log.read_text()
    links = set(re.findall(r"http://127\.0\.0\.1:\d+", log))
    assert links == {served.url}
