"""Awards through the API: the award letter an association reads before accepting."""

from __future__ import annotations

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
def award_letter(args, record_id: int):
    """The award letter as a PDF: what accepting (``letter_read``) confirms was read."""
    person = authenticate()
    award = award_service.visible_award(person, record_id)
    language = award_service.letter_language(award, args["lang"], person.locale or "en")
    name = f"award-letter-{award.application.reference or award.id}-{language}.pdf"
    return Response(
        award_service.award_letter(award, language),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )
