"""Set-based helpers for jobs that touch thousands of rows at once (the reminder sweep).

On PostgreSQL a list of ids travels as one array parameter and new rows go in with COPY;
elsewhere (SQLite, the embedded default) the portable forms are used. Both run inside
the session's current transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Integer, Table, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql import ColumnElement

from grants.extensions import db


def on_postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def among(column: Any, ids: Sequence[int]) -> ColumnElement[bool]:
    """``column IN ids``; on PostgreSQL ``column = ANY(:ids)`` with one array parameter,
    so ten thousand ids are not ten thousand placeholders to parse."""
    if on_postgresql():
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    return column.in_(list(ids))


def insert_rows(table: Table, rows: Iterable[dict[str, Any]]) -> int:
    """Insert plain rows (no defaults applied: give every required column)."""
    rows = list(rows)
    if not rows:
        return 0
    columns = list(rows[0])
    if on_postgresql():
        raw = db.session.connection().connection.driver_connection
        names = ", ".join(f'"{name}"' for name in columns)
        with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[name] for name in columns])
    else:
        db.session.execute(table.insert(), rows)
    return len(rows)


def batches(ids: Sequence[int], size: int = 500) -> Iterable[list[int]]:
    """Ids in groups a query can take: all at once on PostgreSQL (one array), a few
    hundred at a time on SQLite (which limits bound parameters)."""
    ids = list(ids)
    step = len(ids) or 1 if on_postgresql() else size
    for start in range(0, len(ids), step):
        yield ids[start : start + step]
