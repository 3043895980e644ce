"""Claims on outbox rows, tied to the lease of the scheduler leader that made them.

The lead is exclusive (an advisory lock held on its own connection on PostgreSQL, a file
lock on SQLite), so a process that takes it knows every earlier leader is gone: dead, or
cut from the database. ``begin`` records its lease, ends every other one and frees the
rows they held, at once rather than after a fixed delay. A leader also frees every
leased row at the start of each dispatch run, since its runs never overlap and whatever
is still claimed then was left by a run that failed half-way.

Before handing an email to SMTP a dispatcher stamps ``attempted_at`` and commits,
provided its claim and its lease still stand, so a leader that lost the lead sends
nothing more. A claimed row whose attempt began and never finished may have reached the
recipient: it counts as an attempt and is sent again with the same ``Message-ID``, which
lets the receiving side recognise the second copy.

A dispatcher outside the scheduler (``flask scheduler once dispatch``, a test) holds no
lease: its claim hides the row for ``CLAIM_LEASE`` instead, as no leader can tell whether
that process is still alive.

Two queues are claimed this way: the outbox's emails and the webhook deliveries. Their
rows share the columns a claim reads and writes, so one set of rules serves both.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, exists, select, update

from grants.extensions import db
from grants.models.notifications import Notification, SchedulerLease
from grants.models.webhooks import WebhookDelivery, WebhookEndpoint
from grants.orm import utcnow

log = logging.getLogger(__name__)
#: Attempts before an email is marked failed for an admin to retry.
MAX_ATTEMPTS = 6
#: A row claimed without a lease is not claimed again for this long.
CLAIM_LEASE = timedelta(minutes=10)
INTERRUPTED = "Interrupted while being sent; sent again with the same Message-ID."


@dataclass(frozen=True)
class Queue:
    """A table of rows sent after the commit. Its rows carry ``state`` (``pending`` until
    sent or ``failed``), ``attempts``, ``next_attempt_at``, ``last_error``, ``claimed_by``,
    ``claimed_at`` and ``attempted_at``."""

    model: Any
    #: Attempts before a row is marked failed for an admin to retry or replay.
    max_attempts: int
    #: The error recorded on a row whose attempt a dead dispatcher may have made.
    interrupted: str
    #: Which of the table's rows a dispatcher may send now.
    sendable: Callable[[], ColumnElement[bool]]


EMAILS = Queue(Notification, MAX_ATTEMPTS, INTERRUPTED, lambda: Notification.channel == "email")
#: A paused endpoint's deliveries wait, unclaimed, until it is resumed.
WEBHOOKS = Queue(
    WebhookDelivery,
    10,
    "Interrupted while being sent; sent again with the same Webhook-Id.",
    lambda: WebhookDelivery.endpoint_id.in_(
        select(WebhookEndpoint.id).where(WebhookEndpoint.active.is_(True))
    ),
)
QUEUES = (EMAILS, WEBHOOKS)

_lease: ContextVar[int | None] = ContextVar("scheduler_lease", default=None)


def current() -> int | None:
    """The lease of the leader whose job runs in this context, if any."""
    return _lease.get()


@contextmanager
def holding(lease_id: int | None) -> Iterator[None]:
    """Run a job on behalf of ``lease_id``."""
    token = _lease.set(lease_id)
    try:
        yield
    finally:
        _lease.reset(token)


def _live(lease_id: int):
    return exists(
        select(SchedulerLease.id).where(
            SchedulerLease.id == lease_id, SchedulerLease.ended_at.is_(None)
        )
    )


def alive(lease_id: int) -> bool:
    """Whether ``lease_id`` still leads: no newer leader has ended it."""
    return bool(db.session.scalar(select(_live(lease_id))))


# --- the leader's term -----------------------------------------------------------------


def begin(holder: str, now: datetime | None = None) -> int:
    """Called by a process that has just taken the lead: record its lease, end all
    others and free what they held. Commits; returns the lease id."""
    now = now or utcnow()
    lease = SchedulerLease(holder=holder[:120], acquired_at=now)
    db.session.add(lease)
    db.session.flush()
    ended = db.session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.id != lease.id, SchedulerLease.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    freed = free(now)
    db.session.commit()
    if ended or freed:
        log.warning(
            "Scheduler %s leads (lease %s): ended %s earlier lease(s), freed %s claimed row(s)",
            holder,
            lease.id,
            ended,
            freed,
        )
    return lease.id


def end(lease_id: int, now: datetime | None = None) -> None:
    """A leader stepping down ends its lease and frees its rows. Commits."""
    now = now or utcnow()
    db.session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.id == lease_id, SchedulerLease.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session=False)
    )
    free(now, lease_id)
    db.session.commit()


def free(now: datetime, lease_id: int | None = None) -> int:
    """Release leased claims (all of them, or ``lease_id``'s) of every queue, due at once.
    A row whose attempt began after its claim may have been sent: that attempt is counted,
    so a row that kills every dispatcher still ends ``failed``. Flushes; returns the count."""
    return sum(_free(queue, now, lease_id) for queue in QUEUES)


def _free(queue: Queue, now: datetime, lease_id: int | None) -> int:
    model = queue.model
    held = model.claimed_by.is_not(None)
    if lease_id is not None:
        held = model.claimed_by == lease_id
    if db.session.scalar(select(model.id).where(held).limit(1)) is None:
        return 0  # the usual case: no write, so no write lock on SQLite
    interrupted = db.session.scalars(
        update(model)
        .where(
            held,
            model.state == "pending",
            model.attempted_at >= model.claimed_at,
        )
        .values(
            attempts=model.attempts + 1,
            last_error=queue.interrupted,
            state=case((model.attempts + 1 >= queue.max_attempts, "failed"), else_=model.state),
            claimed_by=None,
            claimed_at=None,
        )
        .returning(model.id)
        .execution_options(synchronize_session=False)
    ).all()
    if interrupted:
        log.warning(
            "%s %s were being sent when their dispatcher stopped; they go again",
            model.__tablename__,
            sorted(interrupted),
        )
    rest = db.session.execute(
        update(model)
        .where(held)
        .values(claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    return len(interrupted) + (rest or 0)


# --- claims on rows ------------------------------------------------------------------


def claim(
    now: datetime, limit: int, lease_id: int | None = None, queue: Queue = EMAILS
) -> list[int]:
    """Take up to ``limit`` due rows of ``queue``, atomically (``FOR UPDATE SKIP LOCKED``
    on PostgreSQL), for ``lease_id`` while it lives, or for ``CLAIM_LEASE``. Commits."""
    model = queue.model
    due = (
        select(model.id)
        .where(
            queue.sendable(),
            model.state == "pending",
            model.next_attempt_at <= now,
            model.claimed_by.is_(None),
        )
        .order_by(model.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        # Chosen once: a subquery PostgreSQL rescans may pick other rows, past ``limit``.
        .cte("due")
        .prefix_with("MATERIALIZED")
    )
    conditions = [
        model.id.in_(select(due.c.id)),
        model.state == "pending",
        model.next_attempt_at <= now,
        model.claimed_by.is_(None),
    ]
    if lease_id is None:
        values = dict(next_attempt_at=now + CLAIM_LEASE)
    else:
        conditions.append(_live(lease_id))
        values = dict(claimed_by=lease_id, claimed_at=now)
    claimed = db.session.scalars(
        update(model)
        .where(*conditions)
        .values(**values)
        .returning(model.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted(claimed)


def start_attempt(
    row_id: int, now: datetime, lease_id: int | None = None, queue: Queue = EMAILS
) -> bool:
    """Stamp the attempt before the row leaves, if the claim still stands (the row is
    pending, may still be sent, is still ours, and our lease not ended by a newer
    leader). Commits."""
    model = queue.model
    conditions = [model.id == row_id, model.state == "pending", queue.sendable()]
    if lease_id is None:
        conditions.append(model.claimed_by.is_(None))
    else:
        conditions += [model.claimed_by == lease_id, _live(lease_id)]
    stamped = db.session.execute(
        update(model)
        .where(*conditions)
        .values(attempted_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return bool(stamped)
