"""Reading a dashboard page as its reader does: the tables' cells, the SVG bars and their
accessible titles, and the CSV downloads."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from tests import spreadsheets


class _Tables(HTMLParser):
    """Every ``table.figures`` of a page, by id: its header and rows of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, list]] = {}
        self._table: dict | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "table" and "figures" in (attributes.get("class") or ""):
            self._table = {"header": [], "rows": []}
            self.tables[attributes["id"].removesuffix("-table")] = self._table
        elif self._table is not None:
            if tag == "thead":
                self._in_head = True
            elif tag == "tr":
                self._row = []
            elif tag in ("td", "th") and self._row is not None:
                self._cell = []

    def handle_endtag(self, tag):
        if self._table is None:
            return
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(re.sub(r"\s+", " ", "".join(self._cell)).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            (self._table["header"] if self._in_head else self._table["rows"]).append(
                tuple(self._row)
            )
            self._row = None
        elif tag == "thead":
            self._in_head = False
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def tables_of(response) -> dict[str, dict[str, list]]:
    parser = _Tables()
    parser.feed(response.get_data(as_text=True))
    return parser.tables


def rows_of(response, name: str) -> list[tuple[str, ...]]:
    return tables_of(response)[name]["rows"]


def svg_of(response, name: str) -> str:
    html = response.get_data(as_text=True)
    found = re.search(rf'<svg[^>]*aria-labelledby="{name}-title[^"]*".*?</svg>', html, re.S)
    assert found, f"no chart {name}"
    return found.group(0)


def bar_titles(svg: str) -> list[str]:
    return re.findall(r'<rect class="bar[^"]*"[^>]*><title>(.*?)</title></rect>', svg)


def csv_rows(response) -> list[list[str]]:
    return spreadsheets.csv_rows(response)
