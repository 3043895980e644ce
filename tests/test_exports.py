"""Exports: every CSV and XLSX file the product sends is written by one module, typed
(numbers, money, dates), in the reader's language, and safe to open: text that a
spreadsheet would run as a formula stays text, and pasted control characters never make
a file that Excel refuses."""

from __future__ import annotations

import re
import tempfile
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from grants.exports import spreadsheets
from grants.exports.spreadsheets import (
    BOOLEAN,
    DATE,
    DATETIME,
    INTEGER,
    MONEY,
    NUMBER,
    Column,
    Table,
)
from grants.extensions import db
from tests.fixtures.programme import (
    make_application,
    make_award,
    make_call,
    make_review,
    make_tranche,
)
from tests.spreadsheets import (
    assert_well_made,
    csv_rows,
    read_csv,
    read_workbook,
    read_xlsx,
)

#: Titles a spreadsheet would run, or that once broke the hand-written XLSX file.
DANGEROUS = (
    '=HYPERLINK("http://x","y")',
    "@SUM(A1)",
    "+1+1",
    "-2+3",
    "\uff1d1+1",  # full-width equals sign
    "\uff20SUM(A1)",  # full-width commercial at
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "<r><t>x</t></r></is><f>1+1</f><is><r><t>y</t></r>",
)
SAFE = "Training young tailors in Thiès"


def test_a_calls_applications_in_csv_and_xlsx(world, login):
    call = make_call(world)
    first = make_application(world, call, state="submitted")
    first.submitted_at = datetime(2027, 2, 1, 9, 30, tzinfo=UTC)
    second = make_application(world, call)
    officer = login(world.officer)
    response = officer.get(f"/office/calls/{call.code}/applications.csv")
    assert re.fullmatch(
        rf'attachment; filename="applications-{call.code}-\d{{4}}-\d\d-\d\d\.csv"',
        response.headers["Content-Disposition"],
    )
    assert "no-store" in response.headers["Cache-Control"]
    rows = csv_rows(response)
    assert rows[0] == [
        "Reference",
        "Association",
        "Title",
        "Country",
        "State",
        "Amount requested",
        "Budget currency",
        "Submitted at (UTC)",
    ]
    assert [row[0] for row in rows[1:]] == [first.reference, second.reference]
    assert rows[1][4:] == ["submitted", "32000.00", "USD", "2027-02-01 09:30:00"]
    assert rows[2][7] == ""

    sheet = read_xlsx(officer.get(f"/office/calls/{call.code}/applications.xlsx"))
    assert_well_made(sheet)
    assert sheet.name == "Applications" and sheet.autofilter == "A1:H3"
    assert sheet.values()[0] == rows[0]
    reference, association, title, *_rest, amount, currency, submitted = sheet.rows[1]
    assert reference.value == first.reference and title.value == SAFE
    assert not title.style.quote_prefix
    assert amount.kind == "n" and amount.value == 32000 and amount.style.number_format == "#,##0.00"
    assert currency.value == "USD"
    assert submitted.moment == datetime(2027, 2, 1, 9, 30)
    assert submitted.style.number_format == "yyyy-mm-dd hh:mm"
    assert len(sheet.rows[2]) < 8 or sheet.rows[2][7] is None  # not submitted: empty cell
    assert sheet.widths[2] > sheet.widths[3]  # the title is wider than the country
    assert officer.get("/office/calls/NOPE/applications.csv").status_code == 404


def test_text_that_reads_as_a_formula_stays_text(world, login):
    world.association.name = "Diaspora\x0b Unie\x1f"
    call = make_call(world)
    applications = []
    for title in (*DANGEROUS, SAFE):
        application = make_application(world, call, state="submitted")
        application.title = title
        applications.append(application)
    db.session.flush()
    officer = login(world.officer)

    rows = csv_rows(officer.get(f"/office/calls/{call.code}/applications.csv"))
    titles = [row[2] for row in rows[1:]]
    assert titles == [f"'{title}" for title in DANGEROUS[:-1]] + [DANGEROUS[-1], SAFE]
    assert {row[1] for row in rows[1:]} == {"Diaspora Unie"}

    sheet = read_xlsx(officer.get(f"/office/calls/{call.code}/applications.xlsx"))
    assert_well_made(sheet)  # opens: every part is well-formed XML, and no formula
    cells = [row[2] for row in sheet.rows[1:]]
    assert [cell.value for cell in cells] == [*DANGEROUS, SAFE]  # the text, exactly
    assert all(cell.kind == "s" for cell in cells)
    # Written as text that stays text even when the cell is edited in Excel.
    assert [cell.style.quote_prefix for cell in cells[:-2]] == [True] * (len(DANGEROUS) - 1)
    assert not cells[-1].style.quote_prefix
    assert {row[1].value for row in sheet.rows[1:]} == {"Diaspora Unie"}


def test_numbers_dates_and_text_each_written_for_what_they_are(app):
    """Negative numbers stay numbers; text that merely looks like one is quoted;
    booleans, missing values and figures that are not finite are handled."""
    columns = (
        Column("Label"),
        Column("Amount", MONEY),
        Column("Count", INTEGER),
        Column("Mean", NUMBER),
        Column("Due", DATE),
        Column("At", DATETIME),
        Column("Within", BOOLEAN),
    )
    rows = [
        ("-2+3", Decimal("-250.5"), -3, -0.25, date(2027, 3, 1), None, True),
        ("Plain", None, 0, float("nan"), None, datetime(2027, 3, 1, 23, 0, tzinfo=UTC), False),
    ]
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        table = Table("figures", "Chiffres", columns, rows)
        text = "".join(spreadsheets.csv_chunks(table)).encode()
        path = app.instance_path + "/figures.xlsx"
        spreadsheets.write_xlsx(path, table)
    with open(path, "rb") as source:
        sheet = read_workbook(source.read())
    assert read_csv(text) == [
        ["Label", "Amount", "Count", "Mean", "Due", "At (UTC)", "Within"],
        ["'-2+3", "-250.50", "-3", "-0.25", "2027-03-01", "", "oui"],
        ["Plain", "", "0", "", "", "2027-03-01 23:00:00", "non"],
    ]
    assert_well_made(sheet)
    first, second = sheet.rows[1], sheet.rows[2]
    assert first[0].kind == "s" and first[0].value == "-2+3" and first[0].style.quote_prefix
    assert [(c.kind, c.value) for c in first[1:4]] == [("n", -250.5), ("n", -3), ("n", -0.25)]
    assert first[4].moment == datetime(2027, 3, 1) and first[4].style.number_format == "yyyy-mm-dd"
    assert first[6].kind == "b" and first[6].value is True
    assert second[3] is None  # not a number: an empty cell, not "nan"
    assert second[5].moment == datetime(2027, 3, 1, 23, 0)


def test_headers_and_times_in_the_readers_language_and_zone(world, login):
    world.officer.locale = "fr"
    world.officer.timezone = "Europe/Paris"
    call = make_call(world)
    application = make_application(world, call, state="submitted")
    application.submitted_at = datetime(2027, 2, 1, 9, 30, tzinfo=UTC)
    officer = login(world.officer)
    french = [
        "Référence",
        "Association",
        "Titre",
        "Pays",
        "État",
        "Montant demandé",
        "Devise du budget",
        "Soumise le (Europe/Paris)",
    ]
    rows = csv_rows(officer.get(f"/office/calls/{call.code}/applications.csv"))
    assert rows[0] == french
    assert rows[1][7] == "2027-02-01 10:30:00"  # Paris is an hour ahead in winter
    sheet = read_xlsx(officer.get(f"/office/calls/{call.code}/applications.xlsx"))
    assert sheet.name == "Candidatures" and sheet.values()[0] == french
    assert sheet.rows[1][7].moment == datetime(2027, 2, 1, 10, 30)
    assert not sheet.right_to_left
    world.officer.locale = "ar"
    sheet = read_xlsx(officer.get(f"/office/calls/{call.code}/applications.xlsx"))
    assert sheet.right_to_left and sheet.name == "الطلبات"
    assert sheet.values()[0][:2] == ["المرجع", "الجمعية"]


def test_an_xlsx_download_starts_at_once_and_leaves_nothing_on_disk(
    world, login, tmp_path, monkeypatch
):
    """The workbook is compressed and sent while its rows are read: its first bytes
    come before the last row is read, no file is written, and a reader who goes away
    stops the reading."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    call = make_call(world)
    for _ in range(3):
        make_application(world, call, state="submitted")
    officer = login(world.officer)
    path = f"/office/calls/{call.code}/applications.xlsx"
    response = officer.get(path, buffered=False)
    chunks = iter(response.response)
    assert next(chunks).startswith(b"PK")  # the zip has begun: nothing was waited for
    assert list(tmp_path.iterdir()) == []
    response.close()  # the reader went away
    assert list(tmp_path.iterdir()) == []
    whole = read_xlsx(officer.get(path))
    assert_well_made(whole)
    assert len(whole.rows) == 4


def _programme_with_dangerous_text(world):
    """One of everything an export shows, with text a spreadsheet would run."""
    world.association.name = '=HYPERLINK("http://x","y")'
    call = make_call(world)
    ranked = make_application(world, call, state="in_review")
    make_review(world, ranked, state="submitted")
    award = make_award(world, state="active")
    award.application.title = "@SUM(A1)"
    award.application.submitted_at = datetime(2026, 8, 13, 10, 0, tzinfo=UTC)
    award.application.call.indicators = [
        {"name": {"en": "+1+1 trained"}, "unit": "", "by_sex": True}
    ]
    award.reports[0].indicator_values = {"0": {"women": "11", "men": "9"}}
    tranche = make_tranche(world, state="approved")
    tranche.award.account_holder = "-2+3"
    make_tranche(world, state="requested")
    db.session.flush()
    return call, tranche


#: Every export: who reads it, where, its formats, and its first header in French.
EXPORTS = {
    "applications": ("officer", "/office/calls/{call}/applications.{kind}", "Référence"),
    "tranches": ("finance", "/finance/tranches.{kind}", "Subvention"),
    "indicators": ("officer", "/office/reports/indicators.{kind}", "Subvention"),
    "ranking": ("officer", "/office/calls/{call}/ranking/?format={kind}", "Rang"),
    "payment run": ("finance", "/finance/run?tranche={tranche}&format={kind}", "Tranche"),
    "programme chart": ("officer", "/dashboard/programme?format={kind}&chart=funnel", "État"),
    "finance chart": (
        "finance",
        "/dashboard/finance?format={kind}&chart=waiting",
        "En attente depuis",
    ),
    "association timeline": (
        "applicant",
        "/dashboard/associations/{association}?format={kind}&chart=timeline",
        "Date",
    ),
}
CHARTS = {"programme chart", "finance chart", "association timeline"}
#: What the dangerous text of each export is, as the file must show it.
NEUTRALISED = {
    "applications": '\'=HYPERLINK("http://x","y")',
    "tranches": '\'=HYPERLINK("http://x","y")',
    "indicators": "'+1+1 trained",
    "ranking": '\'=HYPERLINK("http://x","y")',
    "payment run": "'-2+3",
}


@pytest.mark.parametrize(
    ("export", "kind"),
    [(name, "csv") for name in EXPORTS]
    + [(name, "xlsx") for name in EXPORTS if name not in CHARTS],
)
def test_every_export_is_safe_and_in_the_readers_language(world, login, export, kind):
    call, tranche = _programme_with_dangerous_text(world)
    reader_role, path, first_header = EXPORTS[export]
    reader = getattr(world, reader_role)
    reader.locale = "fr"
    client = login(reader)
    response = client.get(
        path.format(call=call.code, tranche=tranche.id, association=world.association.id, kind=kind)
    )
    assert "no-store" in response.headers["Cache-Control"]
    assert re.search(
        rf'filename="[A-Za-z0-9.-]+-\d{{4}}-\d\d-\d\d\.{kind}"',
        response.headers["Content-Disposition"],
    )
    if kind == "csv":
        rows = csv_rows(response)
        header, cells = rows[0], [cell for row in rows[1:] for cell in row]
        assert all(not cell.startswith(("=", "+", "-", "@")) for cell in cells if cell)
        if export in NEUTRALISED:
            assert NEUTRALISED[export] in cells
    else:
        sheet = read_xlsx(response)
        assert_well_made(sheet)
        header = sheet.values()[0]
        texts = [c for row in sheet.rows[1:] for c in row if c and c.kind == "s"]
        dangerous = [c for c in texts if spreadsheets.reads_as_formula(str(c.value))]
        assert dangerous and all(c.style.quote_prefix for c in dangerous)
        assert NEUTRALISED[export][1:] in [c.value for c in dangerous]
    assert header[0] == first_header
    assert len(rows if kind == "csv" else sheet.rows) >= 2


def test_tranches_and_indicators_for_the_staff_only(world, login):
    award = make_award(world, state="active")
    award.application.call.indicators = [
        {"name": {"en": "Young people trained"}, "unit": "", "by_sex": True}
    ]
    award.reports[0].indicator_values = {"0": {"women": "11", "men": "9"}}
    finance = login(world.finance)
    tranches = csv_rows(finance.get("/finance/tranches.csv"))
    assert len(tranches) == 1 + 3 and tranches[1][2:5] == ["1", "12800.00", "USD"]
    sheet = read_xlsx(finance.get("/finance/tranches.xlsx"))
    assert [(c.kind, c.value) for c in sheet.rows[1][2:4]] == [("n", 1), ("n", 12800)]
    officer = login(world.officer)
    indicators = csv_rows(officer.get("/office/reports/indicators.csv"))
    assert indicators[1][4:] == ["Young people trained", "", "11", "9"]
    sheet = read_xlsx(officer.get("/office/reports/indicators.xlsx"))
    due, *_middle, women, men = sheet.rows[1][2:8]
    assert due.moment == datetime(2027, 12, 1) and (women.value, men.value) == (11, 9)
    applicant = login(world.applicant)
    assert applicant.get("/finance/tranches.csv").status_code == 403
    assert applicant.get("/office/reports/indicators.xlsx").status_code == 403


def test_an_unknown_format_is_refused(app):
    with app.test_request_context(), pytest.raises(ValueError):
        spreadsheets.response(Table("x", "x", (Column("A"),), []), "ods")
