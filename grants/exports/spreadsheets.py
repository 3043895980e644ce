"""Every CSV and XLSX file the product hands out is written here.

Officers and finance open these files in Excel or LibreOffice, and what applicants typed
(a title, an association's name, an account holder) ends up in the cells. So each cell is
written for what it is: a number as a number, a date as a date, and text as text that a
spreadsheet can never run: text that would read as a formula (``=HYPERLINK(…)``,
``@SUM(…)``, ``+1+1``, their full-width forms) is quoted, and control characters that XML
forbids (``\\x0b`` pasted from Word) are removed, so the XLSX file always opens.

A ``Table`` is typed columns and an iterable of rows; rows may be a generator reading the
database in batches, so 100,000 applications never sit in memory at once. CSV is sent as
it is written; XLSX is compressed into its zip and sent as it is written too. Headers,
sheet names, yes/no and the time zone of datetimes follow the reader (flask_babel).
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

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


#: The cell styles of ``xl/styles.xml``, by position: plain, bold (the header), each
#: kind's number format, and quoted text (text that reads as a formula stays text even
#: when the cell is edited).
PLAIN, BOLD, QUOTED = 0, 1, 2
STYLE_OF = {MONEY: 3, NUMBER: 4, DATE: 5, DATETIME: 6}
EXCEL_EPOCH = date(1899, 12, 30)
#: Excel reads ``_xHHHH_`` in text as the character HHHH; a literal one is escaped.
EXCEL_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
XLSX_ROWS_PER_CHUNK = 500
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


class _XlsxCells:
    """Turns values into the XML of one worksheet's cells, each its own type of cell."""

    def __init__(self, zone: tzinfo, columns: int) -> None:
        self.zone = zone
        self.letters = [_column_letters(index) for index in range(columns)]

    def text(self, ref: str, value: str, style: int = PLAIN) -> str:
        text = clean_text(value)[:CELL_LIMIT]
        if not text:
            return ""
        if reads_as_formula(text):
            style = QUOTED
        # XML reads a carriage return as a line feed: Excel's own escape keeps it.
        text = escape(EXCEL_ESCAPE.sub(r"_x005F_\1", text)).replace("\r", "_x000D_")
        styled = f' s="{style}"' if style else ""
        return f'<c r="{ref}"{styled} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'

    def cell(self, ref: str, value: object, kind: str) -> str:
        if value.__class__ is str:
            return self.text(ref, value)  # type: ignore[arg-type]
        if value is None:
            return ""
        if isinstance(value, bool):
            return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
        if is_number(value):
            if not _finite(value):  # type: ignore[arg-type]
                return ""
            style = STYLE_OF.get(kind)
            styled = f' s="{style}"' if style else ""
            number = value if isinstance(value, int) else float(value)  # type: ignore[arg-type]
            return f'<c r="{ref}"{styled}><v>{number!r}</v></c>'
        if isinstance(value, datetime):
            moment = _local(value, self.zone)
            serial = (moment.date() - EXCEL_EPOCH).days + (
                moment.hour * 3600 + moment.minute * 60 + moment.second
            ) / 86400
            return f'<c r="{ref}" s="{STYLE_OF[DATETIME]}"><v>{serial!r}</v></c>'
        if isinstance(value, date):
            return f'<c r="{ref}" s="{STYLE_OF[DATE]}"><v>{(value - EXCEL_EPOCH).days}</v></c>'
        return self.text(ref, str(value))

    def row(self, number: int, values: Sequence[object], kinds: Sequence[str]) -> str:
        cells = "".join(
            self.cell(f"{letter}{number}", value, kind)
            for letter, value, kind in zip(self.letters, values, kinds, strict=True)
        )
        return f'<row r="{number}">{cells}</row>'


def _styles_xml() -> str:
    formats = "".join(
        f'<numFmt numFmtId="{164 + index}" formatCode="{escape(NUMBER_FORMATS[kind])}"/>'
        for index, kind in enumerate((MONEY, NUMBER, DATE, DATETIME))
    )
    number_xfs = "".join(
        f'<xf numFmtId="{164 + index}" fontId="0" fillId="0" borderId="0" xfId="0" '
        'applyNumberFormat="1"/>'
        for index in range(4)
    )
    return (
        f'{XML_HEAD}<styleSheet xmlns="{MAIN_NS}">'
        f'<numFmts count="4">{formats}</numFmts>'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        '<cellXfs count="7"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>'
        f"{number_xfs}</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


def _package_parts(sheet_name: str, last_ref: str) -> list[tuple[str, str]]:
    """Every part of the workbook but its sheet; the filter's range names the last row."""
    sheet = escape(sheet_name, {'"': "&quot;"})
    quoted = sheet_name.replace("'", "''")
    workbook_type = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    return [
        (
            "[Content_Types].xml",
            f'{XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package'
            '.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{workbook_type}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" '
            f'ContentType="{workbook_type}.worksheet+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{workbook_type}.styles+xml"/>'
            "</Types>",
        ),
        (
            "_rels/.rels",
            f'{XML_HEAD}<Relationships xmlns="{PACKAGE_NS}"><Relationship Id="rId1" '
            f'Type="{RELATIONSHIPS_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        ),
        (
            "xl/workbook.xml",
            f'{XML_HEAD}<workbook xmlns="{MAIN_NS}" xmlns:r="{RELATIONSHIPS_NS}">'
            "<bookViews><workbookView/></bookViews>"
            f'<sheets><sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets>'
            '<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" '
            f"hidden=\"1\">'{escape(quoted)}'!$A$1:${last_ref}</definedName></definedNames>"
            "</workbook>",
        ),
        (
            "xl/_rels/workbook.xml.rels",
            f'{XML_HEAD}<Relationships xmlns="{PACKAGE_NS}">'
            f'<Relationship Id="rId1" Type="{RELATIONSHIPS_NS}/worksheet" '
            'Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{RELATIONSHIPS_NS}/styles" Target="styles.xml"/>'
            "</Relationships>",
        ),
        ("xl/styles.xml", _styles_xml()),
    ]


class _Sink:
    """Where the zip writer puts its bytes until the response takes them: a stream
    without ``seek`` or ``tell``, so zipfile writes each part as it comes."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def xlsx_chunks(table: Table) -> Iterator[bytes]:
    """The table as an XLSX workbook, sent while it is written: the sheet's rows are
    compressed into the zip as they are read, so the first bytes leave before the last
    row is read and nothing is kept whole, in memory or on disk. A bold header row,
    frozen and with filters, over typed cells; right to left for a reader of Arabic.
    Nothing is ever written as a formula.

    XlsxWriter, used before, assembles its zip only once the whole sheet is written,
    so a large export sent nothing for seconds; the few parts of a one-sheet workbook
    are simple enough to write here, and every one is checked by the tests."""
    zone = _reader_zone()
    headers = _headers(table, zone)
    kinds = [column.kind for column in table.columns]
    cells = _XlsxCells(zone, len(headers))
    locale = get_locale()
    rtl = (
        ' rightToLeft="1"'
        if locale is not None and locale.character_order == "right-to-left"
        else ""
    )
    widths = "".join(
        f'<col min="{index}" max="{index}" width="{_width(column, header)}" customWidth="1"/>'
        for index, (column, header) in enumerate(zip(table.columns, headers, strict=True), 1)
    )
    sink = _Sink()
    archive = zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6)
    sheet = archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True)
    sheet.write(
        (
            f'{XML_HEAD}<worksheet xmlns="{MAIN_NS}" xmlns:r="{RELATIONSHIPS_NS}">'
            f'<sheetViews><sheetView{rtl} tabSelected="1" workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft"/></sheetView></sheetViews>'
            f'<sheetFormatPr defaultRowHeight="15"/><cols>{widths}</cols><sheetData>'
            '<row r="1">'
            + "".join(
                cells.text(f"{letter}1", header, BOLD)
                for letter, header in zip(cells.letters, headers, strict=True)
            )
            + "</row>"
        ).encode()
    )
    yield sink.take()
    last = 1
    batch: list[str] = []
    for last, row in enumerate(table.rows, start=2):
        batch.append(cells.row(last, row, kinds))
        if len(batch) == XLSX_ROWS_PER_CHUNK:
            sheet.write("".join(batch).encode())
            batch = []
            yield sink.take()
    last_ref = f"{cells.letters[-1]}{last}"
    sheet.write(
        f'{"".join(batch)}</sheetData><autoFilter ref="A1:{last_ref}"/></worksheet>'.encode()
    )
    sheet.close()
    for name, text in _package_parts(_sheet_name(table.title), f"{cells.letters[-1]}${last}"):
        archive.writestr(name, text)
    archive.close()
    yield sink.take()


def write_xlsx(path: str, table: Table) -> None:
    """The workbook of ``table`` as a file at ``path``."""
    with open(path, "wb") as target:
        for chunk in xlsx_chunks(table):
            target.write(chunk)


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
