"""Officers' exports: streamed CSV and XLSX, the same rows in both, for staff only."""

from __future__ import annotations

import csv
import io
import zipfile

from tests.fixtures.programme import make_application, make_award, make_call


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def _xlsx_text(response) -> str:
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        assert archive.testzip() is None
        return archive.read("xl/worksheets/sheet1.xml").decode()


def test_a_calls_applications_in_csv_and_xlsx(world, login):
    call = make_call(world)
    first = make_application(world, call, state="submitted")
    second = make_application(world, call)
    officer = login(world.officer)
    rows = _csv(officer.get(f"/office/calls/{call.code}/applications.csv"))
    assert rows[0][:3] == ["Reference", "Association", "Title"]
    assert [row[0] for row in rows[1:]] == [first.reference, second.reference]
    assert rows[1][4] == "submitted" and rows[1][5] == "32000.00"
    sheet = _xlsx_text(officer.get(f"/office/calls/{call.code}/applications.xlsx"))
    assert first.reference in sheet and second.reference in sheet
    assert officer.get("/office/calls/NOPE/applications.csv").status_code == 404


def test_tranches_and_indicators_for_the_staff_only(world, login):
    award = make_award(world, state="active")
    award.application.call.indicators = [
        {"name": {"en": "Young people trained"}, "unit": "", "by_sex": True}
    ]
    award.reports[0].indicator_values = {"0": {"women": "11", "men": "9"}}
    finance = login(world.finance)
    tranches = _csv(finance.get("/finance/tranches.csv"))
    assert len(tranches) == 1 + 3 and tranches[1][2:5] == ["1", "12800.00", "USD"]
    indicators = _csv(login(world.officer).get("/office/reports/indicators.csv"))
    assert ["Young people trained", "", "11", "9"] == indicators[1][4:]
    applicant = login(world.applicant)
    assert applicant.get("/finance/tranches.csv").status_code == 403
    assert applicant.get("/office/reports/indicators.xlsx").status_code == 403
