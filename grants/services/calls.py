"""Calls: what is open now, and who runs what."""

from __future__ import annotations

from sqlalchemy import select

from grants.extensions import db
from grants.models.accounts import User
from grants.models.calls import Call
from grants.orm import utcnow


def open_calls(page: int = 1, per_page: int = 20):
    """Open calls whose deadline has not passed, the soonest deadline first."""
    statement = (
        select(Call)
        .where(Call.state == "open", Call.closes_at > utcnow())
        .order_by(Call.closes_at, Call.id)
    )
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


def calls_run_by(user: User, limit: int = 20) -> list[Call]:
    """The calls a programme officer created, newest first."""
    statement = (
        select(Call)
        .where(Call.created_by_id == user.id)
        .order_by(Call.created_at.desc(), Call.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(statement))
