"""Awards through the API: the award letter an association reads before accepting, and
the grant's timeline with what is due next."""

from __future__ import annotations

from datetime import datetime

from flask import Response
from marshmallow import Schema, fields, validate

from grants.api.auth import authenticate
from grants.api.resources import blueprint
from grants.api.schemas import ApiErrorSchema
from grants.models.accounts import LOCALES
from grants.services import awards as award_service


class LetterArgs(Schema):
    lang = fields.String(
        load_default=None,
        validate=validate.OneOf(LOCALES),
        metadata={
            "description": "the letter's language; when left out, the association's working"
            " language, else the caller's"
        },
    )


@blueprint.route("/awards/<int:record_id>/letter.pdf", methods=["GET"])
@blueprint.arguments(LetterArgs, location="query")
@blueprint.response(200, description="the award letter (PDF)")
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(
    503, schema=ApiErrorSchema, description="the programme's certificate cannot sign letters"
)
def award_letter(args, record_id: int):
    """The award letter as a signed PDF (PAdES), issued once per language and the same
    bytes every time: what accepting (``letter_read``) confirms was read, and records
    the SHA-256 of."""
    person = authenticate()
    award = award_service.visible_award(person, record_id)
    language = award_service.letter_language(award, args["lang"], person.locale or "en")
    name = f"award-letter-{award.application.reference or award.id}-{language}.pdf"
    return Response(
        award_service.award_letter(award, language),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


class MomentSchema(Schema):
    when = fields.Method(
        "_day",
        required=True,
        metadata={"type": "string", "format": "date", "nullable": True},
    )
    what = fields.String(required=True)
    done = fields.Boolean(required=True)
    detail = fields.String(required=True, metadata={"description": "the state, if any"})

    def _day(self, moment) -> str | None:
        when = moment.when
        if isinstance(when, datetime):
            when = when.date()
        return when.isoformat() if when else None


class AwardTimelineSchema(Schema):
    items = fields.List(fields.Nested(MomentSchema), required=True)
    next_due = fields.Nested(MomentSchema, allow_none=True, required=True)


@blueprint.route("/awards/<int:record_id>/timeline", methods=["GET"])
@blueprint.response(200, AwardTimelineSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
def award_timeline(record_id: int):
    """The grant's moments in order (offer, acceptance, each report and tranche) and
    the first one not done: what the award page shows as due next."""
    award = award_service.visible_award(authenticate(), record_id)
    moments = award_service.timeline(award)
    return {"items": moments, "next_due": award_service.next_due(moments)}
