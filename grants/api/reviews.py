"""Reviews through the API: assigned by an officer, attested and scored by the evaluator."""

from __future__ import annotations

from marshmallow import Schema, fields

from grants import text_limits as limits
from grants.api.auth import authenticate
from grants.api.resources import (
    blueprint,
    check_version,
    etag_of,
    with_options,
)
from grants.api.schemas import (
    Amount,
    ApiErrorSchema,
    BudgetLineSchema,
    RecordIdField,
    ReviewSchema,
    Versioned,
    Within,
)
from grants.extensions import db
from grants.models.accounts import User
from grants.services import applications as application_service
from grants.services import evaluation as evaluation_service
from grants.services import review_documents
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
    comment = fields.String(load_default="", validate=Within(limits.SCORE_COMMENT))


class ScoresUpdate(Versioned):
    scores = fields.List(fields.Nested(ScoreItem), required=True)
    recommendation = fields.String(load_default=None, allow_none=True)
    overall_comment = fields.String(load_default="", validate=Within(limits.OVERALL_COMMENT))


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


# --- what the evaluator reads ------------------------------------------------------------


class ReadDocumentSchema(Schema):
    id = fields.Integer(required=True, attribute="document.id")
    name = fields.String(
        required=True, metadata={"description": "in a blind call, its type's name only"}
    )
    filename = fields.String(required=True)
    content_type = fields.String(required=True, attribute="document.content_type")


class ReadCriterionSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    description = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    weight = Amount(required=True)
    scale_min = fields.Integer(required=True)
    scale_max = fields.Integer(required=True)


class ReadingSchema(Schema):
    """The application as its evaluator reads it on the review page."""

    review_id = fields.Integer(required=True, attribute="review.id")
    application_id = fields.Integer(required=True, attribute="review.application.id")
    reference = fields.String(required=True, attribute="review.application.reference")
    association = fields.String(
        required=True,
        allow_none=True,
        attribute="association_name",
        metadata={"description": "null in a blind call"},
    )
    language = fields.String(required=True, attribute="review.application.language")
    title = fields.String(required=True, attribute="review.application.title")
    summary = fields.String(required=True, attribute="review.application.summary")
    objectives = fields.String(required=True, attribute="review.application.objectives")
    sector = fields.String(required=True, allow_none=True, attribute="review.application.sector")
    country = fields.String(required=True, allow_none=True, attribute="review.application.country")
    locality = fields.String(required=True, attribute="review.application.locality")
    currency = fields.String(required=True, attribute="review.application.call.currency")
    amount_requested = Amount(
        required=True, allow_none=True, attribute="review.application.amount_requested"
    )
    cofinancing_share = Amount(required=True, attribute="review.application.cofinancing_share")
    budget_lines = fields.List(
        fields.Nested(BudgetLineSchema), required=True, attribute="review.application.budget_lines"
    )
    criteria = fields.List(
        fields.Nested(ReadCriterionSchema),
        required=True,
        attribute="review.application.call.criteria",
    )
    documents = fields.List(fields.Nested(ReadDocumentSchema), required=True)
    others = fields.Function(
        lambda reading: [
            {"total": Amount().serialize("total", {"total": total}), "recommendation": rec}
            for total, rec in reading.others
        ],
        metadata={
            "type": "array",
            "items": {
                "type": "object",
                "required": ["total", "recommendation"],
                "properties": {
                    "total": {"type": "string", "format": "decimal"},
                    "recommendation": {"type": "string", "nullable": True},
                },
            },
            "description": "the other evaluators' totals out of 100, once yours is "
            "submitted, when the call shows them",
        },
    )


@blueprint.route("/reviews/<int:record_id>/application", methods=["GET"])
@blueprint.response(200, ReadingSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema, description="not yours, or not attested")
def read_application(record_id: int):
    """The application of the caller's review, once they attested having no conflict:
    in a blind call without the association's name, its documents under neutral names."""
    return review_documents.reading(authenticate(), record_id)


@blueprint.route("/reviews/<int:record_id>/documents/<int:document_id>/content", methods=["GET"])
@blueprint.response(200, description="the file; in a blind call, a copy without metadata")
@blueprint.alt_response(302, description="a short-lived link to the file (not blind)")
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema, description="could not be made blind")
def read_document(record_id: int, document_id: int):
    """One document of the caller's review, as the review page links it."""
    return review_documents.download(authenticate(), record_id, document_id).response()
