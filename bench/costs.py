"""Where the time of one request goes: the load benchmark's endpoints, profiled in-process.

Uses the load benchmark's programme (``bench/load.py`` generates it once) and the
production settings, drives each chosen endpoint through the Flask test client under
``cProfile``, and prints per endpoint the milliseconds of one request split by where the
code lives (the product, Jinja templates, SQLAlchemy, the database driver, Flask and
Werkzeug, Flask-Security and Flask-Login, Babel, the standard library …) and the
functions that cost most of their own time.

    .venv/bin/python bench/costs.py                       (every endpoint)
    .venv/bin/python bench/costs.py "application (API)" --requests 300 --top 30
    .venv/bin/python bench/costs.py "screening list" --queries   (each statement's time)
    .venv/bin/python bench/costs.py ranking --callers _get_current_context

The numbers are CPU time of this one process, with no concurrency: they show what a
request costs, not how the served app queues under load (``make bench-load`` does).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import (  # noqa: E402
    DRAFT_PART,
    ENDPOINTS,
    SECRET,
    Options,
    _finance_team,
    autosave_fields,
    draft_form,
    prepare,
)

#: Where a function's file lives, checked in order: the first fragment found names it.
AREAS = (
    ("/templates/", "templates (Jinja)"),
    ("/grants/", "product: grants"),
    ("/workflows/", "product: workflows"),
    ("/notifications/", "product: notifications"),
    ("/forms/", "product: forms"),
    ("/sqlalchemy/", "SQLAlchemy"),
    ("/psycopg", "psycopg (driver)"),
    ("/jinja2/", "Jinja runtime"),
    ("/markupsafe/", "Jinja runtime"),
    ("/flask_security/", "Flask-Security / Login"),
    ("/flask_login/", "Flask-Security / Login"),
    ("/flask_principal", "Flask-Security / Login"),
    ("/flask_wtf/", "WTForms"),
    ("/wtforms/", "WTForms"),
    ("/babel/", "Babel"),
    ("/flask_babel/", "Babel"),
    ("/werkzeug/", "Flask / Werkzeug"),
    ("/flask/", "Flask / Werkzeug"),
    ("/itsdangerous/", "Flask / Werkzeug"),
    ("/marshmallow/", "marshmallow"),
    ("/flask_limiter/", "Flask-Limiter"),
    ("/limits/", "Flask-Limiter"),
)


def area_of(filename: str) -> str:
    if filename.startswith("<template>") or filename.endswith(".html"):
        return "templates (Jinja)"
    for fragment, name in AREAS:
        if fragment in filename:
            return name
    if filename.startswith("~") or filename.startswith("<"):
        return "built-in (C)"
    if "site-packages" in filename:
        return "other libraries"
    return "standard library"


def production_app(url: str, folder: str):
    """The app as gunicorn serves it in the load benchmark (production settings)."""
    os.environ.update(
        {
            "APP_ENV": "production",
            "SECRET_KEY": SECRET,
            "DATABASE_URL": url,
            "INSTANCE_PATH": folder,
            "DOCUMENT_STORE": str(Path(folder) / "documents"),
            "LOGIN_RATE_LIMIT": "100000 per minute",
            "REDIS_URL": os.environ.get("BENCH_LOAD_REDIS_URL", "redis://127.0.0.1:6379/0"),
            "LOG_LEVEL": "warning",
        }
    )
    from grants import create_app

    return create_app()


def clients_for(app, meta: dict, url: str):
    """A logged-in test client per kind of person, and an API token."""
    from sqlalchemy import text

    from grants.extensions import db
    from grants.models import User
    from grants.services.accounts import issue_token
    from tests.clients import AppClient
    from tests.fixtures.people import PASSWORD

    app.test_client_class = AppClient
    clients = {"anonymous": app.test_client(), "api": app.test_client()}
    with app.app_context():
        officer = db.session.scalar(db.select(User).filter_by(email=meta["officer"]))
        token = issue_token(officer, officer, "profile", 1)
        drafter, draft = db.session.execute(
            text(
                "SELECT u.email, a.id FROM applications a JOIN users u ON u.id = a.created_by_id"
                " WHERE a.reference LIKE :p ORDER BY a.id DESC LIMIT 1"
            ),
            {"p": meta["drafts_pattern"]},
        ).one()
        [(finance, secret)] = _finance_team(1)
        # A code is accepted once: a second run within the same 30 seconds starts afresh.
        db.session.execute(
            text("UPDATE users SET tf_totp_last_counter = NULL WHERE email = :e"), {"e": finance}
        )
        db.session.commit()
        db.session.remove()
    for who, email, totp in (
        ("officer", meta["officer"], None),
        ("applicant", meta["applicant"], None),
        ("drafter", drafter, None),
        ("finance", finance, secret),
    ):
        client = app.test_client()
        response = client.login(email, PASSWORD, totp_secret=totp)
        if response.status_code != 302:
            raise SystemExit(f"{email} could not log in ({response.status_code})")
        clients[who] = client
    return clients, {"Authorization": f"Bearer {token}"}, f"/applications/{draft}"


def request_of(endpoint, clients, token_header, draft_path, meta):
    """A function making one request to ``endpoint`` (an autosave changes the summary)."""
    client = clients.get(endpoint.who)
    if endpoint.autosave:
        page = client.get(draft_path + DRAFT_PART)
        values, _, version = draft_form(page.get_data())
        state = {"version": version, "n": 0}

        def save():
            state["n"] += 1
            data = dict(autosave_fields(values, f"edit {state['n']}"))
            data["version"] = str(state["version"])
            response = client.post(
                draft_path,
                data=data,
                headers={"X-Requested-With": "autosave"},
            )
            if response.status_code == 200 and response.is_json:
                state["version"] = response.get_json().get("version", state["version"])
            return response

        return save
    path = endpoint.path(meta)
    headers = token_header if endpoint.who == "api" else {}

    def get():
        response = client.get(path, headers=headers)
        response.get_data()
        return response

    return get


BY_CALLS = False


def profile(name: str, once, requests: int, top: int, callers: str | None = None) -> None:
    for _ in range(5):  # warm per-process caches, as a long-running worker has them
        response = once()
    if response.status_code >= 400:
        raise SystemExit(f"{name}: {response.status_code}")
    began = time.perf_counter()
    for _ in range(requests):
        once()
    plain = (time.perf_counter() - began) * 1000 / requests
    profiler = cProfile.Profile()
    began = time.perf_counter()
    profiler.enable()
    for _ in range(requests):
        once()
    profiler.disable()
    wall = (time.perf_counter() - began) * 1000 / requests
    stats = pstats.Stats(profiler)
    areas: dict[str, float] = defaultdict(float)
    area_calls: dict[str, int] = defaultdict(int)
    rows = []
    for (filename, line, function), (_cc, calls, own, cumulative, _callers) in (
        stats.stats.items()  # type: ignore[attr-defined]
    ):
        areas[area_of(filename)] += own
        area_calls[area_of(filename)] += calls
        rows.append((own, cumulative, calls, f"{Path(filename).name}:{line} {function}"))
    profiled = sum(areas.values()) * 1000 / requests
    # Python function calls: unlike times, the same on a busy machine as on a quiet one.
    calls = stats.total_calls / requests  # type: ignore[attr-defined]
    print(
        f"\n## {name}: {plain:.1f} ms a request ({wall:.1f} under the profiler), "
        f"{calls:,.0f} function calls a request, {requests} requests"
    )
    print(f"{'where':<28}{'ms/request':>12}{'share':>8}{'calls/request':>15}")
    for area, seconds in sorted(areas.items(), key=lambda item: -item[1]):
        ms = seconds * 1000 / requests
        print(f"{area:<28}{ms:>12.2f}{ms / profiled:>8.0%}{area_calls[area] / requests:>15,.0f}")
    print(f"\n{'own ms':>8}{'cum ms':>9}{'calls':>8}  function (own time, per request)")
    order = (lambda row: row[2]) if BY_CALLS else (lambda row: row[0])
    for own, cumulative, calls, where in sorted(rows, key=order, reverse=True)[:top]:
        print(
            f"{own * 1000 / requests:>8.3f}{cumulative * 1000 / requests:>9.2f}"
            f"{calls / requests:>8.0f}  {where}"
        )
    if callers:
        print(f"\nWho calls {callers} (calls over {requests} requests):")
        stats.sort_stats("cumulative").print_callers(callers)


def queries_of(name: str, once, requests: int) -> None:
    """Each statement one request sends, with its milliseconds (between sending it and
    the driver handing back its rows): which round trip the time waits on."""
    from sqlalchemy import event

    from grants.extensions import db

    engine = db.engine
    spent: dict[str, list[float]] = defaultdict(list)

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("began", []).append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        began = conn.info["began"].pop()
        spent[" ".join(statement.split())[:150]].append(time.perf_counter() - began)

    once()
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        for _ in range(requests):
            once()
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    total = sum(sum(times) for times in spent.values()) * 1000 / requests
    print(f"\n## {name}: statements of one request, {total:.1f} ms in all")
    for statement, times in sorted(spent.items(), key=lambda item: -sum(item[1])):
        ms, count = sum(times) * 1000 / requests, len(times) / requests
        print(f"{ms:>8.2f} ms {count:>5.1f}×  {statement}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("endpoints", nargs="*", help="endpoint names (default: all)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--queries", action="store_true", help="the time of each statement instead")
    parser.add_argument("--callers", help="also print who calls the functions matching this")
    parser.add_argument("--by-calls", action="store_true", help="list functions by calls")
    arguments = parser.parse_args()
    global BY_CALLS
    BY_CALLS = arguments.by_calls
    options = Options.from_environment()
    dataset = prepare(options)
    with tempfile.TemporaryDirectory() as folder:
        app = production_app(dataset.url, folder)
        # The test client opens an application context of its own for each request.
        stack = app.app_context()
        stack.push()
        clients, token_header, draft_path = clients_for(app, dataset.meta, dataset.url)
        chosen = [e for e in ENDPOINTS if not arguments.endpoints or e.name in arguments.endpoints]
        for endpoint in chosen:
            if endpoint.export:
                continue  # files: their first byte is measured by the load benchmark
            once = request_of(endpoint, clients, token_header, draft_path, dataset.meta)
            if once is not None and arguments.queries:
                queries_of(endpoint.name, once, arguments.requests)
            elif once is not None:
                profile(endpoint.name, once, arguments.requests, arguments.top, arguments.callers)


if __name__ == "__main__":
    main()
