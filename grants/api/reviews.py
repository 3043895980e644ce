"""Reviews through the API: assigned by an officer, attested and scored by the evaluator."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from grants.api.auth import authenticate
from grants.api.resources import (
    blueprint,
    check_version,
    etag_of,
    with_options,
)
from grants.api.schemas import (
    ApiErrorSchema,
    RecordIdField,
    ReviewSchema,
    Versioned,
)
from grants.extensions import db
from grants.models.accounts import User
from grants.services import applications as application_service
from grants.services import evaluation as evaluation_service
from grants.services.errors import InvalidInput


class AssignmentCreate(Schema):
    application_id = RecordIdField(required=True)
    evaluator_id = RecordIdField(required=True)


@blueprint.route("/reviews", methods=["POST"])
@blueprint.arguments(AssignmentCreate)
@blueprint.response(201, ReviewSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def assign_evaluator(body):
    """Assign an evaluator to an eligible application (programme officers), with the
    rules of the assignment page: never a member of, or in conflict with, the association."""
    person = authenticate()
    application = application_service.visible_application(person, body["application_id"])
    evaluator = db.session.get(User, body["evaluator_id"])
    if evaluator is None:
        raise InvalidInput("No such evaluator.", {"evaluator_id": ["No such evaluator."]})
    review = evaluation_service.assign(person, application, evaluator)
    db.session.flush()
    return with_options([review], person, True)[0], 201, etag_of(review)


@blueprint.route("/reviews/<int:record_id>/no-conflict", methods=["POST"])
@blueprint.response(200, ReviewSchema)
def attest_no_conflict(record_id: int):
    """The evaluator attests having no conflict of interest with the association: only
    then may they read the application and score it."""
    person = authenticate()
    review = evaluation_service.own_review(person, record_id)
    evaluation_service.attest_no_conflict(person, review)
    db.session.flush()
    return with_options([review], person, True)[0], 200, etag_of(review)


class ScoreItem(Schema):
    criterion_id = fields.Integer(required=True)
    score = fields.Integer(allow_none=True, required=True)
    comment = fields.String(load_default="", validate=validate.Length(max=5000))


class ScoresUpdate(Versioned):
    scores = fields.List(fields.Nested(ScoreItem), required=True)
    recommendation = fields.String(load_default=None, allow_none=True)
    overall_comment = fields.String(load_default="", validate=validate.Length(max=10000))


@blueprint.route("/reviews/<int:record_id>/scores", methods=["PUT"])
@blueprint.arguments(ScoresUpdate)
@blueprint.response(200, ReviewSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
@blueprint.alt_response(428, schema=ApiErrorSchema, description="no version given")
def put_scores(body, record_id: int):
    """The evaluator's scores, one per criterion with a comment, and a recommendation."""
    person = authenticate()
    review = evaluation_service.review_for(person, record_id)
    check_version(body, review, "review")
    positions: dict[int, int] = {}
    for index, item in enumerate(body["scores"]):
        first = positions.setdefault(item["criterion_id"], index)
        if first != index:
            raise InvalidInput(
                "Each criterion is scored once: see errors.",
                {f"scores.{index}.criterion_id": [f"Already scored in scores.{first}."]},
            )
    try:
        evaluation_service.save_scores(
            person,
            review,
            {item["criterion_id"]: (item["score"], item["comment"]) for item in body["scores"]},
            body.get("recommendation"),
            body.get("overall_comment", ""),
        )
    except InvalidInput as refused:
        names = {}
        for criterion_id, index in positions.items():
            names[f"score-{criterion_id}"] = f"scores.{index}.score"
            names[f"criterion-{criterion_id}"] = f"scores.{index}.criterion_id"
        raise refused.renamed(names) from None
    db.session.flush()
    return with_options([review], person, True)[0], 200, etag_of(review)
