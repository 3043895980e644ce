"""The whole programme story over HTTP, by a client outside the application.

The product runs as its README's production section says (gunicorn, ``APP_ENV=production``,
PostgreSQL, a local document directory, a real SMTP server), in a process of its own. The
command line creates the database and the first admin, nothing else: every other person,
role, association, call, application, review, decision, payment and report comes through
``/api/v1`` from ``tests/api/outside_client.py``, which imports nothing of the product.
The open data it leads to validates against the official schemas.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from grants.letter_signing import ensure_demo_certificate
from tests.api.outside_client import Story
from tests.conftest import drop_postgres, prepare_postgres
from tests.documents.test_filetypes import pdf_bytes
from tests.fixtures.smtp import Mailbox, free_port

ROOT = Path(__file__).resolve().parents[2]
ADMIN, ADMIN_PASSWORD = "root@programme.example.org", "cedar-meadow-lantern-27"
DATABASE = f"diaspora_grants_outside_{os.getpid()}"


@pytest.fixture
def served(tmp_path, smtp_server):
    """The product in a process of its own; yields its address."""
    url = prepare_postgres(DATABASE)
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": url,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DOCUMENT_STORE": str(tmp_path / "documents"),
        "BASE_URL": f"http://127.0.0.1:{port}",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_server.port),
        "SINGLE_WORKER": "true",
        "LOGIN_RATE_LIMIT": "1000 per minute",
        "LOG_LEVEL": "warning",
        # Production makes no certificate of its own: the programme's is given.
        "LETTER_CERTIFICATE": str(ensure_demo_certificate(tmp_path / "seal")),
    }
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    created = subprocess.run(
        [*flask, "users", "create", ADMIN, "--role", "admin", "--password-stdin"],
        input=ADMIN_PASSWORD + "\n",
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert created.returncode == 0, created.stderr
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "4"]
        + ["-b", f"127.0.0.1:{port}", "wsgi:app"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(base, server, tmp_path / "server.log")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        drop_postgres(DATABASE)


def _wait_until_ready(base: str, server: subprocess.Popen, log: Path) -> None:
    """Polls the readiness check while the server starts (it answers in about a second)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server stopped:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base}/health/ready", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"the server did not start within a minute:\n{log.read_text()}")


def test_a_client_outside_runs_the_programme_over_http(served, smtp_server):
    mailbox = Mailbox(smtp_server.handler)

    def read_mail(address: str) -> list[str]:
        return [Mailbox.body(message) for message in mailbox.to(address)]

    story = Story(served, read_mail)
    result = story.run(ADMIN, ADMIN_PASSWORD, pdf_bytes())

    assert result["histories"] == {
        "call": ["publish"],
        "application": ["submit", "mark_eligible", "start_review", "complete_review", "award"],
        "tranche": ["request", "approve", "approve", "pay"],
        "report": ["submit", "request_changes", "submit", "accept"],
        "award": ["accept"],
    }
    steps = [step for person in result["people"].values() for step in person.steps]
    assert not [step for step in steps if step.endswith(("500", "502", "503"))]

    from tests.test_opendata import _valid_iati, _valid_package

    with urllib.request.urlopen(f"{served}/open-data/360giving.json") as answer:
        package = _valid_package(json.loads(answer.read()))
    [grant] = package["grants"]
    assert grant["amountAwarded"] == 32000 and grant["amountDisbursed"] == 12800
    with urllib.request.urlopen(f"{served}/open-data/iati.xml") as answer:
        _valid_iati(answer.read())
