"""The duplicate check through the API: the applications most like one, and the
officers' verdict on a pair (programme officers and admins read; officers record)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from grants.api.auth import authenticate
from grants.api.resources import blueprint
from grants.api.schemas import ApiErrorSchema, RecordIdField
from grants.extensions import db
from grants.models.duplicates import VERDICTS
from grants.services import applications as application_service
from grants.services import duplicates as service


class SimilarSchema(Schema):
    application_id = fields.Integer(required=True)
    reference = fields.String(allow_none=True)
    title = fields.String()
    association = fields.String()
    call_code = fields.String()
    state = fields.String()
    similarity = fields.Integer(metadata={"description": "percent, 0–100"})
    verdict = fields.String(allow_none=True, metadata={"description": "the pair's last"})
    verdict_comment = fields.String(allow_none=True)
    grant_id = fields.Integer(allow_none=True, metadata={"description": "a grant it holds"})
    same_association = fields.Boolean()
    same_locality = fields.Boolean()
    double_funding = fields.Boolean()


class DuplicateCheckSchema(Schema):
    similar = fields.List(fields.Nested(SimilarSchema))
    double_funding = fields.List(fields.Nested(SimilarSchema))


class VerdictCreate(Schema):
    other_id = RecordIdField(required=True)
    verdict = fields.String(required=True, validate=validate.OneOf(VERDICTS))
    comment = fields.String(required=True)


class VerdictSchema(Schema):
    first_id = fields.Integer()
    second_id = fields.Integer()
    verdict = fields.String()
    similarity = fields.Integer()
    comment = fields.String()
    decided_at = fields.DateTime()


def _similar(found: service.Similar) -> dict:
    application = found.application
    return {
        "application_id": application.id,
        "reference": application.reference,
        "title": application.title,
        "association": application.association.name,
        "call_code": application.call.code,
        "state": application.state,
        "similarity": found.similarity,
        "verdict": found.verdict.verdict if found.verdict else None,
        "verdict_comment": found.verdict.comment if found.verdict else None,
        "grant_id": found.grant.id if found.grant else None,
        "same_association": found.same_association,
        "same_locality": found.same_locality,
        "double_funding": found.double_funding,
    }


@blueprint.route("/applications/<int:record_id>/duplicates", methods=["GET"])
@blueprint.response(200, DuplicateCheckSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
def application_duplicates(record_id: int):
    """The applications most like this one across every call and association, with a
    similarity in percent, and the similar projects of the same association or locality
    already holding a grant."""
    person = authenticate()
    application = application_service.visible_application(person, record_id)
    found = service.check(person, application)
    return {
        "similar": [_similar(s) for s in found.similar],
        "double_funding": [_similar(s) for s in found.double_funding],
    }


@blueprint.route("/applications/<int:record_id>/duplicates", methods=["POST"])
@blueprint.arguments(VerdictCreate)
@blueprint.response(201, VerdictSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def record_duplicate_verdict(body, record_id: int):
    """Record whether another application is a duplicate of this one, with a comment
    (kept in both applications' history); the pair's last verdict counts."""
    person = authenticate()
    application = application_service.visible_application(person, record_id)
    service.check_may_check(person)
    verdict = service.record_verdict(
        person, application, body["other_id"], body["verdict"], body["comment"]
    )
    db.session.flush()
    return verdict, 201
