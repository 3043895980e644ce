"""The caller's in-app notifications: a page at a time, and marked read."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from grants.api.auth import authenticate
from grants.api.resources import blueprint
from grants.api.schemas import (
    ApiErrorSchema,
    NotificationSchema,
    PageArgs,
    PageSchema,
    RecordIdField,
    page_of_found,
)
from notifications import outbox


class NotificationPage(PageSchema):
    items = fields.List(fields.Nested(NotificationSchema), required=True)
    unread = fields.Integer(required=True, metadata={"description": "unread in all pages"})


class ReadRequest(Schema):
    ids = fields.List(
        RecordIdField(),
        validate=validate.Length(max=1000),
        metadata={"description": "the notifications to mark read; all unread when left out"},
    )


class ReadAnswer(Schema):
    marked = fields.Integer(required=True)
    unread = fields.Integer(required=True)


@blueprint.route("/notifications", methods=["GET"])
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, NotificationPage)
def list_notifications(args):
    """The caller's in-app notifications, newest first, with how many are unread."""
    person = authenticate()
    found = outbox.inbox(person.id, args["page"], args["per_page"])
    return {**page_of_found(found), "unread": outbox.unread_count(person.id)}


@blueprint.route("/notifications/read", methods=["POST"])
@blueprint.arguments(ReadRequest)
@blueprint.response(200, ReadAnswer)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def read_notifications(body):
    """Mark the caller's notifications read: those of ``ids``, or every unread one."""
    person = authenticate()
    marked = outbox.mark_all_read(person.id, body.get("ids"))
    return {"marked": marked, "unread": outbox.unread_count(person.id)}
