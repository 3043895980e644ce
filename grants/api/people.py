"""People through the API: the caller (``/me``) and, for the officers who assign
reviews, the evaluators with their languages and current load."""

from __future__ import annotations

from marshmallow import Schema, fields

from grants.api.auth import authenticate
from grants.api.resources import blueprint
from grants.api.schemas import ApiErrorSchema, PageArgs, page_of, page_schema
from grants.services import evaluation as evaluation_service

STRINGS = {"type": "array", "items": {"type": "string"}}


class MembershipSchema(Schema):
    association_id = fields.Integer(required=True)
    name = fields.String(required=True, attribute="association.name")
    state = fields.String(required=True, attribute="association.state")


class MeSchema(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    full_name = fields.String(allow_none=True)
    locale = fields.String(required=True)
    timezone = fields.String(allow_none=True)
    languages = fields.Function(
        lambda person: list(person.languages or []),
        metadata={**STRINGS, "description": "the languages they read and review in"},
    )
    roles = fields.Function(lambda person: sorted(person.role_names), metadata=STRINGS)
    memberships = fields.List(fields.Nested(MembershipSchema), required=True)
    two_factor = fields.Function(
        lambda person: bool(person.tf_primary_method),
        metadata={"type": "boolean", "description": "whether a second factor is set up"},
    )


class EvaluatorSchema(Schema):
    id = fields.Integer(required=True, attribute="person.id")
    full_name = fields.String(allow_none=True, attribute="person.full_name")
    email = fields.String(required=True, attribute="person.email")
    languages = fields.Function(
        lambda load: list(load.person.languages or []),
        metadata={**STRINGS, "description": "the languages they review in"},
    )
    waiting = fields.Integer(
        required=True, metadata={"description": "reviews assigned and not yet submitted"}
    )
    submitted = fields.Integer(required=True)
    conflicts = fields.Integer(
        required=True,
        metadata={"description": "associations they declared a conflict of interest with"},
    )


EvaluatorPage = page_schema(EvaluatorSchema)


@blueprint.route("/me", methods=["GET"])
@blueprint.response(200, MeSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
def me():
    """Who the token belongs to: roles, associations and languages."""
    return authenticate()


@blueprint.route("/evaluators", methods=["GET"])
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, EvaluatorPage)
@blueprint.alt_response(403, schema=ApiErrorSchema)
def list_evaluators(args):
    """Active evaluators by name, with the languages they read and their current load:
    whom to pass as ``evaluator_id`` to ``POST /reviews``. For programme officers and
    admins."""
    return page_of(evaluation_service.evaluator_directory(authenticate()), args)
