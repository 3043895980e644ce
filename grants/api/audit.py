"""The audit trail through the API, for admins: the same filters as its page, newest
first, paged by key (``before``) without counting every row."""

from __future__ import annotations

from flask import url_for
from marshmallow import Schema, fields, validate

from grants.api.auth import authenticate
from grants.api.resources import blueprint
from grants.api.schemas import ApiErrorSchema
from grants.services import audit

TEXT = {"type": "string"}


class AuditArgs(Schema):
    email = fields.String(
        load_default="", metadata={"description": "the person who acted (or typed at a login)"}
    )
    record_type = fields.String(
        load_default="", metadata={"description": "one of " + ", ".join(audit.RECORD_TYPES)}
    )
    record_id = fields.String(
        load_default="", metadata={"description": "the record's number (with record_type)"}
    )
    kind = fields.String(
        load_default="", metadata={"description": "one of " + ", ".join(audit.KINDS)}
    )
    since = fields.String(
        load_default="", metadata={"description": "first day, YYYY-MM-DD, in the caller's time"}
    )
    until = fields.String(
        load_default="", metadata={"description": "last day, YYYY-MM-DD, included"}
    )
    before = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "rows older than this id (the next page's address has it)"},
    )
    per_page = fields.Integer(load_default=audit.PER_PAGE, validate=validate.Range(min=1, max=100))


class AuditRowSchema(Schema):
    id = fields.Integer(required=True)
    at = fields.AwareDateTime(required=True)
    actor_id = fields.Integer(allow_none=True, metadata={"description": "null: the system"})
    actor_email = fields.String(
        required=True, metadata={"description": "the actor's, or the address typed at a login"}
    )
    actor_name = fields.Function(
        lambda row: row.actor.full_name if row.actor else None,
        metadata={**TEXT, "nullable": True, "description": "null: the system or nobody"},
    )
    kind = fields.String(required=True)
    kind_label = fields.Function(lambda row: audit.kind_label(row.kind), metadata=TEXT)
    record_type = fields.String(allow_none=True)
    record_id = fields.Integer(allow_none=True)
    remote_address = fields.String(allow_none=True)
    user_agent = fields.String(allow_none=True)
    changes = fields.Dict(
        keys=fields.String(),
        metadata={"description": "{field: [before, after]}"},
    )
    note = fields.String(required=True)


class AuditPage(Schema):
    items = fields.List(fields.Nested(AuditRowSchema), required=True)
    next = fields.String(
        allow_none=True, metadata={"description": "the older rows; null when there are none"}
    )


@blueprint.route("/audit", methods=["GET"])
@blueprint.arguments(AuditArgs, location="query")
@blueprint.response(200, AuditPage)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not an admin")
@blueprint.alt_response(422, schema=ApiErrorSchema, description="a filter is not valid")
def audit_trail(args):
    """The audit trail, newest first: who, when, from where, what, and the fields before
    and after. Filtered by person (email), record (record_type and record_id), kind and
    period (since, until: days in the caller's time zone). For admins."""
    person = authenticate()
    audit.check_may_read(person)
    filters = audit.parse_filters(args)
    rows, older = audit.trail(
        person, filters, args["before"], zone=person.timezone or "UTC", per_page=args["per_page"]
    )
    following = None
    if older is not None:
        following = url_for(
            "api.audit_trail", before=older, per_page=args["per_page"], **filters.query()
        )
    return {"items": rows, "next": following}
