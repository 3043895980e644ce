"""Pages that work at 20 kbit/s: the first load of each main page of each role (HTML,
stylesheet, scripts, images, fonts) stays under 24 KB compressed, and its HTML under
10 KB; static files are served minified and cached for a year under a content hash."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tests.dashboards.dataset import build as build_dashboard_programme
from tests.fixtures.programme import make_application, make_award, make_call, make_review

PAGE_BUDGET = 24 * 1024
HTML_BUDGET = 10 * 1024
GZIP = {"Accept-Encoding": "gzip, deflate, br"}
ASSETS = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def _weigh(client, path: str) -> tuple[int, int]:
    response = client.get(path, headers=GZIP)
    assert response.status_code == 200, (path, response.status_code)
    assert response.headers.get("Content-Encoding") == "gzip", path
    html = len(response.data)
    import gzip

    text = gzip.decompress(response.data).decode()
    total = html
    for asset in sorted(set(ASSETS.findall(text.replace("&amp;", "&")))):
        fetched = client.get(asset, headers=GZIP)
        assert fetched.status_code == 200, asset
        total += len(fetched.data)
    return html, total


@pytest.fixture
def pages(world, login, client):
    call = make_call(world, code="SN-EMP-2027-W")
    application = make_application(world, call)
    for _ in range(30):  # a screening list with some rows
        make_application(world, call, state="submitted")
    reviewed = make_application(world, call, state="in_review")
    review = make_review(world, reviewed, scored=False)
    award = make_award(world, state="active", amount=Decimal("32000"))
    report = award.reports[0]
    build_dashboard_programme(world)  # two calls, currencies, grants, payments, reports
    return {
        "anonymous": (
            client,
            ["/", "/calls", f"/calls/{call.code}", f"/calls/{call.code}/eligibility", "/login"],
        ),
        "applicant": (
            login(world.applicant),
            [
                "/",
                f"/applications/{application.id}",
                f"/grants/{award.id}",
                f"/grants/{award.id}/reports/{report.id}",
                "/notifications/",
                "/account/notifications",
                "/account/data",
                f"/dashboard/associations/{world.association.id}",
            ],
        ),
        "evaluator": (login(world.evaluator), ["/reviews/", f"/reviews/{review.id}"]),
        "programme_officer": (
            login(world.officer),
            [
                "/office/calls/",
                f"/calls/{call.code}/applications",
                f"/office/calls/{call.code}/ranking/",
                f"/grants/{award.id}",
                "/grants/",
                "/dashboard/programme",
            ],
        ),
        "finance_officer": (
            login(world.finance),
            [
                "/finance/",
                "/finance/run",
                f"/grants/{award.id}",
                "/finance/totals",
                "/dashboard/finance",
                "/finance/files",
                "/finance/statements",
                "/finance/accounts",
            ],
        ),
        "admin": (
            login(world.admin),
            [
                "/admin/users",
                "/admin/scheduler",
                "/admin/audit",
                "/admin/retention",
                f"/admin/users/{world.applicant.id}/anonymise",
            ],
        ),
    }


def test_every_main_page_is_within_its_weight_budget(pages, capsys):
    rows, over = [], []
    for role, (client, paths) in pages.items():
        for path in paths:
            html, total = _weigh(client, path)
            rows.append((role, path, html, total))
            if html > HTML_BUDGET or total > PAGE_BUDGET:
                over.append(f"{role} {path}: HTML {html} B, first load {total} B")
    with capsys.disabled():
        print("\nPage weight (compressed bytes): role, page, HTML, first load")
        for role, path, html, total in rows:
            print(f"  {role:<18} {path:<44} {html:>6} {total:>7}")
    assert not over, "\n".join(over)


def test_static_files_are_cached_under_their_content_hash(client):
    import gzip

    page = gzip.decompress(client.get("/", headers=GZIP).data).decode()
    [stylesheet] = re.findall(r'href="(/static/app\.css\?v=[0-9a-f]{12})"', page)
    response = client.get(stylesheet, headers=GZIP)
    assert response.headers["Content-Encoding"] == "gzip"
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert "immutable" in response.headers["Cache-Control"]


def test_static_files_carry_no_session_cookie_nor_vary_on_it(world, login):
    client = login(world.applicant)
    page = client.get("/", headers=GZIP)
    assert "Cookie" in page.headers.get("Vary", "")
    for name in ("app.css", "app.js"):
        response = client.get(f"/static/{name}?v=any", headers=GZIP)
        assert response.status_code == 200
        assert "Set-Cookie" not in response.headers, name
        assert "Cookie" not in response.headers.get("Vary", ""), name
    assert client.get("/account/profile").status_code == 200  # still signed in


def test_stylesheet_and_scripts_are_served_minified(client):
    import gzip
    from pathlib import Path

    static = Path(client.application.static_folder)
    for name in ("app.css", "app.js", "form.js"):
        response = client.get(f"/static/{name}?v=any", headers=GZIP)
        assert response.headers["Content-Encoding"] == "gzip", name
        served = gzip.decompress(response.data).decode()
        source = (static / name).read_text()
        assert "/*" not in served and "\n  " not in served, name
        assert len(served) < len(source), name
        plain = client.get(f"/static/{name}?v=any").get_data(as_text=True)
        assert plain == served, name  # the same file to a browser that does not compress
    assert "characterCounts" in client.get("/static/app.js?v=any").get_data(as_text=True)
    assert "application-form" not in client.get("/static/app.js?v=any").get_data(as_text=True)


def test_a_first_visit_to_the_sign_in_page_waits_for_no_file(client, world, login):
    """Its styles inline (allowed by their hash alone), the whole stylesheet and the
    script fetched in the background for the next page; signed in, pages link them."""
    import base64
    import gzip
    import hashlib

    response = client.get("/login", headers=GZIP)
    html = gzip.decompress(response.data).decode()
    assert len(response.data) < 5 * 1024
    [css] = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert ".page-card" in css and "span.state" not in css and "table.ranking" not in css
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    policy = response.headers["Content-Security-Policy"]
    assert f"style-src 'self' 'sha256-{digest}'" in policy
    assert "script-src 'self';" in policy
    assert not re.search(r'<link rel="stylesheet"|<script src=', html)
    prefetched = re.findall(r'<link rel="prefetch" href="(/static/[^"]+)"', html)
    assert [path.split("?")[0] for path in prefetched] == ["/static/app.css", "/static/app.js"]
    for path in prefetched:
        assert "immutable" in client.get(path).headers["Cache-Control"]

    signed_in = login(world.applicant)
    page = signed_in.get("/account/profile")
    text = page.get_data(as_text=True)
    assert "<style>" not in text
    assert re.search(r'<link rel="stylesheet" href="/static/app\.css', text)
    assert "style-src 'self';" in page.headers["Content-Security-Policy"]
