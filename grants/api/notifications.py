"""The caller's in-app notifications."""

from __future__ import annotations

from sqlalchemy import select

from grants.api.auth import authenticate
from grants.api.resources import (
    blueprint,
)
from grants.api.schemas import (
    ListArgs,
    NotificationSchema,
)
from grants.extensions import db
from grants.models.notifications import Notification


@blueprint.route("/notifications", methods=["GET"])
@blueprint.arguments(ListArgs, location="query")
@blueprint.response(200, NotificationSchema(many=True))
def list_notifications(args):
    """The caller's in-app notifications, newest first (page size capped at 100)."""
    person = authenticate()
    page, per_page = args["page"], args["per_page"]
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.recipient_id == person.id, Notification.channel == "in_app")
            .order_by(Notification.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
