"""Reading exported files back as a spreadsheet would: CSV as Excel reads UTF-8 with a
byte-order mark, XLSX part by part (every XML part parsed, cell types, styles, the
header's frozen pane and filters)."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from lxml import etree

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
EXCEL_EPOCH = datetime(1899, 12, 30)


def csv_rows(response) -> list[list[str]]:
    """The rows of a CSV download; the file starts with the UTF-8 byte-order mark."""
    assert response.status_code == 200, response.status
    assert response.mimetype == "text/csv"
    return read_csv(response.get_data())


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "CSV without the UTF-8 byte-order mark"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@dataclass(frozen=True)
class Style:
    bold: bool
    number_format: str
    quote_prefix: bool

    @property
    def is_date(self) -> bool:
        return "yy" in self.number_format and "dd" in self.number_format


@dataclass(frozen=True)
class Cell:
    reference: str
    #: "n" number, "s" text, "b" boolean.
    kind: str
    value: object
    style: Style

    @property
    def moment(self) -> datetime:
        assert self.kind == "n" and self.style.is_date, self
        return EXCEL_EPOCH + timedelta(seconds=round(float(self.value) * 86400))


@dataclass
class Sheet:
    name: str
    rows: list[list[Cell | None]]
    formulas: int
    frozen_rows: int
    autofilter: str
    right_to_left: bool
    widths: dict[int, float] = field(default_factory=dict)

    def values(self) -> list[list[object]]:
        return [[cell.value if cell else None for cell in row] for row in self.rows]


def _unescape(text: str) -> str:
    """Characters written as ``_xHHHH_``, as Excel reads them (``_x005F_`` is "_")."""
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)


def _column_index(reference: str) -> int:
    letters = "".join(c for c in reference if c.isalpha())
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def _styles(archive: zipfile.ZipFile) -> list[Style]:
    root = etree.fromstring(archive.read("xl/styles.xml"))
    custom = {int(f.get("numFmtId")): f.get("formatCode") for f in root.iter(f"{MAIN}numFmt")}
    builtin = {0: "General", 14: "m/d/yyyy", 22: "m/d/yyyy h:mm"}
    fonts = [font.find(f"{MAIN}b") is not None for font in root.find(f"{MAIN}fonts")]
    styles = []
    for xf in root.find(f"{MAIN}cellXfs"):
        number = int(xf.get("numFmtId", "0"))
        styles.append(
            Style(
                bold=fonts[int(xf.get("fontId", "0"))],
                number_format=custom.get(number, builtin.get(number, "General")),
                quote_prefix=xf.get("quotePrefix") == "1",
            )
        )
    return styles


def read_xlsx(response) -> Sheet:
    """The first sheet of an XLSX download."""
    assert response.status_code == 200, response.status
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return read_workbook(response.get_data())


def read_workbook(data: bytes) -> Sheet:
    """The first sheet of a workbook; fails if any part is not well-formed XML."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        parts = {
            name: etree.fromstring(archive.read(name))
            for name in archive.namelist()
            if name.endswith((".xml", ".rels"))
        }
        styles = _styles(archive)
    workbook = parts["xl/workbook.xml"]
    name = workbook.find(f"{MAIN}sheets/{MAIN}sheet").get("name")
    sheet = parts["xl/worksheets/sheet1.xml"]
    rows: list[list[Cell | None]] = []
    for row in sheet.iter(f"{MAIN}row"):
        number = int(row.get("r"))
        while len(rows) < number:
            rows.append([])
        cells = rows[number - 1]
        for c in row.iter(f"{MAIN}c"):
            index = _column_index(c.get("r"))
            while len(cells) <= index:
                cells.append(None)
            kind = c.get("t", "n")
            style = styles[int(c.get("s", "0"))]
            if kind == "inlineStr":
                value: object = _unescape("".join(t.text or "" for t in c.iter(f"{MAIN}t")))
                kind = "s"
            elif kind == "b":
                value = c.findtext(f"{MAIN}v") == "1"
            else:
                assert kind == "n", f"unexpected cell type {kind} in {c.get('r')}"
                value = float(c.findtext(f"{MAIN}v"))
            cells[index] = Cell(c.get("r"), kind, value, style)
    view = sheet.find(f"{MAIN}sheetViews/{MAIN}sheetView")
    pane = view.find(f"{MAIN}pane")
    frozen = int(float(pane.get("ySplit", "0"))) if pane is not None else 0
    if pane is not None:
        assert pane.get("state") == "frozen"
    autofilter = sheet.find(f"{MAIN}autoFilter")
    widths = {}
    for col in sheet.iter(f"{MAIN}col"):
        for index in range(int(col.get("min")) - 1, int(col.get("max"))):
            widths[index] = float(col.get("width"))
    return Sheet(
        name=name,
        rows=rows,
        formulas=len(sheet.findall(f".//{MAIN}f")),
        frozen_rows=frozen,
        autofilter=autofilter.get("ref") if autofilter is not None else "",
        right_to_left=view.get("rightToLeft") == "1",
        widths=widths,
    )


def assert_well_made(sheet: Sheet) -> None:
    """What every exported sheet has: a bold header row, frozen, with filters over the
    whole table, widths for every column, and no formula anywhere."""
    header = sheet.rows[0]
    assert header and all(cell and cell.kind == "s" and cell.style.bold for cell in header)
    assert sheet.frozen_rows == 1
    last_column = chr(64 + len(header))
    assert sheet.autofilter == f"A1:{last_column}{max(len(sheet.rows), 1)}"
    assert sorted(sheet.widths) == list(range(len(header)))
    assert all(8 <= width <= 61 for width in sheet.widths.values())
    assert sheet.formulas == 0
