"""How far each person has read each thread, from which unread counts follow.

Reading a thread writes nothing in the request's transaction (a GET locks no row): the
marker is noted on the request and written after it, in a short transaction of its own
that only moves markers forward (``write_read_markers``, a teardown of the pages)."""

from __future__ import annotations

from flask import g, has_request_context
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from grants.bulk import on_postgresql
from grants.extensions import db
from grants.models.accounts import User
from grants.models.conversations import Thread, ThreadRead
from grants.orm import utcnow

#: ``g`` key of the read markers to write after the request.
READ_MARKERS = "conversations_read"


def mark_read(person: User, thread: Thread, last_id: int) -> None:
    """Remember that the person has read ``thread`` up to ``last_id``. Reading writes
    nothing in the request's transaction (a GET locks no row): the marker is written
    after the request, in a short transaction of its own (``write_read_markers``)."""
    if has_request_context():
        markers = g.setdefault(READ_MARKERS, {})
        markers[(thread.id, person.id)] = max(last_id, markers.get((thread.id, person.id), 0))
    else:
        _upsert_markers({(thread.id, person.id): last_id})


def write_read_markers(error: BaseException | None) -> None:
    """Teardown: write the read markers the request noted, unless it failed."""
    markers = g.pop(READ_MARKERS, None)
    if not markers or error is not None:
        return
    from grants.database import writes_from_now

    try:
        writes_from_now()
        _upsert_markers(markers)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()


def _upsert_markers(markers: dict[tuple[int, int], int]) -> None:
    """Move each marker forward (never back: two tabs may finish in any order)."""
    dialect = postgresql if on_postgresql() else sqlite
    now = utcnow()
    for (thread_id, user_id), last_id in markers.items():
        statement = dialect.insert(ThreadRead.__table__).values(
            thread_id=thread_id, user_id=user_id, last_read_id=last_id, read_at=now
        )
        statement = statement.on_conflict_do_update(
            index_elements=["thread_id", "user_id"],
            set_={"last_read_id": last_id, "read_at": now},
            where=ThreadRead.__table__.c.last_read_id < last_id,
        )
        db.session.execute(statement)
