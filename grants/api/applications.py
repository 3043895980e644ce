"""Drafts through the API: started, changed with the version read."""

from __future__ import annotations

from marshmallow import Schema

from grants.api.auth import authenticate
from grants.api.resources import (
    blueprint,
    check_version,
    etag_of,
    with_options,
)
from grants.api.schemas import (
    ApiErrorSchema,
    ApplicationSchema,
    ApplicationUpdate,
    RecordIdField,
)
from grants.extensions import db
from grants.services import applications as application_service
from grants.services import associations as association_service
from grants.services import calls as call_service
from grants.services import eligibility as eligibility_service
from grants.services.errors import InvalidInput


class ApplicationCreate(Schema):
    call_id = RecordIdField(required=True)
    association_id = RecordIdField(required=True)


@blueprint.route("/applications", methods=["POST"])
@blueprint.arguments(ApplicationCreate)
@blueprint.response(201, ApplicationSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema)
def create_application(body):
    """Start a draft for one of the caller's associations in an open call."""
    person = authenticate()
    call = call_service.visible_call(person, body["call_id"])
    association = association_service.visible_association(person, body["association_id"])
    application = application_service.start_application(person, call, association)
    db.session.flush()
    return with_options([application], person, True)[0], 201, etag_of(application)


@blueprint.route("/applications/<int:record_id>", methods=["PATCH"])
@blueprint.arguments(ApplicationUpdate)
@blueprint.response(200, ApplicationSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema, description="the version is stale")
@blueprint.alt_response(428, schema=ApiErrorSchema, description="no version given")
def update_application(body, record_id: int):
    """Change a draft; send the version read (If-Match: "<version>" or "version")."""
    person = authenticate()
    application = application_service.visible_application(person, record_id)
    check_version(body, application, "application")
    version = application.version
    lines = body.pop("budget_lines", None)
    sources = body.pop("cofinancing", None)
    if lines is None:
        lines = [
            {
                "category": line.category,
                "description": line.description,
                "quantity": line.quantity,
                "unit_cost": line.unit_cost,
            }
            for line in application.budget_lines
        ]
    if sources is None:
        sources = [
            {"source": c.source, "description": c.description, "amount": c.amount}
            for c in application.cofinancing
        ]
    partners, team = body.pop("partners", None), body.pop("team", None)
    answers = body.pop("answers", None)
    eligibility_answers = body.pop("eligibility_answers", None)
    if eligibility_answers is not None:
        # Every question answered, as on the page; the version is checked once, here.
        eligibility_service.save_answers(person, application, version, eligibility_answers)
        version = application.version
    try:
        application_service.save_draft(
            person, application, version, body, lines, sources, partners, team, answers, False
        )
    except InvalidInput as refused:
        # The answers' errors under the name the request gave them.
        raise InvalidInput(
            refused.message,
            {
                (f"answers.{name[2:]}" if name.startswith("q_") else name): messages
                for name, messages in refused.errors.items()
            },
        ) from None
    db.session.flush()
    return with_options([application], person, True)[0], 200, etag_of(application)
