"""Assigning evaluators through the API, as the call's assignment page does: the
automatic proposal (computed, not saved), saving the pairs the officer keeps, removing
an assignment, and starting the review of every application that has an evaluator. One
assignment at a time is ``POST /reviews`` (in ``reviews``)."""

from __future__ import annotations

from marshmallow import Schema, fields

from grants.api.auth import authenticate
from grants.api.resources import blueprint, with_options
from grants.api.schemas import ApiErrorSchema, RecordIdField, ReviewSchema
from grants.extensions import db
from grants.services import calls as call_service
from grants.services import evaluation as evaluation_service


class PairSchema(Schema):
    application_id = RecordIdField(required=True)
    evaluator_id = RecordIdField(required=True)


class LoadSchema(Schema):
    evaluator_id = fields.Integer(required=True)
    reviews = fields.Integer(required=True, metadata={"description": "assigned now plus proposed"})


class ShortfallSchema(Schema):
    application_id = fields.Integer(required=True)
    reason = fields.String(required=True)


class ProposalSchema(Schema):
    call_id = fields.Integer(required=True)
    pairs = fields.List(fields.Nested(PairSchema), required=True)
    loads = fields.List(fields.Nested(LoadSchema), required=True)
    shortfalls = fields.List(
        fields.Nested(ShortfallSchema),
        required=True,
        metadata={"description": "applications left with fewer evaluators, and why"},
    )


class ProposalSave(Schema):
    pairs = fields.List(fields.Nested(PairSchema), required=True)


class SavedSchema(Schema):
    items = fields.List(fields.Nested(ReviewSchema), required=True)


class StartedSchema(Schema):
    started = fields.Integer(
        required=True, metadata={"description": "applications moved into review"}
    )


@blueprint.route("/calls/<int:record_id>/assignment-proposal", methods=["GET"])
@blueprint.response(200, ProposalSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
def propose_assignments(record_id: int):
    """The automatic proposal for the call's eligible applications: evaluators who read
    the application's language, within their maximum load, never in conflict. Nothing
    is saved; save the pairs to keep with ``POST /calls/{id}/assignments``."""
    person = authenticate()
    call = call_service.visible_call(person, record_id)
    proposal = evaluation_service.propose_assignments(person, call)
    return {
        "call_id": call.id,
        "pairs": [{"application_id": a, "evaluator_id": e} for a, e in proposal.pairs],
        "loads": [{"evaluator_id": e, "reviews": n} for e, n in sorted(proposal.loads.items())],
        "shortfalls": [
            {"application_id": a, "reason": reason}
            for a, reason in sorted(proposal.shortfalls.items())
        ],
    }


@blueprint.route("/calls/<int:record_id>/assignments", methods=["POST"])
@blueprint.arguments(ProposalSave)
@blueprint.response(201, SavedSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def save_assignments(body, record_id: int):
    """Save the proposed pairs the officer keeps, all or none; each is checked again as
    a single assignment."""
    person = authenticate()
    call = call_service.visible_call(person, record_id)
    pairs = [(pair["application_id"], pair["evaluator_id"]) for pair in body["pairs"]]
    saved = evaluation_service.save_proposal(person, call, pairs)
    db.session.flush()
    return {"items": with_options(saved, person, True)}, 201


@blueprint.route("/calls/<int:record_id>/review-start", methods=["POST"])
@blueprint.response(200, StartedSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
def start_reviews(record_id: int):
    """Move every eligible application of the call that has an evaluator into review."""
    person = authenticate()
    call = call_service.visible_call(person, record_id)
    started = evaluation_service.start_review(person, call)
    db.session.flush()
    return {"started": started}


@blueprint.route("/reviews/<int:record_id>", methods=["DELETE"])
@blueprint.response(204)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema, description="the review is submitted")
def remove_assignment(record_id: int):
    """Remove an assignment whose review is not submitted (programme officers)."""
    person = authenticate()
    review = evaluation_service.review_for(person, record_id)
    evaluation_service.unassign(person, review)
    db.session.flush()
