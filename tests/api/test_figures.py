"""Dashboards and exports through the API, on the programme of known figures the
dashboard pages are tested with: the same figures as the pages' services (money with
two places and its currency), the same files as the pages', bad filters named, and each
association reading only its own."""

from __future__ import annotations

import pytest
import time_machine

from grants.services import finance_dashboard, programme_dashboard
from grants.services.dashboards import Filters
from tests.api.test_api import assert_error, bearer
from tests.dashboards.dataset import NOW, build
from tests.spreadsheets import assert_well_made, read_csv, read_workbook


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def programme(world):
    return build(world)


def _charts(body: dict) -> dict[str, dict]:
    return {chart["name"]: chart for chart in body["charts"]}


def _rows(chart: dict) -> list[tuple]:
    return [(row["label"], row["currency"], *row["values"]) for row in chart["rows"]]


def _service_rows(chart) -> list[tuple]:
    """A chart of the page's service, written as the API writes it."""
    kinds = [series.kind for series in chart.series]
    return [
        (
            row.label,
            row.currency,
            *(
                f"{value:.2f}" if kind == "money" else str(value)
                for value, kind in zip(row.values, kinds, strict=True)
            ),
        )
        for row in chart.rows
    ]


def test_the_programme_dashboard_holds_the_known_figures(programme, client):
    answer = client.get("/api/v1/dashboards/programme", headers=bearer(programme.world.officer))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    charts = _charts(body)
    assert list(charts) == list(programme_dashboard.PROGRAMME_CHARTS)
    assert body["filters"] == {"call": None, "from": None, "to": None, "by": "sector"}
    amounts = charts["amounts"]
    assert amounts["by_currency"] is True
    assert [s["kind"] for s in amounts["series"]] == ["money", "money", "money"]
    assert _rows(amounts) == [
        ("Employment", "USD", "160000.00", "30000.00", "12000.00"),
        ("Health", "EUR", "35000.00", "18000.00", "7000.00"),
    ]
    assert _rows(charts["funnel"])[0] == ("draft", "", "1")
    for name, build_chart in programme_dashboard.PROGRAMME_CHARTS.items():
        assert _rows(charts[name]) == _service_rows(build_chart(Filters())), name


def test_one_call_and_a_period_and_bad_filters(programme, client):
    headers = bearer(programme.world.officer)
    one = client.get(
        f"/api/v1/dashboards/programme?call={programme.eur_call.id}&by=country", headers=headers
    ).get_json()
    assert one["filters"]["call"] == programme.eur_call.id
    assert _rows(_charts(one)["amounts"]) == [("Ecuador", "EUR", "35000.00", "18000.00", "7000.00")]
    backwards = assert_error(
        client.get("/api/v1/dashboards/programme?from=2027-02-01&to=2027-01-01", headers=headers),
        422,
        "invalid",
    )
    assert set(backwards["errors"]) == {"to"}
    not_a_date = assert_error(
        client.get("/api/v1/dashboards/programme?from=yesterday", headers=headers), 422, "invalid"
    )
    assert set(not_a_date["errors"]) == {"from"}
    assert_error(
        client.get("/api/v1/dashboards/programme?by=donor", headers=headers), 422, "invalid"
    )
    assert_error(
        client.get("/api/v1/dashboards/programme?call=999999", headers=headers), 404, "not_found"
    )


def test_the_finance_dashboard(programme, client):
    headers = bearer(programme.world.finance)
    body = client.get("/api/v1/dashboards/finance", headers=headers).get_json()
    assert body["filters"]["from"] == "2026-04-01" and body["filters"]["to"] == "2027-03-01"
    charts = _charts(body)
    assert ("February 2027", "EUR", "7200.00", "200.00") in _rows(charts["payments"])
    assert _rows(charts["waiting"]) == [
        ("2 to 6 days", "USD", "1", "12000.00"),
        ("30 days or more", "EUR", "1", "7200.00"),
    ]
    assert _rows(charts["committed"]) == [
        ("EC-HEA-D2", "EUR", "18000.00", "7000.00"),
        ("SN-EMP-D1", "USD", "30000.00", "12000.00"),
    ]
    filters = Filters.from_args({}, default_months=finance_dashboard.DEFAULT_MONTHS)
    for name, build_chart in finance_dashboard.FINANCE_CHARTS.items():
        assert _rows(charts[name]) == _service_rows(build_chart(filters)), name
    period = client.get(
        "/api/v1/dashboards/finance?from=2027-02-01&to=2027-02-28", headers=headers
    ).get_json()
    assert _rows(_charts(period)["payments"]) == [("February 2027", "EUR", "7200.00", "200.00")]


def test_an_association_reads_its_own_dashboard_only(programme, client):
    world = programme.world
    own = client.get(
        f"/api/v1/associations/{world.association.id}/dashboard", headers=bearer(world.applicant)
    )
    assert own.status_code == 200
    body = own.get_json()
    assert body["association_id"] == world.association.id and len(body["lanes"]) == 7
    whats = [event["what"] for event in body["events"]]
    assert whats.count("Application submitted") == 6 and whats.count("Tranche 1 paid") == 2
    assert body["next_due"]["what"] == "Interim report due"
    assert body["next_due"]["when"] == "2027-02-15"
    assert all(
        programme.outsider_application.reference not in e["application"] for e in body["events"]
    )
    for person, status in (
        (world.outsider, 404),
        (world.evaluator, 404),
        (world.officer, 200),
        (world.finance, 200),
    ):
        answer = client.get(
            f"/api/v1/associations/{world.association.id}/dashboard", headers=bearer(person)
        )
        assert answer.status_code == status, person.email
    theirs = next(m.association_id for m in world.outsider.memberships)
    other = client.get(
        f"/api/v1/associations/{theirs}/dashboard", headers=bearer(world.outsider)
    ).get_json()
    assert [e["application"].split(" — ")[0] for e in other["events"]] == [
        programme.outsider_application.reference
    ]


def test_an_associations_timeline_file_is_its_pages(programme, client, login):
    world = programme.world
    url = f"/api/v1/exports/timeline?association={world.association.id}"
    answer = client.get(f"{url}&format=csv", headers=bearer(world.applicant))
    rows = read_csv(answer.get_data())
    assert rows[0] == ["Date", "Application", "What", "State"] and rows[1][0] == "2026-08-13"
    page = login(world.applicant).get(
        f"/dashboard/associations/{world.association.id}?format=csv&chart=timeline"
    )
    assert read_csv(page.get_data()) == rows
    sheet = read_workbook(
        client.get(f"{url}&format=xlsx", headers=bearer(world.officer)).get_data()
    )
    assert_well_made(sheet)
    assert len(sheet.rows) == len(rows)
    assert_error(client.get(url, headers=bearer(world.outsider)), 404, "not_found")
    assert_error(client.get(url, headers=bearer(world.evaluator)), 404, "not_found")


# --- exports -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("api", "page", "reader", "lines"),
    [
        (
            "/exports/applications?call=SN-EMP-D1",
            "/office/calls/SN-EMP-D1/applications",
            "officer",
            7,
        ),
        ("/exports/tranches", "/finance/tranches", "finance", 5),
        ("/exports/indicators", "/office/reports/indicators", "admin", 1),  # no indicator
    ],
)
def test_every_export_is_the_pages_file(programme, client, login, api, page, reader, lines):
    person = getattr(programme.world, reader)
    separator = "&" if "?" in api else "?"
    csv_answer = client.get(f"/api/v1{api}{separator}format=csv", headers=bearer(person))
    assert csv_answer.status_code == 200 and csv_answer.is_streamed
    assert csv_answer.mimetype == "text/csv"
    assert csv_answer.headers["Content-Disposition"].startswith("attachment; filename=")
    rows = read_csv(csv_answer.get_data())
    assert len(rows) == lines
    pages = login(person)
    assert read_csv(pages.get(f"{page}.csv").get_data()) == rows
    xlsx_answer = client.get(f"/api/v1{api}{separator}format=xlsx", headers=bearer(person))
    assert xlsx_answer.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = read_workbook(xlsx_answer.get_data())
    assert_well_made(sheet)
    assert [str(v) for v in sheet.values()[0]] == rows[0]
    assert len(sheet.rows) == len(rows)


def test_a_charts_file_holds_its_rows(programme, client):
    answer = client.get(
        "/api/v1/exports/chart?dashboard=finance&chart=committed&format=csv",
        headers=bearer(programme.world.finance),
    )
    header, *rows = read_csv(answer.get_data())
    assert header == ["Call", "Currency", "Committed", "Paid"]
    assert rows == [
        ["EC-HEA-D2", "EUR", "18000.00", "7000.00"],
        ["SN-EMP-D1", "USD", "30000.00", "12000.00"],
    ]
    headers = bearer(programme.world.officer)
    assert_error(
        client.get("/api/v1/exports/chart?dashboard=programme&chart=committed", headers=headers),
        404,
        "not_found",
    )
    assert_error(
        client.get("/api/v1/exports/chart?dashboard=programme&chart=nope", headers=headers),
        422,
        "invalid",
    )


def test_bad_export_requests_are_named(programme, client):
    headers = bearer(programme.world.officer)
    assert_error(
        client.get("/api/v1/exports/applications?call=NOPE", headers=headers), 404, "not_found"
    )
    missing = assert_error(
        client.get("/api/v1/exports/applications", headers=headers), 422, "invalid"
    )
    assert set(missing["errors"]) == {"call"}
    assert_error(client.get("/api/v1/exports/tranches?format=pdf", headers=headers), 422, "invalid")
    assert_error(
        client.get("/api/v1/exports/tranches", headers=bearer(programme.world.applicant)),
        403,
        "forbidden",
    )


def test_the_files_are_documented_as_binary(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    files = [path for path in paths if path.startswith("/api/v1/exports/")]
    assert len(files) == 7
    for path in files:
        answer = paths[path]["get"]["responses"]
        assert set(answer["200"]["content"]) == {
            "text/csv",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }, path
        for kind in answer["200"]["content"].values():
            assert kind["schema"] == {"type": "string", "format": "binary"}
        assert {"401", "403", "422"} <= set(answer), path
