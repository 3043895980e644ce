"""Officers' exports as rows: applications of a call, tranches and payments, reports'
indicators. Each export is a header and a generator of plain tuples read in batches
(``yield_per``), so 100,000 applications never sit in memory at once; the CSV and XLSX
writers stream them to the response."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, select

from grants.exports import xlsx
from grants.extensions import db
from grants.models.applications import Application
from grants.models.associations import Association
from grants.models.awards import Award, Report, Tranche
from grants.models.calls import Call

BATCH = 1000
CHUNK = 64 * 1024


@dataclass(frozen=True)
class Table:
    name: str
    header: tuple[str, ...]
    rows: Iterable[Sequence[object]]


def _stream(statement: Select) -> Iterator[tuple]:
    """Rows in batches; on PostgreSQL through a server-side cursor."""
    result = db.session.execute(statement.execution_options(yield_per=BATCH))
    for partition in result.partitions():
        yield from (tuple(row) for row in partition)


def applications_of(call: Call) -> Table:
    statement = (
        select(
            Application.reference,
            Association.name,
            Application.title,
            Application.country,
            Application.state,
            Application.amount_requested,
            Application.budget_currency,
            Application.submitted_at,
        )
        .join(Association, Association.id == Application.association_id)
        .where(Application.call_id == call.id)
        .order_by(Application.id)
    )
    return Table(
        f"applications-{call.code}",
        (
            "Reference",
            "Association",
            "Title",
            "Country",
            "State",
            "Amount requested",
            "Budget currency",
            "Submitted at",
        ),
        _stream(statement),
    )


def tranches_and_payments() -> Table:
    statement = (
        select(
            Application.reference,
            Association.name,
            Tranche.position,
            Tranche.amount,
            Award.currency,
            Tranche.state,
            Tranche.requested_at,
            Tranche.paid_at,
            Tranche.payment_date,
            Tranche.bank_reference,
        )
        .join(Award, Award.id == Tranche.award_id)
        .join(Application, Application.id == Award.application_id)
        .join(Association, Association.id == Award.association_id)
        .order_by(Award.id, Tranche.position)
    )
    return Table(
        "tranches-and-payments",
        (
            "Grant",
            "Association",
            "Tranche",
            "Amount",
            "Currency",
            "State",
            "Requested at",
            "Paid at",
            "Payment date",
            "Bank reference",
        ),
        _stream(statement),
    )


def report_indicators() -> Table:
    """One row per report and indicator: the value, or women and men."""
    statement = (
        select(
            Application.reference,
            Report.kind,
            Report.due_date,
            Report.state,
            Report.indicator_values,
            Call.indicators,
            Call.language,
        )
        .join(Award, Award.id == Report.award_id)
        .join(Application, Application.id == Award.application_id)
        .join(Call, Call.id == Application.call_id)
        .order_by(Report.id)
    )

    def rows() -> Iterator[tuple]:
        for reference, kind, due, state, values, indicators, language in _stream(statement):
            for index, indicator in enumerate(indicators or []):
                value = (values or {}).get(str(index), {})
                names = indicator.get("name") or {}
                name = names.get(language) or next(iter(names.values()), "")
                yield (
                    reference,
                    kind,
                    due,
                    state,
                    name,
                    value.get("value", ""),
                    value.get("women", ""),
                    value.get("men", ""),
                )

    return Table(
        "report-indicators",
        ("Grant", "Report", "Due", "State", "Indicator", "Value", "Women", "Men"),
        rows(),
    )


def csv_chunks(table: Table) -> Iterator[str]:
    """The table as CSV text, a few hundred rows per chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(table.header)
    for count, row in enumerate(table.rows, start=1):
        writer.writerow(["" if v is None else v for v in row])
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_chunks(table: Table) -> Iterator[bytes]:
    """The table as an XLSX file written row by row to a temporary file, then sent in
    chunks: the workbook is never whole in memory."""
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        with open(path, "wb") as target:
            xlsx.write_workbook(target, table.name, table.header, table.rows)
        with open(path, "rb") as source:
            while chunk := source.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)
