"""Load benchmark: the product served as in production, driven by wrk, on a programme of
100,000 applications on PostgreSQL.

The programme (``bench/programme.py``: 50 calls, budget lines, co-financing, three
reviews × five criteria on the reviewed applications, ~12,000 awards with tranches,
reports, ledger and history, one call of 2,000 reviewed applications for the ranking,
and people each with a draft open) is generated once into its own database and reused
while its fingerprint (sizes, generator source, migrations) matches.

The product runs under gunicorn with the production settings (``APP_ENV=production``);
beside it a bare Flask app doing one primary-key select on the same database (the
ceiling, ``bench/ceiling.py``) runs under the same gunicorn settings. For each endpoint
the ceiling is driven first, then the endpoint, by the same number of concurrent
clients: each logged in once (its own session cookie) or holding its own API token.
Queries per request are counted in-process: one request through the Flask test client
on the same database, with a SQLAlchemy listener counting the statements it sends.
Errors are responses other than the expected 2xx/3xx plus wrk's socket errors.

The deadline surge: a thousand people autosave their drafts every 15 s while the
clients browse officer pages.

    make bench-load            (or .venv/bin/python bench/load.py --help)

Settings (environment, or the matching option): BENCH_LOAD_SECONDS (10),
BENCH_LOAD_CLIENTS (16), BENCH_LOAD_APPLICATIONS (100000), BENCH_LOAD_CALLS (50),
BENCH_LOAD_RANKING (2000), BENCH_LOAD_DRAFTS (1000: ten per person, so a hundred
logins), BENCH_LOAD_SURGE_SECONDS (30),
BENCH_LOAD_SAVE_EVERY (15), BENCH_LOAD_WORKERS (2), BENCH_LOAD_THREADS (4),
BENCH_LOAD_DATABASE (diaspora_grants_bench), BENCH_LOAD_ONLY (parts of endpoint names, or
"surge", comma-separated: "application page,surge" runs those two), BENCH_POSTGRES_ADMIN_URL.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import itertools
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field, fields
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

from bench.workflows import ADMIN_URL, bench_app  # noqa: E402

#: The secret the programme's passwords were hashed under (see ``bench_app``); the
#: served app must share it, as Flask-Security salts passwords with it.
SECRET = "bench"
LUA = Path(__file__).with_name("load.lua")
#: Part of the data's fingerprint: bump it when ``_generate`` changes what it stores.
GENERATION = 1
SIZES = (
    ("applications", "applications"),
    ("calls", "calls"),
    ("associations", "associations"),
    ("budget lines", "budget_lines"),
    ("co-financing", "cofinancing"),
    ("reviews", "reviews"),
    ("scores", "scores"),
    ("awards", "awards"),
    ("tranches", "tranches"),
    ("reports", "reports"),
    ("ledger entries", "ledger_entries"),
    ("history", "history"),
    ("users", "users"),
)


def _env(name: str, default, kind=int):
    raw = os.environ.get(name)
    return kind(raw) if raw not in (None, "") else default


@dataclass
class Options:
    applications: int = 100_000
    calls: int = 50
    ranking: int = 2000
    drafts: int = 1000
    seconds: float = 10.0
    clients: int = 16
    surge_seconds: float = 30.0
    save_every: float = 15.0
    workers: int = 2
    threads: int = 4
    database: str = "diaspora_grants_bench"
    admin_url: str = ADMIN_URL
    timeout: int = 60  # wrk's per-request timeout, in seconds
    #: Comma-separated parts of endpoint names to run (and "surge"); empty runs them all.
    only: str = ""

    def runs(self, name: str) -> bool:
        parts = [part.strip().lower() for part in self.only.split(",") if part.strip()]
        return not parts or any(part in name.lower() for part in parts)

    @classmethod
    def from_environment(cls) -> Options:
        values = {}
        for option in fields(cls):
            default = option.default
            kind = type(default)
            values[option.name] = _env(f"BENCH_LOAD_{option.name.upper()}", default, kind)
        values["admin_url"] = ADMIN_URL
        return cls(**values)


# --- the data --------------------------------------------------------------------------


@dataclass
class Dataset:
    url: str  # SQLAlchemy URL
    meta: dict
    reused: bool
    sizes: dict = field(default_factory=dict)


def _fingerprint(options: Options) -> str:
    """What the data depends on: its sizes, the generator's source, the migrations."""
    digest = hashlib.sha256()
    digest.update(f"meta {GENERATION}".encode())
    for path in [ROOT / "bench" / "programme.py"] + sorted(
        (ROOT / "migrations" / "versions").glob("*.py")
    ):
        digest.update(path.name.encode() + path.read_bytes())
    sizes = (options.applications, options.calls, options.ranking, options.drafts)
    digest.update(repr(sizes).encode())
    return digest.hexdigest()


def _database_urls(options: Options) -> tuple[str, str]:
    base = options.admin_url.rsplit("/", 1)[0]
    plain = f"{base}/{options.database}"
    return plain, plain.replace("postgresql://", "postgresql+psycopg://", 1)


def _stored(plain_url: str, fingerprint: str) -> dict | None:
    try:
        with psycopg.connect(plain_url, connect_timeout=3) as connection:
            row = connection.execute(
                "SELECT meta FROM bench_fingerprint WHERE fingerprint = %s", (fingerprint,)
            ).fetchone()
    except (psycopg.OperationalError, psycopg.errors.UndefinedTable):
        return None
    return json.loads(row[0]) if row else None


def prepare(options: Options, log=print) -> Dataset:
    """The programme in its own database: reused when its fingerprint matches, otherwise
    generated afresh (the old database is dropped)."""
    fingerprint = _fingerprint(options)
    plain, url = _database_urls(options)
    meta = _stored(plain, fingerprint)
    if meta is not None:
        log(f"Reusing {options.database} (generated in {meta['seconds']} s)")
        return Dataset(url, meta, reused=True)
    log(f"Generating {options.applications:,} applications into {options.database} …")
    with psycopg.connect(options.admin_url, autocommit=True, connect_timeout=3) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{options.database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{options.database}"')
    began = time.perf_counter()
    meta = _generate(options, url)
    meta["seconds"] = round(time.perf_counter() - began)
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute("CREATE TABLE bench_fingerprint (fingerprint text, meta text)")
        connection.execute(
            "INSERT INTO bench_fingerprint VALUES (%s, %s)", (fingerprint, json.dumps(meta))
        )
    log(f"Generated in {meta['seconds']} s")
    return Dataset(url, meta, reused=False)


def _generate(options: Options, url: str) -> dict:
    import logging

    from flask_migrate import upgrade

    from bench.programme import drafters, generate, ranked_call, settle
    from grants.extensions import db

    if options.calls < 2 or options.applications <= options.ranking:
        raise SystemExit("The load benchmark needs two calls and more applications than ranked")
    with tempfile.TemporaryDirectory() as folder:
        app = bench_app(url, folder)
        with app.app_context():
            logging.getLogger("alembic").setLevel(logging.WARNING)
            upgrade()
            programme = generate(
                options.applications - options.ranking, calls=options.calls - 1, code="LOAD"
            )
            world = programme.world
            ranked = ranked_call(world, programme.evaluators, options.ranking, code="LOAD-RANK")
            drafts_call = programme.calls[0]
            drafters(world, drafts_call, options.drafts)
            screening = programme.calls[1]
            application = db.session.scalar(
                text(
                    "SELECT a.id FROM applications a WHERE a.call_id = :call "
                    "AND a.state = 'awarded' ORDER BY a.id LIMIT 1"
                ),
                {"call": screening.id},
            )
            browse = list(
                db.session.scalars(
                    text(
                        "SELECT id FROM applications WHERE state <> 'draft' "
                        "ORDER BY md5(id::text) LIMIT 50"
                    )
                )
            )
            from grants.reference import country_name
            from grants.services.search import rebuild

            rebuild(db.session.connection())  # the data above was written without the ORM
            db.session.commit()
            meta = {
                "search_word": country_name(screening.countries[0], "fr"),
                "search_reference": db.session.scalar(
                    text("SELECT reference FROM applications WHERE id = :id"), {"id": application}
                ),
                "officer": world.officer.email,
                "applicant": world.applicant.email,
                "finance": world.finance.email,
                "association": world.association.id,
                "application": application,
                "screening_call": screening.code,
                "ranking_call": ranked.code,
                "public_call": drafts_call.code,
                "drafts_pattern": f"{drafts_call.code}-D%",
                "browse": browse,
                "calls": [call.code for call in programme.calls[:10]],
            }
            db.session.remove()
            settle()
            db.engine.dispose()
    return meta


def sizes_of(dataset: Dataset) -> dict[str, int]:
    plain = dataset.url.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(plain) as connection:
        return {
            label: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for label, table in SIZES
        }


# --- serving ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """One gunicorn (master and workers) on a free local port."""

    def __init__(self, target: str, environment: dict, options: Options, log_path: Path):
        self.port = _free_port()
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.log = open(log_path, "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                str(gunicorn),
                "--workers",
                str(options.workers),
                "--threads",
                str(options.threads),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "120",
                target,
            ],
            cwd=ROOT,
            env={**os.environ, **environment},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.log_path = log_path

    def wait(self, path: str, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                status, _, _ = Browser(self.port).request("GET", path)
                if status < 500:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not start: {self.log_path.read_text()[-2000:]}")

    def workers_mb(self) -> float:
        return sum(self.each_worker_mb())

    def each_worker_mb(self) -> list[float]:
        children = psutil.Process(self.process.pid).children()
        return [child.memory_info().rss / 2**20 for child in children]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# --- clients ---------------------------------------------------------------------------


class Browser:
    """A person's browser on the local server: cookies (the session cookie is Secure in
    production, so it is kept by hand over plain HTTP) and forms."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(self, method: str, path: str, body: bytes | None = None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            sent = dict(headers or {})
            if self.cookies:
                sent["Cookie"] = self.cookie_header()
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
            for raw in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = raw.partition("=")
                value = rest.split(";", 1)[0]
                if value and "max-age=0" not in raw.lower():
                    self.cookies[name.strip()] = value
                else:
                    self.cookies.pop(name.strip(), None)
            return response.status, response.headers, data
        finally:
            connection.close()

    def post_form(self, path: str, values: dict, headers=None):
        body = urllib.parse.urlencode(values).encode()
        sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self.request("POST", path, body, sent)

    def login(self, email: str, password: str, totp=None) -> None:
        _, _, page = self.request("GET", "/login")
        status, headers, page = self.post_form(
            "/login", {"email": email, "password": password, "csrf_token": csrf_of(page)}
        )
        location = headers.get("Location", "")
        if status == 302 and "/tf-" in location and totp:
            _, _, page = self.request("GET", "/tf-validate")
            status, headers, page = self.post_form(
                "/tf-validate", {"code": totp(), "csrf_token": csrf_of(page)}
            )
            location = headers.get("Location", "")
        if status != 302 or "/login" in location or "/tf-" in location:
            said = "; ".join(page_errors(page)) or "no message on the page"
            raise RuntimeError(f"{email} could not log in ({status} → {location}): {said}")


def page_errors(page: bytes) -> list[str]:
    """The error messages a form page shows, as text: what a failed login said."""
    found = re.findall(rb'class="[^"]*(?:error|alert|message)[^"]*"[^>]*>(.*?)</', page, re.S)
    texts = (re.sub(rb"<[^>]+>|\\s+", b" ", raw).decode(errors="replace").strip() for raw in found)
    return [text for text in texts if text]


def csrf_of(page: bytes) -> str:
    tag = re.search(rb'<input[^>]*name="csrf_token"[^>]*>', page)
    value = tag and re.search(rb'value="([^"]*)"', tag.group(0))
    if not value:
        raise RuntimeError("no CSRF token on the page")
    return value.group(1).decode()


class _Form(HTMLParser):
    """The fields of the application form as the browser's FormData sends them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.inside = False
        self.values: list[tuple[str, str]] = []
        self.textarea: str | None = None
        self.select: str | None = None
        self.selected: str | None = None
        self.first_option: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and attributes.get("id") == "application-form":
            self.inside = True
        if not self.inside:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attributes:
                return
            self.values.append((name, attributes.get("value") or ""))
        elif tag == "textarea" and name:
            self.textarea, self.data_ = name, []
        elif tag == "select" and name:
            self.select, self.selected, self.first_option = name, None, None
        elif tag == "option" and self.select:
            value = attributes.get("value", "")
            if self.first_option is None:
                self.first_option = value
            if "selected" in attributes:
                self.selected = value

    def handle_data(self, data):
        if self.textarea:
            self.data_.append(data)

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "textarea" and self.textarea:
            self.values.append((self.textarea, "".join(self.data_)))
            self.textarea = None
        elif tag == "select" and self.select:
            chosen = self.selected if self.selected is not None else self.first_option
            self.values.append((self.select, chosen or ""))
            self.select = None


#: The part of a draft's form that holds the summary the saves change.
DRAFT_PART = "?part=project"


def draft_form(page: bytes) -> tuple[list[tuple[str, str]], str, int]:
    """The form's fields without CSRF token and version, the token, the version."""
    parser = _Form()
    parser.feed(page.decode())
    values = dict(parser.values)
    if "version" not in values:
        raise RuntimeError("the draft page has no application form")
    fields_ = [(k, v) for k, v in parser.values if k not in ("csrf_token", "version")]
    return fields_, values["csrf_token"], int(values["version"])


#: In a drafter's form, the word each save replaces with a count of its own, so that
#: every autosave carries a change, as a person's does.
EDIT_MARK = "EDITMARK"


def autosave_fields(values: list[tuple[str, str]], mark: str) -> list[tuple[str, str]]:
    """What the page's script sends as a person types in the summary: that field alone,
    named in ``changed`` (the CSRF token and the version are added by the caller)."""
    summary = dict(values).get("summary", "")
    return [("changed", "summary"), ("summary", f"{summary} {mark}")]


def edited(body: str, count: int) -> str:
    return body.replace(EDIT_MARK, f"edit{count}")


@dataclass
class Drafter:
    path: str
    cookie: str
    body: str  # the form without its version
    version: int


# --- wrk -------------------------------------------------------------------------------


def _lua(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"[{_lua(k)}] = {_lua(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "{" + ", ".join(_lua(v) for v in value) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    literal = json.dumps(str(value), ensure_ascii=True)
    if "\\u" in literal:
        raise ValueError(f"not ASCII: {value!r}")
    return literal


@dataclass
class Result:
    requests: int
    seconds: float
    p50: float
    p95: float
    p99: float
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _wrk_command(port: int, clients: list[dict], method: str, seconds: float, options, folder):
    prelude = (
        f"clients = {_lua(clients)}\nmethod = {_lua(method)}\n"
        "expect = {[200] = true, [201] = true, [204] = true, [304] = true}\n"
    )
    script = Path(folder) / f"wrk-{time.monotonic_ns()}.lua"
    script.write_text(prelude + LUA.read_text())
    count = len(clients)
    return [
        "wrk",
        "--threads",
        str(count),
        "--connections",
        str(count),
        "--duration",
        f"{max(1, round(seconds))}s",
        "--timeout",
        f"{options.timeout}s",
        "--script",
        str(script),
        f"http://127.0.0.1:{port}",
    ]


def _parse_wrk(output: str) -> Result:
    match = re.search(r"^BENCH-RESULT (\{.*\})$", output, re.M)
    if not match:
        raise RuntimeError(f"wrk gave no result:\n{output[-2000:]}")
    raw = json.loads(match.group(1))
    errors = sum(raw[k] for k in ("unexpected", "connect", "read", "write", "timeout"))
    return Result(
        raw["requests"],
        raw["duration_us"] / 1e6,
        raw["p50_us"] / 1000,
        raw["p95_us"] / 1000,
        raw["p99_us"] / 1000,
        errors,
    )


def drive(port, clients, method, seconds, options, folder) -> Result:
    command = _wrk_command(port, clients, method, seconds, options, folder)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    return _parse_wrk(done.stdout + done.stderr)


# --- endpoints -------------------------------------------------------------------------


@dataclass
class Endpoint:
    name: str
    who: str  # officer, applicant, finance, api, anonymous, drafter
    path: object  # a function of the dataset's meta
    export: bool = False

    @property
    def autosave(self) -> bool:
        return self.who == "drafter"


ENDPOINTS = [
    Endpoint(
        "application page (officer)", "officer", lambda m: f"/applications/{m['application']}"
    ),  # noqa: E501
    Endpoint("application (API)", "api", lambda m: f"/api/v1/applications/{m['application']}"),
    Endpoint("screening list", "officer", lambda m: f"/calls/{m['screening_call']}/applications"),
    Endpoint("application list (API)", "api", lambda m: "/api/v1/applications"),
    Endpoint("association home", "applicant", lambda m: f"/associations/{m['association']}"),
    Endpoint(
        "association dashboard",
        "applicant",
        lambda m: f"/dashboard/associations/{m['association']}",
    ),
    Endpoint("programme dashboard", "officer", lambda m: "/dashboard/programme"),
    Endpoint("finance dashboard", "finance", lambda m: "/dashboard/finance"),
    Endpoint("ranking", "officer", lambda m: f"/office/calls/{m['ranking_call']}/ranking/"),
    Endpoint("public call page", "anonymous", lambda m: f"/calls/{m['public_call']}"),
    Endpoint(
        "search (a country: many matches)",
        "officer",
        lambda m: f"/search?q={urllib.parse.quote(m['search_word'])}",
    ),
    Endpoint(
        "search (a reference)",
        "officer",
        lambda m: f"/search?q={urllib.parse.quote(m['search_reference'])}",
    ),
    Endpoint("360Giving export", "anonymous", lambda m: "/open-data/360giving.json", True),
    Endpoint("IATI export", "anonymous", lambda m: "/open-data/iati.xml", True),
    Endpoint("autosave of a draft", "drafter", lambda m: None),
]


@dataclass
class Row:
    endpoint: str
    result: Result
    ceiling: Result
    queries: int
    workers_before: float
    workers_after: float

    @property
    def ratio(self) -> float:
        return self.result.rate / self.ceiling.rate if self.ceiling.rate else 0.0


@dataclass
class ExportRow:
    endpoint: str
    megabytes: float
    first_byte_ms: float
    total_ms: float
    workers_before: float
    workers_after: float


@dataclass
class Surge:
    drafts: int
    seconds: float
    saves: int
    save_p50: float
    save_p95: float
    save_errors: int
    skipped: int  # due while the same draft's previous save was still running
    pages: Result


@dataclass
class Report:
    options: Options
    machine: dict
    sizes: dict
    generation_seconds: int
    reused: bool
    rows: list[Row]
    exports: list[ExportRow]
    surge: Surge | None
    #: Each worker's resident memory once everything has run.
    workers_at_end: list[float] = field(default_factory=list)


def machine() -> dict:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gib": psutil.virtual_memory().total / 2**30,
    }


# --- queries per request, in-process ----------------------------------------------------


def count_queries(app, dataset: Dataset, people: dict, token: str) -> dict[str, int]:
    """Statements sent to the database by one request to each endpoint, through the test
    client on the same database (the second of two identical requests: the first warms
    per-process caches)."""
    from grants.extensions import db
    from tests.clients import AppClient
    from tests.fixtures.people import PASSWORD

    counted = {}
    app.test_client_class = AppClient
    with app.app_context():
        statements = [0]

        def _count(*_args, **_kwargs):
            statements[0] += 1

        event.listen(db.engine, "before_cursor_execute", _count)
        try:
            clients = {}
            for who in ("officer", "applicant", "finance", "drafter"):
                client = app.test_client()
                email, totp = people[who][:2]
                response = client.login(email, PASSWORD, totp_secret=totp)
                if response.status_code != 302:
                    raise RuntimeError(f"{email} could not log in in-process")
                clients[who] = client
            clients["anonymous"] = app.test_client()
            clients["api"] = app.test_client()
            for endpoint in ENDPOINTS:
                client = clients[endpoint.who]
                path = endpoint.path(dataset.meta) or people["drafter"][2]
                headers = {"Authorization": f"Bearer {token}"} if endpoint.who == "api" else {}

                def once(client=client, path=path, headers=headers, endpoint=endpoint):
                    if not endpoint.autosave:
                        response = client.get(path, headers=headers)
                        response.get_data()
                        return response
                    page = client.get(path + DRAFT_PART)
                    values, _, version = draft_form(page.get_data())
                    data = dict(autosave_fields(values, "edit"), version=str(version))
                    statements[0] = 0
                    return client.post(path, data=data, headers={"X-Requested-With": "autosave"})

                once()
                statements[0] = 0
                response = once()
                if response.status_code >= 400:
                    raise RuntimeError(f"{endpoint.name}: {response.status_code} in-process")
                counted[endpoint.name] = statements[0]
        finally:
            event.remove(db.engine, "before_cursor_execute", _count)
            db.session.remove()
    return counted


# --- the run ---------------------------------------------------------------------------


def _percentile(samples: list[float], share: int) -> float:
    if not samples:
        return 0.0
    if len(samples) == 1:
        return samples[0]
    return statistics.quantiles(samples, n=100, method="inclusive")[share - 1]


def _sessions(port, people: list[tuple[str, object]]) -> list[str]:
    """One session cookie per (email, two-factor code maker) pair, logged in through
    the login page (and the two-factor page where the role demands it)."""
    from tests.fixtures.people import PASSWORD

    def one(person):
        email, totp = person
        try:
            browser = Browser(port)
            browser.login(email, PASSWORD, totp)
        except RuntimeError as first:
            # Setting up the clients is not what is measured: one more try, and if that
            # fails too the error carries both answers.
            try:
                browser = Browser(port)
                browser.login(email, PASSWORD, totp)
            except RuntimeError as second:
                raise RuntimeError(f"{first}; then, once more: {second}") from second
        return browser.cookie_header()

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, people))


def _drafters(port, drafts: list[tuple[int, str, int]]) -> list[Drafter]:
    """Each person logs in once and opens their first draft: its form (every draft is
    a copy of one, so one form serves all) and the session's CSRF token."""
    from tests.fixtures.people import PASSWORD

    def one(email):
        browser = Browser(port)
        browser.login(email, PASSWORD)
        first = next(d for d in drafts if d[1] == email)
        status, _, page = browser.request("GET", f"/applications/{first[0]}{DRAFT_PART}")
        if status != 200:
            raise RuntimeError(f"{email} cannot open their draft ({status})")
        values, csrf, _ = draft_form(page)
        # As a person typing: each save changes the summary (EDIT_MARK becomes a count).
        values = autosave_fields(values, EDIT_MARK)
        return email, (
            browser.cookie_header(),
            urllib.parse.urlencode(values + [("csrf_token", csrf)]),
        )

    emails = list(dict.fromkeys(email for _, email, _ in drafts))
    with ThreadPoolExecutor(max_workers=8) as pool:
        sessions = dict(pool.map(one, emails))
    return [
        Drafter(f"/applications/{application_id}", *sessions[email], version)
        for application_id, email, version in drafts
    ]


def _settled_version(port: int, drafter: Drafter) -> int:
    """The draft's version once the saves wrk left in flight when it stopped are done:
    read until two readings a moment apart agree."""
    seen = None
    for _ in range(25):
        _, _, page = Browser(port).request(
            "GET", drafter.path + DRAFT_PART, headers={"Cookie": drafter.cookie}
        )
        version = draft_form(page)[2]
        if version == seen:
            return version
        seen = version
        time.sleep(0.2)
    return seen


AUTOSAVE_HEADERS = {
    "Content-Type": "application/x-www-form-urlencoded",
    "X-Requested-With": "autosave",
}


def _surge(server, drafters, officers, meta, options, folder) -> Surge:
    """Every draft saved every ``save_every`` seconds (spread evenly, as people do) while
    the officers browse; a save still running when the next is due is skipped, as the
    autosave script does. A save's time runs from the moment it was due."""
    paths = [f"/applications/{i}" for i in meta["browse"]] + [
        f"/calls/{code}/applications" for code in meta["calls"]
    ]
    clients = [
        {"headers": {"Cookie": cookie}, "paths": paths[i % len(paths) :] + paths[: i % len(paths)]}
        for i, cookie in enumerate(officers)
    ]
    command = _wrk_command(server.port, clients, "GET", options.surge_seconds, options, folder)
    pages = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    versions = {d.path: d.version for d in drafters}
    busy: set[str] = set()
    lock = threading.Lock()
    latencies: list[float] = []
    errors, skipped = [0], 0

    edits = itertools.count(1)

    def save(drafter: Drafter, due: float) -> None:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            count = next(edits)
            body = f"{edited(drafter.body, count)}&version={versions[drafter.path]}".encode()
            connection.request(
                "POST", drafter.path, body, {**AUTOSAVE_HEADERS, "Cookie": drafter.cookie}
            )
            response = connection.getresponse()
            data = response.read()
            connection.close()
            with lock:
                latencies.append((time.monotonic() - due) * 1000)
                if response.status == 200:
                    versions[drafter.path] = json.loads(data)["version"]
                else:
                    errors[0] += 1
        except (OSError, http.client.HTTPException, ValueError, KeyError):
            with lock:
                errors[0] += 1
        finally:
            with lock:
                busy.discard(drafter.path)

    started = time.monotonic()
    end = started + options.surge_seconds
    schedule = sorted(
        (started + (i / len(drafters)) * options.save_every + round_ * options.save_every, i)
        for round_ in range(int(options.surge_seconds // options.save_every) + 1)
        for i in range(len(drafters))
    )
    with ThreadPoolExecutor(max_workers=256) as pool:
        for due, index in schedule:
            if due >= end:
                break
            time.sleep(max(0.0, due - time.monotonic()))
            drafter = drafters[index]
            with lock:
                if drafter.path in busy:
                    skipped += 1
                    continue
                busy.add(drafter.path)
            pool.submit(save, drafter, due)
    output, _ = pages.communicate(timeout=options.surge_seconds + 120)
    return Surge(
        drafts=len(drafters),
        seconds=options.surge_seconds,
        saves=len(latencies),
        save_p50=_percentile(latencies, 50),
        save_p95=_percentile(latencies, 95),
        save_errors=errors[0],
        skipped=skipped,
        pages=_parse_wrk(output),
    )


def _export_timing(port: int, path: str, repeat: int = 3) -> tuple[float, float, float]:
    """Median time to first byte and to the last one, and the size, of ``repeat``
    sequential downloads."""
    first, total, size = [], [], 0
    for _ in range(repeat):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        started = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()  # returns once the status line has arrived
        first.append((time.perf_counter() - started) * 1000)
        size = len(response.read())
        total.append((time.perf_counter() - started) * 1000)
        connection.close()
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status}")
    return statistics.median(first), statistics.median(total), size / 2**20


def _finance_team(count: int) -> list[tuple[str, str]]:
    """Finance officers, one per client: a two-factor code is accepted once (replay
    protection), so one person cannot open many sessions within the same 30 seconds."""
    from grants.extensions import db
    from grants.models import User
    from grants.roles import FINANCE_OFFICER
    from tests.fixtures.people import make_user

    team = []
    for number in range(count):
        email = f"finance-load-{number}@example.org"
        person = db.session.scalar(db.select(User).filter_by(email=email))
        person = person or make_user(FINANCE_OFFICER, email=email)
        team.append((email, person.tf_totp_secret))
    db.session.commit()
    return team


def run(options: Options, log=print) -> Report:
    from grants.extensions import db, security
    from grants.models import User
    from grants.services.accounts import issue_token

    if not shutil.which("wrk"):
        raise SystemExit("The load benchmark needs wrk: apt-get install wrk")
    dataset = prepare(options, log)
    dataset.sizes = sizes_of(dataset)
    meta = dataset.meta
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        app = bench_app(dataset.url, folder)
        with app.app_context():
            finance = _finance_team(options.clients + 1)
            drafts = db.session.execute(
                text(
                    "SELECT a.id, u.email, a.version FROM applications a JOIN users u "
                    "ON u.id = a.created_by_id WHERE a.reference LIKE :pattern ORDER BY a.id"
                ),
                {"pattern": meta["drafts_pattern"]},
            ).all()
            officer = db.session.scalar(db.select(User).filter_by(email=meta["officer"]))
            tokens = [issue_token(officer, officer, "load", 1) for _ in range(options.clients + 1)]
            db.session.commit()
            db.session.remove()

        def totp(secret: str):
            def code() -> str:
                with app.app_context():
                    return security.totp_factory.generate_totp_password(secret)

            return code

        environment = {
            "APP_ENV": "production",
            "SECRET_KEY": SECRET,
            "DATABASE_URL": dataset.url,
            "INSTANCE_PATH": folder,
            "DOCUMENT_STORE": str(Path(folder) / "documents"),
            "LOGIN_RATE_LIMIT": "100000 per minute",
            # As in production: the workers share their rate limits through Redis.
            "REDIS_URL": os.environ.get("BENCH_LOAD_REDIS_URL", "redis://127.0.0.1:6379/0"),
            "LOG_LEVEL": "warning",
        }
        product = Server("wsgi:app", environment, options, Path(folder) / "product.log")
        stack.callback(product.stop)
        ceiling = Server("bench.ceiling:app", environment, options, Path(folder) / "ceiling.log")
        stack.callback(ceiling.stop)
        product.wait("/health")
        ceiling.wait(f"/applications/{meta['application']}")
        log("Servers up; logging the clients in …")
        sessions = {
            "officer": _sessions(product.port, [(meta["officer"], None)] * options.clients),
            "applicant": _sessions(product.port, [(meta["applicant"], None)] * options.clients),
            "finance": _sessions(
                product.port, [(email, totp(secret)) for email, secret in finance[:-1]]
            ),
        }
        spare = drafts[-1]
        people = {
            "officer": (meta["officer"], None),
            "applicant": (meta["applicant"], None),
            "finance": finance[-1],
            "drafter": (spare[1], None, f"/applications/{spare[0]}"),
        }
        # Before the drafters open their drafts: the counted autosave moves a version.
        queries = count_queries(app, dataset, people, tokens[-1])
        with app.app_context():  # the versions after the counted autosave
            versions = dict(
                db.session.execute(
                    text("SELECT id, version FROM applications WHERE reference LIKE :p"),
                    {"p": meta["drafts_pattern"]},
                ).all()
            )
            db.session.remove()
        drafters = _drafters(product.port, [(i, e, versions[i]) for i, e, _ in drafts])
        rows, exports = [], []
        ceiling_clients = [
            {"headers": {}, "paths": [f"/applications/{meta['application']}"]}
        ] * options.clients
        for endpoint in ENDPOINTS:
            if not options.runs(endpoint.name):
                continue
            log(f"  {endpoint.name}")
            if endpoint.autosave:
                clients = [
                    {
                        "headers": {**AUTOSAVE_HEADERS, "Cookie": d.cookie},
                        "paths": [d.path],
                        "body": d.body,
                        "version": d.version,
                    }
                    for d in drafters[: options.clients]
                ]
                method = "POST"
            else:
                path = endpoint.path(meta)
                if endpoint.who == "api":
                    headers = [{"Authorization": f"Bearer {t}"} for t in tokens[:-1]]
                elif endpoint.who == "anonymous":
                    headers = [{}] * options.clients
                else:
                    headers = [{"Cookie": cookie} for cookie in sessions[endpoint.who]]
                clients = [{"headers": h, "paths": [path]} for h in headers]
                method = "GET"
            if not endpoint.autosave:  # each worker's first request warms its caches
                for _ in range(options.workers * options.threads):
                    Browser(product.port).request(
                        "GET", clients[0]["paths"][0], None, headers=clients[0]["headers"]
                    )
            top = drive(ceiling.port, ceiling_clients, "GET", options.seconds, options, folder)
            before = product.workers_mb()
            if endpoint.export:
                first, total, size = _export_timing(product.port, endpoint.path(meta))
            result = drive(product.port, clients, method, options.seconds, options, folder)
            after = product.workers_mb()
            rows.append(Row(endpoint.name, result, top, queries[endpoint.name], before, after))
            if endpoint.export:
                exports.append(ExportRow(endpoint.name, size, first, total, before, after))
            if endpoint.autosave:  # the surge carries on from the versions saved since
                for drafter in drafters[: options.clients]:
                    drafter.version = _settled_version(product.port, drafter)
        surge = None
        if options.runs("deadline surge"):
            log(f"  deadline surge: {len(drafters)} drafts every {options.save_every:g} s")
            surge = _surge(product, drafters, sessions["officer"], meta, options, folder)
        at_end = product.each_worker_mb()
    return Report(
        options,
        machine(),
        dataset.sizes,
        meta["seconds"],
        dataset.reused,
        rows,
        exports,
        surge,
        at_end,
    )


# --- the table -------------------------------------------------------------------------


def render(report: Report) -> str:
    o, m = report.options, report.machine
    lines = [
        "",
        f"Load on PostgreSQL: gunicorn {o.workers} workers × {o.threads} threads "
        f"(APP_ENV=production), {o.clients} clients, {o.seconds:g} s per endpoint",
        f"Machine: {m['cores']} cores, {m['cpu']}, {m['memory_gib']:.1f} GiB memory",
        "Data: " + ", ".join(f"{value:,} {key}" for key, value in report.sizes.items()),
        f"Generated in {report.generation_seconds} s"
        + (" (reused: fingerprint matched)" if report.reused else ""),
        "Ceiling: a bare Flask app doing one primary-key select, same gunicorn, run right "
        "before each endpoint. Queries: one request through the Flask test client.",
        "",
        f"{'endpoint':<28} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
        f"{'ceiling':>8} {'ratio':>6} {'queries':>7} {'errors':>6} {'workers MB':>14}",
    ]
    for row in report.rows:
        r = row.result
        growth = row.workers_after - row.workers_before
        lines.append(
            f"{row.endpoint:<28} {r.rate:>7.1f} {r.p50:>7.0f} {r.p95:>7.0f} {r.p99:>7.0f} "
            f"{row.ceiling.rate:>8.0f} {row.ratio:>6.1%} {row.queries:>7} {r.errors:>6} "
            f"{row.workers_after:>7.0f} ({growth:+.0f})"
        )
    if report.exports:
        lines += [
            "",
            f"{'export':<28} {'MB':>6} {'first byte ms':>14} {'total ms':>9} "
            f"{'workers MB before → after':>26}",
        ]
        for e in report.exports:
            lines.append(
                f"{e.endpoint:<28} {e.megabytes:>6.1f} {e.first_byte_ms:>14.0f} "
                f"{e.total_ms:>9.0f} {e.workers_before:>12.0f} → {e.workers_after:.0f} "
                f"({e.workers_after - e.workers_before:+.0f})"
            )
    s = report.surge
    if s:
        p = s.pages
        lines += [
            "",
            f"Deadline surge ({s.seconds:g} s): {s.drafts:,} drafts autosaved every "
            f"{o.save_every:g} s ({s.drafts / o.save_every:.0f} saves/s) while "
            f"{o.clients} clients browse officer pages",
            f"{'':<28} {'count':>7} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'errors':>6} "
            f"{'skipped':>7}",
            f"{'autosaves (from when due)':<28} {s.saves:>7} {s.saves / s.seconds:>7.1f} "
            f"{s.save_p50:>7.0f} {s.save_p95:>7.0f} {s.save_errors:>6} {s.skipped:>7}",
            f"{'officer pages':<28} {p.requests:>7} {p.rate:>7.1f} {p.p50:>7.0f} "
            f"{p.p95:>7.0f} {p.errors:>6}",
        ]
    if report.workers_at_end:
        each = ", ".join(f"{mb:.0f}" for mb in report.workers_at_end)
        lines += [
            "",
            f"Workers after the whole run: {each} MB resident each "
            f"({sum(report.workers_at_end):.0f} MB together)",
        ]
    return "\n".join(lines)


def main() -> None:
    defaults = Options.from_environment()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for option in fields(Options):
        if option.name == "admin_url":
            continue
        parser.add_argument(
            f"--{option.name.replace('_', '-')}",
            type=type(option.default),
            default=getattr(defaults, option.name),
        )
    arguments = parser.parse_args()
    options = Options(**vars(arguments), admin_url=defaults.admin_url)
    print(render(run(options)))


if __name__ == "__main__":
    main()
