"""The three dashboards through the web client, on a programme of known figures: the
tables, the SVG bars and the CSV downloads hold the same numbers; associations see only
their own; bad filters are told, never a 500; the number of queries does not grow."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import event

from grants.extensions import db
from grants.services.programme_dashboard import PROGRAMME_CHARTS
from tests.clients import text_of
from tests.dashboards.dataset import EXPECTED, NOW, build
from tests.dashboards.pages import bar_titles, csv_rows, rows_of, svg_of, tables_of
from tests.fixtures.programme import make_application


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def programme(world):
    return build(world)


@pytest.fixture
def officer(programme, login):
    return login(programme.world.officer)


@pytest.fixture
def finance(programme, login):
    return login(programme.world.finance)


def _number(cell: str) -> Decimal:
    """A figure as the table shows it ($160,000.00, €7,000.00, 4), as a number."""
    return Decimal(re.sub(r"[^0-9.\-]", "", cell))


def _same_figures(table: dict, rows: list[list[str]]) -> None:
    header, *body = rows
    assert [tuple(header)] == table["header"]
    assert len(body) == len(table["rows"])
    for shown, sent in zip(table["rows"], body, strict=True):
        for cell, value in zip(shown, sent, strict=True):
            if re.fullmatch(r"[-0-9.]+", value):
                assert _number(cell) == Decimal(value), (shown, sent)
            else:
                assert cell == value, (shown, sent)


def test_programme_tables_hold_the_known_figures(officer):
    page = officer.get("/dashboard/programme")
    assert page.status_code == 200
    for name, expected in EXPECTED.items():
        assert rows_of(page, name) == expected, name
    assert "3 decisions. 82 days on average." in text_of(page)


def test_each_bar_is_a_row_with_its_value_in_its_title(officer):
    page = officer.get("/dashboard/programme")
    funnel = bar_titles(svg_of(page, "funnel"))
    assert funnel == [
        "draft, Applications: 1",
        "submitted, Applications: 2",
        "eligible, Applications: 1",
        "awarded, Applications: 2",
        "rejected, Applications: 1",
        "withdrawn, Applications: 1",
    ]
    amounts = bar_titles(svg_of(page, "amounts"))
    assert len(amounts) == 2 * 3
    assert amounts[:3] == [
        "Employment (USD), Requested: $160,000.00",
        "Employment (USD), Committed: $30,000.00",
        "Employment (USD), Paid: $12,000.00",
    ]
    svg = svg_of(page, "sdg")
    assert 'role="img"' in svg and '<title id="sdg-title">SDG targets covered</title>' in svg
    assert len(bar_titles(svg)) == len(EXPECTED["sdg"]) * 2


def test_bars_of_one_currency_share_a_scale(officer):
    svg = svg_of(officer.get("/dashboard/programme"), "amounts")
    widths = [float(w) for w in re.findall(r'<rect class="bar[^"]*"[^>]*width="([0-9.]+)"', svg)]
    requested, awarded, paid = widths[:3]
    assert awarded == pytest.approx(requested * 30000 / 160000, abs=0.1)
    assert paid == pytest.approx(requested * 12000 / 160000, abs=0.1)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_the_csv_holds_the_figures_of_the_table(officer, name):
    table = tables_of(officer.get("/dashboard/programme?by=country"))[name]
    rows = csv_rows(officer.get(f"/dashboard/programme?by=country&format=csv&chart={name}"))
    _same_figures(table, rows)


def test_amounts_by_country_and_the_raw_csv(officer):
    page = officer.get("/dashboard/programme?by=country")
    assert rows_of(page, "amounts") == [
        ("Ecuador", "EUR", "€35,000.00", "€18,000.00", "€7,000.00"),
        ("Senegal", "USD", "$160,000.00", "$30,000.00", "$12,000.00"),
    ]
    rows = csv_rows(officer.get("/dashboard/programme?by=country&format=csv&chart=amounts"))
    assert rows == [
        ["Country", "Currency", "Requested", "Committed", "Paid"],
        ["Ecuador", "EUR", "35000.00", "18000.00", "7000.00"],
        ["Senegal", "USD", "160000.00", "30000.00", "12000.00"],
    ]


def test_one_call_and_a_period(officer, programme):
    page = officer.get(f"/dashboard/programme?call={programme.eur_call.id}")
    assert rows_of(page, "funnel") == [("awarded", "1"), ("withdrawn", "1")]
    assert rows_of(page, "amounts") == [("Health", "EUR", "€35,000.00", "€18,000.00", "€7,000.00")]
    # Submitted within the last 50 days: the two of 40 days and the outsider's of 20.
    page = officer.get("/dashboard/programme?from=2027-01-10&to=2027-03-01")
    assert rows_of(page, "funnel") == [("submitted", "2"), ("eligible", "1")]
    assert rows_of(page, "reports")[2] == ("Overdue", "1", "0")
    assert "Within a period" in text_of(page)
    # Amounts count the applications submitted in the period, payments made in it, and
    # the time to decision the decisions taken in it.
    page = officer.get("/dashboard/programme?from=2026-06-01&to=2027-01-31")
    assert rows_of(page, "amounts") == [
        ("Employment", "USD", "$128,000.00", "$30,000.00", "$12,000.00"),
        ("Health", "EUR", "€35,000.00", "€18,000.00", "€0.00"),
    ]
    assert [count for _label, count in rows_of(page, "decisions")] == ["1", "1", "0", "0", "0"]
    page = officer.get(f"/dashboard/programme?call={programme.eur_call.id}&by=country")
    assert rows_of(page, "amounts") == [("Ecuador", "EUR", "€35,000.00", "€18,000.00", "€7,000.00")]
    assert [count for _label, count in rows_of(page, "decisions")] == ["0", "0", "0", "0", "1"]


def test_finance_figures(finance):
    page = finance.get("/dashboard/finance")
    assert page.status_code == 200
    payments = rows_of(page, "payments")
    assert len(payments) == 12 * 2  # April 2026 to March 2027, in EUR and USD
    assert ("February 2027", "EUR", "€7,200.00", "€200.00") in payments
    assert ("January 2027", "USD", "$12,000.00", "$0.00") in payments
    assert rows_of(page, "waiting") == [
        ("2 to 6 days", "USD", "1", "$12,000.00"),
        ("30 days or more", "EUR", "1", "€7,200.00"),
    ]
    assert rows_of(page, "committed") == [
        ("EC-HEA-D2", "EUR", "€18,000.00", "€7,000.00"),
        ("SN-EMP-D1", "USD", "$30,000.00", "$12,000.00"),
    ]
    assert len(bar_titles(svg_of(page, "payments"))) == 24 * 2
    for name in ("payments", "waiting", "committed"):
        table = tables_of(page)[name]
        _same_figures(table, csv_rows(finance.get(f"/dashboard/finance?format=csv&chart={name}")))


def test_finance_period(finance):
    page = finance.get("/dashboard/finance?from=2027-02-01&to=2027-02-28")
    assert rows_of(page, "payments") == [("February 2027", "EUR", "€7,200.00", "€200.00")]


def test_the_association_sees_its_applications_and_what_is_due(programme, login):
    world = programme.world
    member = login(world.applicant)
    page = member.get(f"/dashboard/associations/{world.association.id}")
    assert page.status_code == 200
    text = text_of(page)
    assert programme.outsider_application.reference not in text
    due = re.search(r"Due next (.*?) Applications and grants", text).group(1)
    assert "February 15, 2027" in due and "overdue" in due and "Interim report due" in due
    events = rows_of(page, "timeline")
    assert ("Mar 31, 2027",) == events[-2][:1]  # the draft's deadline, then the final report
    assert [e[2] for e in events].count("Application submitted") == 6
    assert [e[2] for e in events].count("Tranche 1 paid") == 2
    svg = svg_of(page, "timeline")
    assert svg.count('<g class="mark') == len(events)
    lanes = re.findall(r'<line class="lane"', svg)
    assert len(lanes) == 7
    rows = csv_rows(
        member.get(f"/dashboard/associations/{world.association.id}?format=csv&chart=timeline")
    )
    assert rows[0] == ["Date", "Application", "What", "State"]
    assert [row[1:3] for row in rows[1:]] == [list(e[1:3]) for e in events]
    assert rows[1][0] == "2026-08-13"


def test_another_association_is_not_found(programme, login):
    world = programme.world
    outsider = login(world.outsider)
    own = next(m.association_id for m in world.outsider.memberships)
    page = outsider.get(f"/dashboard/associations/{own}")
    assert rows_of(page, "timeline")[0][1].startswith(programme.outsider_application.reference)
    assert len(rows_of(page, "timeline")) == 1
    for path in (
        f"/dashboard/associations/{world.association.id}",
        f"/dashboard/associations/{world.association.id}?format=csv&chart=timeline",
    ):
        response = outsider.get(path)
        assert response.status_code == 404
        assert "No such association." in text_of(response)


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("call=abc", 400, "Choose the call from the list."),
        ("call=999999", 404, "No such call: choose one from the list."),
        ("from=2027-03-01&to=2027-02-01", 400, "The end of the period is before its start."),
        ("from=2027-13-45", 400, "Give the date as year-month-day, e.g. 2027-03-01."),
        ("by=planet", 400, "Group the amounts by sector or by country."),
        ("format=xml&chart=funnel", 404, "The figures are downloaded as CSV only."),
        ("format=csv&chart=nothing", 404, "No such chart."),
    ],
)
def test_bad_filters_are_told(officer, query, status, message):
    response = officer.get(f"/dashboard/programme?{query}")
    assert response.status_code == status
    assert message in text_of(response)
    assert '<rect class="bar' not in response.get_data(as_text=True)


def test_bad_finance_period_is_told_next_to_the_field(finance):
    response = finance.get("/dashboard/finance?from=2027-03-01&to=2026-03-01")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="filter-to-error"' in html and 'aria-invalid="true"' in html
    assert 'value="2026-03-01"' in html


def test_dashboard_goes_to_the_readers_own(programme, login):
    world = programme.world
    cases = {
        world.officer: "/dashboard/programme",
        world.admin: "/dashboard/programme",
        world.finance: "/dashboard/finance",
        world.applicant: f"/dashboard/associations/{world.association.id}",
    }
    for person, target in cases.items():
        response = login(person).get("/dashboard/")
        assert response.status_code == 303
        assert response.location.endswith(target)
        assert 'href="/dashboard/"' in login(person).get("/").get_data(as_text=True)
    evaluator = login(world.evaluator)
    response = evaluator.get("/dashboard/")
    assert response.status_code == 403
    assert "Your account has no dashboard" in text_of(response)
    assert 'href="/dashboard/"' not in evaluator.get("/").get_data(as_text=True)


def test_arabic_bars_start_on_the_right(programme, login):
    programme.world.officer.locale = "ar"
    page = login(programme.world.officer).get("/dashboard/programme")
    html = page.get_data(as_text=True)
    assert 'dir="rtl"' in html
    first = re.search(r'<rect class="bar s0" x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)"', html)
    assert float(first.group(1)) + float(first.group(2)) == pytest.approx(640)
    assert "الطلبات حسب الحالة" in html


def _queries(client, path: str) -> int:
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_the_number_of_queries_does_not_grow_with_the_data(programme, login):
    world = programme.world
    clients = {
        "/dashboard/programme": login(world.officer),
        "/dashboard/finance": login(world.finance),
        f"/dashboard/associations/{world.association.id}": login(world.applicant),
    }
    before = {path: _queries(client, path) for path, client in clients.items()}
    for state in ("submitted", "eligible", "awarded", "rejected", "in_review") * 3:
        make_application(world, programme.usd_call, state=state)
    build(world, "-B")  # a second programme: more calls, grants, reports, payments
    after = {path: _queries(client, path) for path, client in clients.items()}
    assert after == before


@pytest.fixture
def kept_a_minute(app):
    from grants.services import dashboards

    app.config["DASHBOARD_MAX_AGE_SECONDS"] = 60
    dashboards._kept.clear()
    yield
    app.config["DASHBOARD_MAX_AGE_SECONDS"] = 0
    dashboards._kept.clear()


def test_figures_are_kept_a_minute_and_say_how_old_they_are(app, programme, officer, kept_a_minute):
    """Officers reading the dashboard at once share one computation of its aggregates;
    the page says when its figures were computed, and a minute later they are new."""
    first = officer.get("/dashboard/programme")
    assert "Figures as of" in text_of(first)
    assert "recomputed at most every 60 seconds" in text_of(first)
    funnel = rows_of(first, "funnel")
    make_application(programme.world, programme.usd_call, state="submitted")
    db.session.flush()
    again = officer.get("/dashboard/programme")
    assert rows_of(again, "funnel") == funnel, "the kept figures are served"
    kept = _queries(officer, "/dashboard/programme")
    app.config["DASHBOARD_MAX_AGE_SECONDS"] = 0
    computed = _queries(officer, "/dashboard/programme")
    app.config["DASHBOARD_MAX_AGE_SECONDS"] = 60
    assert kept <= computed - len(PROGRAMME_CHARTS), "no aggregate is run again"
    with time_machine.travel(NOW + timedelta(seconds=61), tick=False):
        later = officer.get("/dashboard/programme")
    assert rows_of(later, "funnel") != funnel, "older than a minute: computed again"
    # Each language has its own charts; the CSV of a chart is always computed.
    french = officer.get("/dashboard/programme", headers={"Accept-Language": "fr"})
    assert french.status_code == 200
