"""Calls through the API: created like the call form, decided at the committee's meeting."""

from __future__ import annotations

from typing import Any

from flask import url_for
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select

from forms.calls import CALL_ROWS
from grants import text_limits as limits
from grants.api import flatten_errors
from grants.api.auth import authenticate
from grants.api.resources import (
    blueprint,
    etag_of,
    with_options,
)
from grants.api.schemas import (
    Amount,
    ApiErrorSchema,
    CallSchema,
    RecordIdField,
    Versioned,
    Within,
)
from grants.extensions import db
from grants.models.awards import Award
from grants.services import calls as call_service
from grants.services import ranking as ranking_service
from grants.services.errors import InvalidInput


def _flatten_form(body: dict[str, Any]) -> list[tuple[str, str]]:
    """JSON as the call form's fields: texts per language, rows as ``criteria-0-name``."""
    pairs: list[tuple[str, str]] = []

    def scalar(name: str, value: Any) -> None:
        if isinstance(value, bool):
            if value:
                pairs.append((name, "y"))
        elif isinstance(value, list):
            for item in value:
                pairs.append((name, str(item)))
        elif value is not None:
            pairs.append((name, str(value)))

    for key, value in body.items():
        if key in ("title", "description") and isinstance(value, dict):
            for locale, text in value.items():
                scalar(f"{key}_{locale}", text)
        elif key == "sdg_targets" and isinstance(value, list):
            scalar(key, ", ".join(str(v) for v in value))
        elif key in CALL_ROWS and isinstance(value, list):
            for index, row in enumerate(value):
                if key == "document_types" and isinstance(row, dict):
                    row = {"required": True, **row}
                for name, cell in row.items() if isinstance(row, dict) else []:
                    scalar(f"{key}-{index}-{name}", cell)
        else:
            scalar(key, value)
    return pairs


class CallRow(Schema):
    class Meta:
        unknown = "include"


class CallCreate(Schema):
    """The call form's fields; times are local to ``timezone`` (YYYY-MM-DDTHH:MM)."""

    code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    language = fields.String(required=True, validate=validate.Length(min=2, max=8))
    title = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    description = fields.Dict(keys=fields.String(), values=fields.String())
    sector = fields.String(required=True)
    countries = fields.List(fields.String(), required=True)
    sdg_targets = fields.List(fields.String())
    currency = fields.String(validate=validate.Length(equal=3))
    envelope = Amount()
    min_grant = Amount()
    max_grant = Amount()
    min_cofinancing_share = Amount()
    timezone = fields.String(required=True)
    opens_at = fields.String(required=True, metadata={"example": "2027-02-01T00:00"})
    closes_at = fields.String(required=True, metadata={"example": "2027-03-31T23:59"})
    proposal_closes_at = fields.String()
    two_stage = fields.Boolean()
    require_verified_association = fields.Boolean()
    criteria = fields.List(fields.Nested(CallRow))
    document_types = fields.List(fields.Nested(CallRow))
    indicators = fields.List(fields.Nested(CallRow))
    tranches = fields.List(fields.Nested(CallRow))
    reports = fields.List(fields.Nested(CallRow))


@blueprint.route("/calls", methods=["POST"])
@blueprint.arguments(CallCreate)
@blueprint.response(201, CallSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def create_call(body):
    """A draft call, checked like the call form; publish it with the ``publish``
    transition once complete."""
    person = authenticate()
    call_service.check_may_create(person)
    call = call_service.create_call(person, _checked_form(body))
    db.session.flush()
    return with_options([call], person, True)[0], 201, etag_of(call)


def _checked_form(body: dict) -> dict[str, Any]:
    """The body checked by the call form, as the service takes it."""
    from werkzeug.datastructures import MultiDict

    from forms.calls import CallForm, call_data

    form = CallForm(
        formdata=MultiDict(_flatten_form(body)), meta={"csrf": False, "machine_numbers": True}
    )
    if not form.validate():
        raise InvalidInput("The call is not valid: see errors.", flatten_errors(form.errors))
    return call_data(form)


class CallReplace(Versioned, CallCreate):
    """The whole call form again, with the version read."""


@blueprint.route("/calls/<int:record_id>", methods=["PUT"])
@blueprint.arguments(CallReplace)
@blueprint.response(200, CallSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema, description="not a draft, or changed since")
@blueprint.alt_response(422, schema=ApiErrorSchema)
@blueprint.alt_response(428, schema=ApiErrorSchema, description="no version given")
def replace_call(body, record_id: int):
    """Change a draft call: the whole form, checked like the page's. An open call changes
    only through its transitions (``extend_deadline`` with ``closes_at``)."""
    person = authenticate()
    call_service.check_may_create(person)
    call = call_service.visible_call(person, record_id)
    version = body.pop("version")
    call_service.update_call(person, call, version, _checked_form(body))
    db.session.flush()
    return with_options([call], person, True)[0], 200, etag_of(call)


def _positive(value) -> None:
    if value <= 0 or value > 10**10:
        raise ValidationError("Must be above zero.")


class OutcomeItem(Schema):
    application_id = RecordIdField(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["award", "waitlist", "reject"]))
    amount = Amount(load_default=None, allow_none=True, places=2, validate=_positive)
    conditions = fields.String(load_default="", validate=Within(limits.DECISION_TEXT))
    feedback = fields.String(load_default="", validate=Within(limits.DECISION_TEXT))
    exchange_rate = Amount(load_default=None, allow_none=True, places=6, validate=_positive)


class DecisionCreate(Schema):
    meeting_date = fields.Date(required=True)
    present = fields.String(load_default="", validate=Within(limits.MEETING_PRESENT))
    minutes = fields.String(load_default="", validate=Within(limits.MEETING_MINUTES))
    outcomes = fields.List(fields.Nested(OutcomeItem), required=True)


class DecisionSchema(Schema):
    id = fields.Integer()
    call_id = fields.Integer()
    meeting_date = fields.Date()
    award_ids = fields.List(fields.Integer())


#: The decision service names its errors as the ranking page's fields; the API as the
#: body's fields.
DECISION_FIELDS = {
    "outcome": "application_id",
    "amount": "amount",
    "rate": "exchange_rate",
    "text": "feedback",
}


@blueprint.route("/calls/<int:record_id>/decisions", methods=["POST"])
@blueprint.arguments(DecisionCreate)
@blueprint.response(201, DecisionSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def record_decisions(body, record_id: int):
    """The committee's meeting: awards within the envelope (with the exchange rate when a
    budget is in another currency), the waiting list, rejections with feedback."""
    from grants.services import decisions

    person = authenticate()
    call = call_service.visible_call(person, record_id)
    positions: dict[int, int] = {}
    for index, item in enumerate(body["outcomes"]):
        first = positions.setdefault(item["application_id"], index)
        if first != index:
            raise InvalidInput(
                "Each application is decided once: see errors.",
                {f"outcomes.{index}.application_id": [f"Already decided in outcomes.{first}."]},
            )
    outcomes = [decisions.Outcome(**item) for item in body["outcomes"]]
    try:
        decision = decisions.record(
            person, call, body["meeting_date"], body["present"], body["minutes"], outcomes
        )
    except InvalidInput as refused:
        names = {}
        for application_id, index in positions.items():
            for page_field, field in DECISION_FIELDS.items():
                names[f"{page_field}-{application_id}"] = f"outcomes.{index}.{field}"
        raise refused.renamed(names) from None
    db.session.flush()
    award_ids = list(
        db.session.scalars(
            select(Award.id).where(
                Award.application_id.in_(
                    [o.application_id for o in outcomes if o.kind == "award"] or [0]
                )
            )
        )
    )
    return {
        "id": decision.id,
        "call_id": call.id,
        "meeting_date": decision.meeting_date,
        "award_ids": award_ids,
    }


# --- the ranking ---------------------------------------------------------------------------


class RankingArgs(Schema):
    by = fields.String(
        load_default="normalised",
        validate=validate.OneOf(("normalised", "raw")),
        metadata={"description": "normalised (each evaluator against their own habits) or raw"},
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))


class RankedSchema(Schema):
    rank = fields.Integer(required=True)
    application_id = fields.Integer(required=True)
    reference = fields.String(allow_none=True)
    association_id = fields.Integer(required=True)
    association = fields.String(required=True)
    country = fields.String(allow_none=True)
    state = fields.String(required=True)
    amount_requested = Amount(required=True)
    cumulative = Amount(required=True, metadata={"description": "requested, running total"})
    within_envelope = fields.Boolean(
        required=True, metadata={"description": "above the funding line"}
    )
    reviews_submitted = fields.Integer(required=True)
    reviews_assigned = fields.Integer(required=True)
    raw_mean = Amount(allow_none=True)
    normalised_mean = Amount(allow_none=True)
    std = Amount(allow_none=True, metadata={"description": "spread of the reviews' totals"})
    low = Amount(allow_none=True)
    high = Amount(allow_none=True)
    disagreement = fields.Boolean(required=True)
    disagreement_reasons = fields.List(fields.String(), required=True)


class RankingSchema(Schema):
    call_id = fields.Integer(required=True)
    by = fields.String(required=True)
    currency = fields.String(required=True)
    envelope = Amount(required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    raw_evaluators = fields.Integer(
        required=True,
        metadata={"description": "evaluators with fewer than three reviews, counted raw"},
    )
    items = fields.List(fields.Nested(RankedSchema), required=True)
    next = fields.String(allow_none=True)


@blueprint.route("/calls/<int:record_id>/ranking", methods=["GET"])
@blueprint.arguments(RankingArgs, location="query")
@blueprint.response(200, RankingSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
def get_ranking(args, record_id: int):
    """The call's ranking, a hundred applications a page: raw and normalised means, the
    spread and disagreement of the reviews, the running total and the funding line. For
    programme officers and admins; decide with ``POST /calls/{id}/decisions``."""
    person = authenticate()
    call = call_service.visible_call(person, record_id)
    found = ranking_service.ranking_for(person, call, args["by"], args["page"])
    following = None
    if found.has_next:
        following = url_for("api.get_ranking", record_id=call.id, by=found.by, page=found.next_num)
    items = []
    for row in found.rows:
        application = found.applications[row.application_id]
        score = row.score
        items.append(
            {
                "rank": row.rank,
                "application_id": application.id,
                "reference": application.reference,
                "association_id": application.association_id,
                "association": application.association.name,
                "country": application.country,
                "state": application.state,
                "amount_requested": row.amount_requested,
                "cumulative": row.cumulative,
                "within_envelope": row.within_envelope,
                "reviews_submitted": score.reviews,
                "reviews_assigned": found.assigned.get(application.id, 0),
                "raw_mean": score.raw_mean,
                "normalised_mean": score.normalised_mean,
                "std": score.std,
                "low": score.low,
                "high": score.high,
                "disagreement": score.disagreement,
                "disagreement_reasons": [str(reason) for reason in score.disagreement_reasons],
            }
        )
    return {
        "call_id": call.id,
        "by": found.by,
        "currency": call.currency,
        "envelope": call.envelope,
        "page": found.page,
        "pages": found.pages,
        "per_page": ranking_service.PER_PAGE,
        "raw_evaluators": len(found.raw_evaluators),
        "items": items,
        "next": following,
    }
