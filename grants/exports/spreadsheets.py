"""Every CSV and XLSX file the product hands out is written here.

Officers and finance open these files in Excel or LibreOffice, and what applicants typed
(a title, an association's name, an account holder) ends up in the cells. So each cell is
written for what it is: a number as a number, a date as a date, and text as text that a
spreadsheet can never run: text that would read as a formula (``=HYPERLINK(…)``,
``@SUM(…)``, ``+1+1``, their full-width forms) is quoted, and control characters that XML
forbids (``\\x0b`` pasted from Word) are removed, so the XLSX file always opens.

A ``Table`` is typed columns and an iterable of rows; rows may be a generator reading the
database in batches, so 100,000 applications never sit in memory at once. CSV is sent as
it is written; XLSX is written by XlsxWriter in constant-memory mode to a temporary file,
then that file is streamed. Headers, sheet names, yes/no and the time zone of datetimes
follow the reader (flask_babel).
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

import xlsxwriter
from flask import Response, stream_with_context
from flask_babel import get_locale, get_timezone
from flask_babel import gettext as _

from grants.orm import utcnow

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
MIME_TYPES = {
    CSV: "text/csv",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

# Column kinds: how a value is written and shown.
TEXT = "text"
INTEGER = "integer"
NUMBER = "number"
MONEY = "money"
DATE = "date"
DATETIME = "datetime"
BOOLEAN = "boolean"
KINDS = (TEXT, INTEGER, NUMBER, MONEY, DATE, DATETIME, BOOLEAN)

#: Column widths in characters when a column does not give its own.
WIDTHS = {TEXT: 18, INTEGER: 9, NUMBER: 11, MONEY: 14, DATE: 12, DATETIME: 17, BOOLEAN: 8}
MAX_WIDTH = 60
#: Number formats of the XLSX cells (ISO dates read the same in every language).
NUMBER_FORMATS = {
    MONEY: "#,##0.00",
    NUMBER: "0.00",
    DATE: "yyyy-mm-dd",
    DATETIME: "yyyy-mm-dd hh:mm",
}

#: First characters that make a spreadsheet read a cell as a formula, with the
#: full-width and small forms that some spreadsheets fold into them.
FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63")
#: Characters XML 1.0 forbids (and lone surrogates, which no encoder can write).
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
#: The longest text an XLSX cell holds.
CELL_LIMIT = 32767
#: Characters a sheet name may not hold.
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\']")
#: Characters kept in a file name (the rest become "-").
FILE_NAME_FORBIDDEN = re.compile(r"[^A-Za-z0-9._-]+")
CSV_ROWS_PER_CHUNK = 500
FILE_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Column:
    """A column: its header in the reader's language, its kind, and its width in
    characters where the kind's default does not fit (a title, a name)."""

    header: Any
    kind: str = TEXT
    width: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


@dataclass(frozen=True)
class Table:
    """What an export holds: ``name`` names the file, ``title`` the sheet."""

    name: str
    title: Any
    columns: tuple[Column, ...]
    rows: Iterable[Sequence[object]]


# --- cells ---------------------------------------------------------------------------------


def clean_text(text: str) -> str:
    """The text without the control characters XML 1.0 forbids."""
    return FORBIDDEN.sub("", text) if FORBIDDEN.search(text) else text


def reads_as_formula(text: str) -> bool:
    """Whether a spreadsheet could take this text for a formula, also past leading
    spaces."""
    first = text[:1]
    if first in FORMULA_STARTS:
        return True
    if first.isspace():
        return text.lstrip()[:1] in FORMULA_STARTS
    return False


def is_number(value: object) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _finite(value: int | float | Decimal) -> bool:
    if isinstance(value, Decimal):
        return value.is_finite()
    return math.isfinite(value)


def _local(moment: datetime, zone: tzinfo) -> datetime:
    """A stored moment (UTC) as the reader's wall-clock time, without a zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).replace(tzinfo=None)


def _headers(table: Table, zone: tzinfo) -> list[str]:
    """Headers in the reader's language; a datetime column names the time zone."""
    names = []
    for column in table.columns:
        name = clean_text(str(column.header))
        if column.kind == DATETIME:
            name = f"{name} ({zone})"
        names.append(name)
    return names


def _reader_zone() -> tzinfo:
    return get_timezone() or UTC


# --- CSV -----------------------------------------------------------------------------------


class _CsvCells:
    """Turns values into CSV text for one export (the reader's words looked up once)."""

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone
        self.words = {True: _("yes"), False: _("no")}

    def text(self, value: str) -> str:
        text = clean_text(value)
        return "'" + text if reads_as_formula(text) else text

    def cell(self, value: object, kind: str) -> str:
        if value.__class__ is str:
            return self.text(value)
        if value is None:
            return ""
        if isinstance(value, bool):
            return self.words[value]
        if is_number(value):
            if not _finite(value):
                return ""
            if kind == MONEY:
                return f"{Decimal(str(value)):.2f}" if isinstance(value, float) else f"{value:.2f}"
            return str(value)
        if isinstance(value, datetime):
            return _local(value, self.zone).isoformat(sep=" ", timespec="seconds")
        if isinstance(value, date):
            return value.isoformat()
        return self.text(str(value))


def csv_chunks(table: Table) -> Iterator[str]:
    """The table as CSV text, a few hundred rows per chunk. It starts with a byte-order
    mark so that Excel reads the file as UTF-8 (accents, Arabic)."""
    zone = _reader_zone()
    cells = _CsvCells(zone)
    kinds = [column.kind for column in table.columns]
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([cells.text(name) for name in _headers(table, zone)])
    for count, row in enumerate(table.rows, start=1):
        writer.writerow([cells.cell(v, k) for v, k in zip(row, kinds, strict=True)])
        if count % CSV_ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


# --- XLSX ----------------------------------------------------------------------------------


def _sheet_name(title: object) -> str:
    name = SHEET_NAME_FORBIDDEN.sub(" ", clean_text(str(title))).strip()
    return name[:31] or "Sheet1"


def _width(column: Column, header: str) -> float:
    wanted = column.width or WIDTHS[column.kind]
    # Room for the header and its filter button.
    return min(max(wanted, len(header) + 4), MAX_WIDTH)


class _XlsxCells:
    """Writes values into one worksheet, each as its own type of cell."""

    def __init__(self, workbook: Any, sheet: Any, zone: tzinfo) -> None:
        self.sheet = sheet
        self.zone = zone
        self.formats = {
            kind: workbook.add_format({"num_format": pattern})
            for kind, pattern in NUMBER_FORMATS.items()
        }
        # Text that reads as a formula stays text even when the cell is edited.
        self.quoted = workbook.add_format({"quote_prefix": True})

    def text(self, row: int, col: int, value: str, cell_format: Any = None) -> None:
        text = clean_text(value)[:CELL_LIMIT]
        if not text:
            return
        if reads_as_formula(text):
            cell_format = self.quoted
        if text.startswith("<r>") and text.endswith("</r>"):
            # XlsxWriter copies such a string into the sheet as rich-text XML, as it is;
            # hand it the text as a rich-text run of its own, escaped.
            text = escape(text[: CELL_LIMIT // 6])
            text = f'<r><t xml:space="preserve">{text}</t></r>'
        self.sheet.write_string(row, col, text, cell_format)

    def cell(self, row: int, col: int, value: object, kind: str) -> None:
        if value.__class__ is str:
            self.text(row, col, value)
        elif value is None:
            return
        elif isinstance(value, bool):
            self.sheet.write_boolean(row, col, value)
        elif is_number(value):
            if _finite(value):
                self.sheet.write_number(row, col, float(value), self.formats.get(kind))
        elif isinstance(value, datetime):
            self.sheet.write_datetime(row, col, _local(value, self.zone), self.formats[DATETIME])
        elif isinstance(value, date):
            self.sheet.write_datetime(row, col, value, self.formats[DATE])
        else:
            self.text(row, col, str(value))


def write_xlsx(path: str, table: Table) -> None:
    """Write the table as a workbook at ``path``, row by row in constant memory: a bold
    header row, frozen and with filters, over typed cells; right to left for a reader of
    Arabic. Nothing is ever written as a formula."""
    zone = _reader_zone()
    workbook = xlsxwriter.Workbook(
        path,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    try:
        sheet = workbook.add_worksheet(_sheet_name(table.title))
        locale = get_locale()
        if locale is not None and locale.character_order == "right-to-left":
            sheet.right_to_left()
        cells = _XlsxCells(workbook, sheet, zone)
        bold = workbook.add_format({"bold": True})
        headers = _headers(table, zone)
        kinds = [column.kind for column in table.columns]
        for index, (column, header) in enumerate(zip(table.columns, headers, strict=True)):
            sheet.set_column(index, index, _width(column, header))
        sheet.freeze_panes(1, 0)
        for index, header in enumerate(headers):
            cells.text(0, index, header, bold)
        last = 0
        for last, row in enumerate(table.rows, start=1):
            for index, (value, kind) in enumerate(zip(row, kinds, strict=True)):
                cells.cell(last, index, value, kind)
        sheet.autofilter(0, 0, last, len(headers) - 1)
    finally:
        workbook.close()


def xlsx_chunks(table: Table) -> Iterator[bytes]:
    """The table as an XLSX file written to a temporary file, then sent in chunks: the
    workbook is never whole in memory, and the file is removed whatever happens."""
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        write_xlsx(path, table)
        with open(path, "rb") as source:
            while chunk := source.read(FILE_CHUNK):
                yield chunk
    finally:
        os.unlink(path)


# --- the response --------------------------------------------------------------------------


def file_name(table: Table, kind: str) -> str:
    """``<name>-<reader's date>.<kind>``, in characters every browser and system keeps."""
    today = _local(utcnow(), _reader_zone()).date()
    stem = FILE_NAME_FORBIDDEN.sub("-", table.name).strip("-.") or "export"
    return f"{stem}-{today.isoformat()}.{kind}"


def chunks(table: Table, kind: str) -> Iterator[str] | Iterator[bytes]:
    if kind == CSV:
        return csv_chunks(table)
    if kind == XLSX:
        return xlsx_chunks(table)
    raise ValueError(f"unknown export format {kind!r}")


def response(table: Table, kind: str) -> Response:
    """The export as a download, streamed as it is written; the request (its database
    session, its reader) lives until the last byte."""
    body = chunks(table, kind)
    return Response(
        stream_with_context(body),
        mimetype=MIME_TYPES[kind],
        headers={
            "Content-Disposition": f'attachment; filename="{file_name(table, kind)}"',
            "Cache-Control": "private, no-store",
        },
    )
