"""What admins see of the scheduler: its plan, its last runs, and the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from grants.extensions import db
from grants.models.notifications import JobRun, Notification, ScheduledJob
from grants.orm import utcnow
from notifications import outbox


@dataclass(frozen=True)
class Health:
    leader: str
    last_seen: datetime | None
    alive: bool


def plan() -> list[ScheduledJob]:
    return list(db.session.scalars(select(ScheduledJob).order_by(ScheduledJob.name)))


def health(now: datetime | None = None) -> Health:
    """Is a scheduler leading? Its last sign of life is its last finished job run; the
    outbox runs every few seconds, so silence longer than two sweeps means none."""
    now = now or utcnow()
    last = db.session.execute(
        select(JobRun.host, JobRun.finished_at)
        .where(JobRun.finished_at.is_not(None))
        .order_by(JobRun.finished_at.desc())
        .limit(1)
    ).first()
    if last is None:
        return Health("", None, False)
    quiet = timedelta(seconds=2 * current_app.config["SCHEDULER_SWEEP_SECONDS"])
    return Health(last.host, last.finished_at, now - last.finished_at <= quiet)


def recent_runs(job: str = "", page: int = 1):
    statement = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc())
    if job:
        statement = statement.where(JobRun.job == job)
    return db.paginate(statement, page=page, per_page=50, error_out=False)


def outbox_counts() -> dict[str, int]:
    counts = dict.fromkeys(("pending", "held", "failed"), 0)
    rows = db.session.execute(
        select(Notification.state, func.count(Notification.id))
        .where(Notification.channel == "email", Notification.state != "sent")
        .group_by(Notification.state)
    )
    counts.update({state: count for state, count in rows})
    return counts


def failed(page: int = 1):
    return db.paginate(
        select(Notification)
        .where(Notification.channel == "email", Notification.state == "failed")
        .order_by(Notification.id.desc()),
        page=page,
        per_page=50,
        error_out=False,
    )


def retry_all_failed(now: datetime | None = None) -> int:
    ids = db.session.scalars(
        select(Notification.id).where(
            Notification.channel == "email", Notification.state == "failed"
        )
    ).all()
    for row_id in ids:
        outbox.retry(row_id, now)
    return len(ids)
