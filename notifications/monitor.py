"""What admins see of the scheduler: its plan, its last runs, and the outbox; and the
failed emails they send again. Only admins: the pages and the API ask ``check_may_watch``
before reading, and the retries check it themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from grants.extensions import db
from grants.models.accounts import User
from grants.models.notifications import JobRun, Notification, ScheduledJob
from grants.orm import utcnow
from grants.roles import ADMIN
from grants.services.errors import Conflict, Forbidden, NotFound
from notifications import outbox
from workflows.base import roles_sentence

WATCHERS = frozenset({ADMIN})


@dataclass(frozen=True)
class Health:
    leader: str
    last_seen: datetime | None
    alive: bool


def check_may_watch(person: User) -> None:
    if not WATCHERS & person.role_names:
        raise Forbidden(str(roles_sentence(WATCHERS)))


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


def recent_runs(job: str = "", page: int = 1, per_page: int = 50):
    statement = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc())
    if job:
        statement = statement.where(JobRun.job == job)
    return db.paginate(statement, page=page, per_page=per_page, error_out=False)


@dataclass(frozen=True)
class JobStatus:
    """A job of the scheduler, its place in the leader's plan and its latest run."""

    name: str
    description: str
    next_run_at: datetime | None
    leader: str
    last_run: JobRun | None


def jobs() -> list[JobStatus]:
    """Every job the scheduler runs, in two queries whatever the history's length."""
    from notifications.scheduler import JOBS

    planned = {row.name: row for row in plan()}
    latest = select(func.max(JobRun.id)).group_by(JobRun.job).scalar_subquery()
    runs = {run.job: run for run in db.session.scalars(select(JobRun).where(JobRun.id.in_(latest)))}
    return [
        JobStatus(
            name=job.name,
            description=job.description,
            next_run_at=planned[job.name].next_run_at if job.name in planned else None,
            leader=planned[job.name].leader if job.name in planned else "",
            last_run=runs.get(job.name),
        )
        for job in JOBS
    ]


def outbox_counts() -> dict[str, int]:
    counts = dict.fromkeys(("pending", "held", "failed"), 0)
    rows = db.session.execute(
        select(Notification.state, func.count(Notification.id))
        .where(Notification.channel == "email", Notification.state != "sent")
        .group_by(Notification.state)
    )
    counts.update({state: count for state, count in rows})
    return counts


def failed(page: int = 1, per_page: int = 50):
    return db.paginate(
        select(Notification)
        .where(Notification.channel == "email", Notification.state == "failed")
        .options(selectinload(Notification.recipient))
        .order_by(Notification.id.desc()),
        page=page,
        per_page=per_page,
        error_out=False,
    )


def retry(person: User, notification_id: int, now: datetime | None = None) -> Notification:
    """An admin sends one failed email again."""
    check_may_watch(person)
    try:
        return outbox.retry(notification_id, now)
    except LookupError:
        raise NotFound(_("No such notification.")) from None
    except outbox.RecipientAnonymised:
        raise Conflict(_("This email is not sent again: its recipient was anonymised.")) from None
    except ValueError:
        raise Conflict(_("Only a failed notification can be retried.")) from None


def retry_all_failed(person: User, now: datetime | None = None) -> int:
    """An admin sends every failed email again; returns how many."""
    check_may_watch(person)
    ids = db.session.scalars(
        select(Notification.id)
        .join(User, User.id == Notification.recipient_id)
        .where(
            Notification.channel == "email",
            Notification.state == "failed",
            User.anonymised_at.is_(None),
        )
    ).all()
    for row_id in ids:
        outbox.retry(row_id, now)
    return len(ids)
