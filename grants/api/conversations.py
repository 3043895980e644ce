"""Threads through the API: read, post a message, note or request for information, attach
a document, close a request. Who reads and writes what is decided as on the pages (the
policy layer and ``services.conversations``); a thread is paged by key, newest first."""

from __future__ import annotations

from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from grants.api.auth import authenticate
from grants.api.documents import _MultipartBlueprint, serve
from grants.api.schemas import ApiErrorSchema, RecordIdField
from grants.services import conversations as service
from grants.services import documents as document_service

blueprint = _MultipartBlueprint(
    "api_conversations", __name__, description="Conversations on applications and grants"
)

KINDS = ("message", "note", "request")


@blueprint.before_request
def _authenticate() -> None:
    authenticate()


class AttachmentSchema(Schema):
    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()


class MessageSchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "message, note (staff only) or request"})
    body = fields.String()
    author_id = fields.Integer(allow_none=True)
    author = fields.Function(
        lambda m: m.author.display_name if m.author else None,
        metadata={"type": "string", "nullable": True, "description": "who wrote it"},
    )
    created_at = fields.AwareDateTime()
    shared_with_evaluators = fields.Boolean()
    in_answer_to_id = fields.Integer(allow_none=True)
    due_on = fields.Date(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    is_open = fields.Boolean(metadata={"description": "a request for information not closed"})
    attachments = fields.List(fields.Nested(AttachmentSchema))


class ThreadSchema(Schema):
    thread_id = fields.Integer(allow_none=True)
    messages = fields.List(fields.Nested(MessageSchema), metadata={"description": "oldest first"})
    earlier = fields.String(
        allow_none=True, metadata={"description": "the address of the earlier messages"}
    )


class ThreadArgs(Schema):
    before = RecordIdField(load_default=None, metadata={"description": "messages before this id"})


class PostSchema(Schema):
    body = fields.String(required=True, validate=validate.Length(max=service.BODY.limit))
    kind = fields.String(load_default="message", validate=validate.OneOf(KINDS))
    in_answer_to = RecordIdField(load_default=None)
    due_on = fields.Date(load_default=None, metadata={"description": "for a request"})


class AttachSchema(PostSchema):
    file = Upload(required=True, metadata={"description": "the file (PDF, image, office)"})


class CloseSchema(Schema):
    comment = fields.String(load_default="", validate=validate.Length(max=service.BODY.limit))


def _thread(kind: str, record_id: int, args) -> dict:
    person = authenticate()
    subject = service.subject_for(person, kind, record_id)
    found = service.conversation(person, subject, args["before"])
    earlier = None
    if found.earlier:
        path = "applications" if kind == "application" else "awards"
        earlier = f"/api/v1/{path}/{record_id}/thread?before={found.messages[0].id}"
    return {
        "thread_id": found.thread.id if found.thread else None,
        "messages": found.messages,
        "earlier": earlier,
    }


def _post(kind: str, record_id: int, data, upload=None):
    person = authenticate()
    subject = service.subject_for(person, kind, record_id)
    return service.post(
        person,
        subject,
        data["body"],
        kind=data["kind"],
        upload=upload,
        in_answer_to=data["in_answer_to"],
        due_on=data["due_on"],
    )


def _upload(data) -> document_service.Upload:
    file = data["file"]
    return document_service.Upload(file.stream, file.filename or "file", file.mimetype)


@blueprint.route("/applications/<int:record_id>/thread", methods=["GET"])
@blueprint.arguments(ThreadArgs, location="query")
@blueprint.response(200, ThreadSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
def application_thread(args, record_id: int):
    """The application's thread as the caller may read it (notes for staff only)."""
    return _thread("application", record_id, args)


@blueprint.route("/awards/<int:record_id>/thread", methods=["GET"])
@blueprint.arguments(ThreadArgs, location="query")
@blueprint.response(200, ThreadSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
def award_thread(args, record_id: int):
    """The grant's thread as the caller may read it (notes for staff only)."""
    return _thread("award", record_id, args)


@blueprint.route("/applications/<int:record_id>/thread/messages", methods=["POST"])
@blueprint.arguments(PostSchema)
@blueprint.response(201, MessageSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def post_application_message(data, record_id: int):
    """Write a message, a note (staff) or a request for information (officers, with
    ``due_on``) on an application; its state does not change."""
    return _post("application", record_id, data)


@blueprint.route("/awards/<int:record_id>/thread/messages", methods=["POST"])
@blueprint.arguments(PostSchema)
@blueprint.response(201, MessageSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def post_award_message(data, record_id: int):
    """Write a message, a note (staff) or a request for information on a grant."""
    return _post("award", record_id, data)


@blueprint.route("/applications/<int:record_id>/thread/attachments", methods=["POST"])
@blueprint.arguments(AttachSchema, location="multipart")
@blueprint.response(201, MessageSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def attach_application_message(data, record_id: int):
    """A message with a document (multipart), checked by content like every upload; a
    refused file leaves no message."""
    return _post("application", record_id, data, _upload(data))


@blueprint.route("/awards/<int:record_id>/thread/attachments", methods=["POST"])
@blueprint.arguments(AttachSchema, location="multipart")
@blueprint.response(201, MessageSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def attach_award_message(data, record_id: int):
    """A message with a document on a grant (multipart)."""
    return _post("award", record_id, data, _upload(data))


@blueprint.route("/thread/requests/<int:record_id>/close", methods=["POST"])
@blueprint.arguments(CloseSchema)
@blueprint.response(200, MessageSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def close_information_request(data, record_id: int):
    """An officer closes a request for information."""
    return service.close_request(authenticate(), record_id, data["comment"])


@blueprint.route("/thread/attachments/<int:record_id>/content", methods=["GET"])
@blueprint.response(200, description="the file (local store)")
@blueprint.alt_response(302, description="a short-lived link (S3)")
@blueprint.alt_response(404, schema=ApiErrorSchema)
def download_attachment(record_id: int):
    """A message's attachment, for whoever may read the message."""
    person = authenticate()
    return serve(person, service.attachment_for(person, record_id))
