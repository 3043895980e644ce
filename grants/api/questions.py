"""A call's own questions through the API: what it asks, in every language, so that a
client builds the form; answers are sent with the application (``answers``)."""

from __future__ import annotations

from marshmallow import Schema, fields

from grants.api.auth import authenticate
from grants.api.resources import blueprint
from grants.api.schemas import ApiErrorSchema
from grants.services import calls as call_service
from grants.services import questions as service

TEXTS = {"type": "object", "additionalProperties": {"type": "string"}}


class QuestionOptionSchema(Schema):
    value = fields.String()
    label = fields.Dict(keys=fields.String(), values=fields.String())


class QuestionSchema(Schema):
    key = fields.String(metadata={"description": "the name of its answer in ``answers``"})
    kind = fields.String()
    label = fields.Dict(keys=fields.String(), values=fields.String(), metadata=TEXTS)
    help = fields.Dict(keys=fields.String(), values=fields.String(), metadata=TEXTS)
    required = fields.Boolean()
    max_words = fields.Integer(allow_none=True)
    minimum = fields.Decimal(as_string=True, allow_none=True)
    maximum = fields.Decimal(as_string=True, allow_none=True)
    options = fields.List(fields.Nested(QuestionOptionSchema))
    condition_key = fields.String(
        allow_none=True, metadata={"description": "asked only when this question…"}
    )
    condition_value = fields.String(
        allow_none=True, metadata={"description": "…is answered this value"}
    )


class SectionSchema(Schema):
    title = fields.Dict(keys=fields.String(), values=fields.String(), metadata=TEXTS)
    questions = fields.List(fields.Nested(QuestionSchema))


class QuestionSetSchema(Schema):
    version = fields.Integer(allow_none=True)
    language = fields.String(metadata={"description": "the call's, where a text is missing"})
    sections = fields.List(fields.Nested(SectionSchema))


@blueprint.route("/calls/<int:record_id>/questions", methods=["GET"])
@blueprint.response(200, QuestionSetSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
def call_questions(record_id: int):
    """The newest version of the call's own questions (none: no sections)."""
    person = authenticate()
    call = call_service.visible_call(person, record_id)
    question_set = service.latest_set(call)
    return {
        "version": question_set.number if question_set else None,
        "language": call.language,
        "sections": question_set.sections if question_set else [],
    }
