"""Webhooks: the integrations an admin registers, and one delivery row per endpoint and
event, written in the same transaction as the change and sent later by the scheduler."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.extensions import db
from grants.models.accounts import User
from grants.orm import utcnow

DELIVERY_STATES = ("pending", "delivered", "failed")


class WebhookEndpoint(db.Model):
    """An address that receives the events it subscribes to, signed with its secret.

    The secret must be read back to sign each delivery, so it is kept as it is; it is
    shown once, when it is made, and never again."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(300), default="")
    #: A paused endpoint is written no delivery, and its waiting retries stay put.
    active: Mapped[bool] = mapped_column(default=True)
    secret: Mapped[str] = mapped_column(String(100))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    secret_rotated_at: Mapped[datetime | None]
    #: The secret before the last rotation: deliveries are signed with it too for a day
    #: after (``notifications.webhooks.ROTATION_OVERLAP``), while the receiver changes.
    previous_secret: Mapped[str | None] = mapped_column(String(100))

    created_by: Mapped[User | None] = relationship()
    subscriptions: Mapped[list[WebhookSubscription]] = relationship(
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="WebhookSubscription.event_type",
    )

    @property
    def event_types(self) -> list[str]:
        return [s.event_type for s in self.subscriptions]


class WebhookSubscription(db.Model):
    """One event type an endpoint receives: a row each, so an event finds its endpoints
    with one indexed query."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (Index("ix_webhook_subscriptions_event", "event_type", "endpoint_id"),)

    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), primary_key=True
    )
    event_type: Mapped[str] = mapped_column(String(60), primary_key=True)


class WebhookDelivery(db.Model):
    """One event for one endpoint, as the exact JSON body that is signed and sent.

    Claimed, attempted and retried like the outbox's emails (``notifications.claims``).
    A replay is a new row with the same body and ``webhook_id``."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'delivered', 'failed')", name="state_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        #: An event is written once per endpoint, however often its listener is called.
        UniqueConstraint("endpoint_id", "event_key"),
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_recent", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(60))
    #: The domain event's key (its history row); empty for a replay.
    event_key: Mapped[str | None] = mapped_column(String(200))
    #: The id the receiver deduplicates on: in the body and the ``Webhook-Id`` header.
    webhook_id: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: The HTTP status of the last answer; empty when none came (refused, timed out).
    response_status: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    replay_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="SET NULL")
    )
    replayed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    claimed_by: Mapped[int | None] = mapped_column(
        ForeignKey("scheduler_leases.id", ondelete="SET NULL"), index=True
    )
    claimed_at: Mapped[datetime | None]
    attempted_at: Mapped[datetime | None]

    endpoint: Mapped[WebhookEndpoint] = relationship()

    @property
    def record(self) -> dict[str, Any]:
        """The record the body speaks of, for the admin page."""
        return json.loads(self.payload).get("record", {})
