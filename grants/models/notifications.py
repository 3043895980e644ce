"""Notifications: an outbox row per recipient and channel, written in the same transaction
as the change that caused it, delivered later by the dispatcher."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.extensions import db
from grants.models.accounts import User
from grants.orm import utcnow

CHANNELS = ("email", "in_app")
#: ``held`` emails wait for the recipient's daily digest instead of going out one by one.
STATES = ("pending", "held", "sent", "failed")
#: How a person receives a category: each email at once, a daily digest, or in-app only.
DELIVERY_MODES = ("immediate", "digest", "in_app")


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint("channel IN ('email', 'in_app')", name="channel_known"),
        CheckConstraint("state IN ('pending', 'held', 'sent', 'failed')", name="state_known"),
        Index("ix_notifications_due", "state", "next_attempt_at"),
        Index("ix_notifications_inbox", "recipient_id", "channel", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Rule, recipient, channel and event: a notification is never written twice.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    rule: Mapped[str] = mapped_column(String(60))
    category: Mapped[str] = mapped_column(String(30))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(10))
    entity_type: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int]
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(300), default="")
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]
    #: The digest email that carried this held row.
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"))
    #: The scheduler lease whose dispatcher holds this row now; empty when nobody does,
    #: or when a dispatcher outside the scheduler claimed it (``next_attempt_at`` then
    #: keeps it for a fixed time instead).
    claimed_by: Mapped[int | None] = mapped_column(
        ForeignKey("scheduler_leases.id", ondelete="SET NULL"), index=True
    )
    claimed_at: Mapped[datetime | None]
    #: When a dispatcher last began handing the email to SMTP; an attempt begun after
    #: the claim and never finished is one a dead dispatcher may have sent.
    attempted_at: Mapped[datetime | None]

    recipient: Mapped[User] = relationship()
    #: For a digest: the held rows it carried.
    digested: Mapped[list[Notification]] = relationship(order_by="Notification.id")


class Reminder(db.Model):
    """One occurrence of a reminder rule for one entity: the unique key makes a sweep that
    runs twice, or two sweeps at once, remind once."""

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint(
            "rule", "entity_type", "entity_id", "occurrence", name="uq_reminders_once"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    rule: Mapped[str] = mapped_column(String(60))
    entity_type: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int]
    #: Which reminder of the series: ``7d``, ``1d``, ``overdue-2`` …
    occurrence: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationPreference(db.Model):
    """How one person receives one category; absent means immediate email."""

    __tablename__ = "notification_preferences"
    __table_args__ = (
        UniqueConstraint(
            "user_id", "category", name="uq_notification_preferences_one_per_category"
        ),
        CheckConstraint("mode IN ('immediate', 'digest', 'in_app')", name="mode_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(30))
    mode: Mapped[str] = mapped_column(String(10))


class SchedulerLease(db.Model):
    """One term of one scheduler process as leader. The lead is exclusive (an advisory
    lock, or a file lock on SQLite), so when a process takes it every other lease is
    over: its holder died or lost its connection, and the rows it claimed are free."""

    __tablename__ = "scheduler_leases"

    id: Mapped[int] = mapped_column(primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    acquired_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]


class JobRun(db.Model):
    """One run of a scheduled job: what it handled, how long, and the error if any."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40))
    host: Mapped[str] = mapped_column(String(120), default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None]
    items: Mapped[int] = mapped_column(default=0)
    error: Mapped[str] = mapped_column(Text, default="")


class ScheduledJob(db.Model):
    """What the leading scheduler plans: shown to admins, who cannot see its memory."""

    __tablename__ = "scheduled_jobs"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    next_run_at: Mapped[datetime | None]
    leader: Mapped[str] = mapped_column(String(120), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
