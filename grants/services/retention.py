"""Retention: applications never awarded lose their documents and personal data a
number of years after their call closed (``RETENTION_YEARS_UNAWARDED``).

What goes: every document of the application (all versions: rows now, objects in the
store after the commit, DESIGN.md principle 5), its team and partner rows, its free text
(summary, objectives, locality, beneficiaries, budget and co-financing descriptions,
the evaluators' comments) and who wrote it. What stays: its reference, title, call,
association, state, amounts and scores, so the programme's figures do not change, and
its history (append-only).

The scheduler runs ``run`` daily; admins read ``preview`` first. A setting that is not a
whole number of years of at least 1 is refused, with the reason, and nothing is deleted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import joinedload

from grants.extensions import db
from grants.models.applications import Application, BudgetLine, CoFinancing, Partner, TeamMember
from grants.models.awards import Award
from grants.models.calls import Call
from grants.models.documents import Document
from grants.models.reviews import Review, Score
from grants.orm import utcnow
from grants.services import audit
from grants.services.documents import delete_after_commit
from grants.services.errors import DomainError

SETTING = "RETENTION_YEARS_UNAWARDED"
#: Applications cleared per transaction: each batch commits before the next.
BATCH = 200
#: The free text of an application that may name people.
APPLICATION_TEXT = ("summary", "objectives", "locality", "beneficiaries_description")


class RetentionRefused(DomainError):
    """The retention setting cannot be used; nothing is deleted."""

    status = 409


def years(config: Mapping[str, Any] | None = None) -> int:
    """The setting, checked again here: tests and embedders can set the configuration
    without the environment's parser."""
    raw = (config or current_app.config).get(SETTING)
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise RetentionRefused(
            _(
                "%(setting)s must be a whole number of years of at least 1 (it is %(value)s): "
                "nothing is deleted until it is corrected.",
                setting=SETTING,
                value=repr(raw),
            )
        )
    return raw


def cutoff(now: datetime, config: Mapping[str, Any] | None = None) -> datetime:
    """Calls that closed before this are past retention."""
    count = years(config)
    try:
        return now.replace(year=now.year - count)
    except ValueError:  # 29 February, in a year that has none
        return now.replace(year=now.year - count, day=28)


def _closed_at():
    return func.coalesce(Call.proposal_closes_at, Call.closes_at)


def _due(before: datetime):
    """Applications never awarded whose call closed before ``before``, not yet cleared."""
    return (
        select(Application.id)
        .join(Call, Call.id == Application.call_id)
        .where(
            Application.state != "awarded",
            Application.personal_data_deleted_at.is_(None),
            _closed_at().isnot(None),
            _closed_at() < before,
            ~select(Award.id).where(Award.application_id == Application.id).exists(),
        )
    )


@dataclass(frozen=True)
class Preview:
    before: datetime
    applications: int
    documents: int
    documents_bytes: int
    team_members: int
    partners: int
    page: Any


def preview(now: datetime | None = None, page: int = 1, per_page: int = 25) -> Preview:
    """What the next run would delete: counts, and the applications a page at a time."""
    now = now or utcnow()
    before = cutoff(now)
    due = _due(before).subquery()
    documents, size = db.session.execute(
        select(func.count(Document.id), func.coalesce(func.sum(Document.size), 0)).where(
            Document.application_id.in_(select(due.c.id))
        )
    ).one()
    listing = db.paginate(
        select(Application)
        .options(joinedload(Application.call), joinedload(Application.association))
        .where(Application.id.in_(select(due.c.id)))
        .order_by(Application.id),
        page=page,
        per_page=per_page,
        error_out=False,
    )
    return Preview(
        before=before,
        applications=listing.total or 0,
        documents=int(documents),
        documents_bytes=int(size),
        team_members=_count(TeamMember, due),
        partners=_count(Partner, due),
        page=listing,
    )


def _count(model: type, due: Any) -> int:
    return db.session.scalar(
        select(func.count(model.id)).where(model.application_id.in_(select(due.c.id)))
    )


def run(now: datetime | None = None) -> int:
    """Clear every application past retention, a batch per transaction; returns how
    many. The store's objects are deleted after each batch's commit. Running it twice
    clears nothing twice (a cleared application is marked)."""
    now = now or utcnow()
    try:
        before = cutoff(now)
    except RetentionRefused as refused:
        audit.record(None, "retention.refused", note=f"scheduler: {refused.message}")
        db.session.commit()
        raise
    cleared = 0
    while True:
        ids = db.session.scalars(_due(before).order_by(Application.id).limit(BATCH)).all()
        if not ids:
            break
        documents = clear(ids, now)
        audit.record(
            None,
            "retention.run",
            changes={"applications": ids, "documents": documents},
            note=f"scheduler: applications of calls closed before {before.isoformat()}",
        )
        db.session.commit()
        cleared += len(ids)
    if not cleared:
        audit.record(
            None,
            "retention.run",
            changes={"applications": [], "documents": 0},
            note=f"scheduler: nothing closed before {before.isoformat()} was due",
        )
        db.session.commit()
    return cleared


def clear(ids: list[int], now: datetime) -> int:
    """Delete the documents and personal data of these applications; flushes. Returns
    how many documents went."""
    keys = db.session.scalars(
        select(Document.storage_key).where(Document.application_id.in_(ids))
    ).all()
    keys = [*keys, *_clear_threads(ids)]
    db.session.execute(
        update(Document)
        .where(Document.application_id.in_(ids))
        .values(replaced_by_id=None)
        .execution_options(synchronize_session=False)
    )
    for model in (Document, TeamMember, Partner):
        db.session.execute(
            delete(model)
            .where(model.application_id.in_(ids))
            .execution_options(synchronize_session=False)
        )
    for model in (BudgetLine, CoFinancing):
        db.session.execute(
            update(model)
            .where(model.application_id.in_(ids))
            .values(description="")
            .execution_options(synchronize_session=False)
        )
    reviews = select(Review.id).where(Review.application_id.in_(ids))
    db.session.execute(
        update(Score)
        .where(Score.review_id.in_(reviews))
        .values(comment="")
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Review)
        .where(Review.application_id.in_(ids))
        .values(overall_comment="", version=Review.version + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Application)
        .where(Application.id.in_(ids))
        .values(
            **dict.fromkeys(APPLICATION_TEXT, ""),
            created_by_id=None,
            personal_data_deleted_at=now,
            version=Application.version + 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()
    delete_after_commit(keys)
    return len(keys)


def _clear_threads(ids: list[int]) -> list[str]:
    """The applications' conversations go whole: what the association and the office
    wrote there is personal data like the rest. Returns the attachments' keys."""
    from grants.models.conversations import Message, Thread, ThreadRead

    threads = select(Thread.id).where(Thread.application_id.in_(ids))
    messages = select(Message.id).where(Message.thread_id.in_(threads))
    keys = db.session.scalars(
        select(Document.storage_key).where(Document.message_id.in_(messages))
    ).all()
    db.session.execute(
        delete(Document)
        .where(Document.message_id.in_(messages))
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Message)
        .where(Message.thread_id.in_(threads))
        .values(in_answer_to_id=None)
        .execution_options(synchronize_session=False)
    )
    for model, column in (
        (ThreadRead, ThreadRead.thread_id),
        (Message, Message.thread_id),
        (Thread, Thread.id),
    ):
        db.session.execute(
            delete(model).where(column.in_(threads)).execution_options(synchronize_session=False)
        )
    return list(keys)


def next_run() -> datetime | None:
    """When the leading scheduler plans the next run, as it published it."""
    from grants.models.notifications import ScheduledJob

    return db.session.scalar(
        select(ScheduledJob.next_run_at).where(ScheduledJob.name == "retention")
    )
