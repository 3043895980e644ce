"""Counting the SQL statements a request runs, for tests that a page's cost does not
grow with the data it shows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from grants.extensions import db


@contextmanager
def statements() -> Iterator[list[str]]:
    """The SQL statements run inside the block, in order."""
    seen: list[str] = []

    def record(_connection, _cursor, statement, *_args) -> None:
        seen.append(statement)

    engine = db.session.get_bind().engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def cost_of(client, url: str, **kwargs) -> int:
    """How many statements one successful GET of ``url`` runs."""
    with statements() as seen:
        response = client.get(url, **kwargs)
        assert response.status_code == 200, (url, response.status_code)
    return len(seen)
