"""The outbox: rows written with the change, delivered afterwards with retries.

``record_event`` listens to every transition and writes, in the same transaction, one row
per recipient and channel for each matching rule; a rolled-back change therefore leaves no
notification. ``dispatch`` claims due email rows with a conditional update (so two
dispatchers never send one row twice), sends, and on failure retries with exponential
backoff until ``MAX_ATTEMPTS``, after which the row is marked failed for an admin to see.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, url_for
from sqlalchemy import func, select, update

from grants.extensions import db
from grants.models.notifications import Notification
from grants.orm import utcnow
from grants.services.workflow import DomainEvent, transition_fired
from notifications.mailer import send_email
from notifications.rules import RULES

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(minutes=1)


def _context(record: Any, event: DomainEvent) -> dict[str, str]:
    application = getattr(record, "application", None) or record
    call = getattr(application, "call", None)
    return {
        "reference": getattr(application, "reference", "") or "",
        "call": call.text("title", call.language) if call else "",
        "name": getattr(record, "name", "") or "",
        "comment": event.comment or "",
    }


def _link(record: Any, entity_type: str) -> str:
    if entity_type == "association":
        return url_for("associations.show", association_id=record.id)
    application = getattr(record, "application", None) or record
    return url_for("applications.show", application_id=application.id)


def record_event(sender: str, event: DomainEvent, record: Any = None) -> list[Notification]:
    """Write the notifications an event calls for (both channels), in its transaction."""
    rules = [r for r in RULES if r.entity == event.entity_type and r.transition == event.transition]
    if not rules:
        return []
    written = []
    for rule in rules:
        values = _context(record, event)
        subject, body = rule.subject.format(**values), rule.body.format(**values).strip()
        for person in {p.id: p for p in rule.recipients(record)}.values():
            for channel in ("email", "in_app"):
                key = f"{rule.name}:{event.entity_id}:{event.at.isoformat()}:{person.id}:{channel}"
                row = Notification(
                    dedupe_key=key[:200],
                    rule=rule.name,
                    category=rule.category,
                    recipient_id=person.id,
                    channel=channel,
                    entity_type=event.entity_type,
                    entity_id=event.entity_id,
                    subject=subject,
                    body=body,
                    link=_link(record, event.entity_type),
                    state="pending" if channel == "email" else "sent",
                    next_attempt_at=event.at,
                    sent_at=None if channel == "email" else event.at,
                )
                db.session.add(row)
                written.append(row)
    db.session.flush()
    return written


transition_fired.connect(record_event)


def dispatch(now: datetime | None = None, limit: int = 100) -> tuple[int, int]:
    """Send due email rows; returns (sent, failed attempts). Commits per row."""
    now = now or utcnow()
    due = db.session.scalars(
        select(Notification.id)
        .where(
            Notification.channel == "email",
            Notification.state == "pending",
            Notification.next_attempt_at <= now,
        )
        .order_by(Notification.id)
        .limit(limit)
    ).all()
    sent = failed = 0
    for row_id in due:
        claimed = db.session.execute(
            update(Notification)
            .where(
                Notification.id == row_id,
                Notification.state == "pending",
                Notification.next_attempt_at <= now,
            )
            .values(next_attempt_at=now + timedelta(hours=1))
        ).rowcount
        db.session.commit()
        if not claimed:
            continue  # another dispatcher took it
        row = db.session.get(Notification, row_id)
        base = current_app.config["BASE_URL"]
        try:
            send_email(
                row.recipient.email,
                row.subject,
                f"{row.body}\n\n{base}{row.link}\n",
                message_id=row.message_id,
            )
        except Exception as error:  # any SMTP failure: retry later, never lose the row
            row.attempts += 1
            row.last_error = str(error)[:500]
            if row.attempts >= MAX_ATTEMPTS:
                row.state = "failed"
            else:
                row.next_attempt_at = now + FIRST_RETRY * 2 ** (row.attempts - 1)
            failed += 1
            log.warning("Notification %s not sent: %s", row.id, error)
        else:
            row.state, row.sent_at, row.attempts = "sent", now, row.attempts + 1
            sent += 1
        db.session.commit()
    return sent, failed


def unread_count(user_id: int) -> int:
    return db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.recipient_id == user_id,
            Notification.channel == "in_app",
            Notification.read_at.is_(None),
        )
    )


def inbox(user_id: int, page: int = 1):
    return db.paginate(
        select(Notification)
        .where(Notification.recipient_id == user_id, Notification.channel == "in_app")
        .order_by(Notification.created_at.desc(), Notification.id.desc()),
        page=page,
        per_page=25,
        error_out=False,
    )


def mark_all_read(user_id: int) -> None:
    db.session.execute(
        update(Notification)
        .where(
            Notification.recipient_id == user_id,
            Notification.channel == "in_app",
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
