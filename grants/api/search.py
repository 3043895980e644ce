"""The staff search through the API: the same service, filters and visibility as the
search page (``services.search``); members and evaluators are refused as there."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from grants.api.auth import authenticate
from grants.api.resources import blueprint
from grants.api.schemas import ApiErrorSchema
from grants.models.search import KINDS
from grants.services import search as service

#: Where the API serves each kind of record found.
PATHS = {
    "application": "/api/v1/applications/{id}",
    "association": "/api/v1/associations/{id}",
    "award": "/api/v1/awards/{id}",
    "person": "/api/v1/users/{id}",
}


class SearchArgs(Schema):
    q = fields.String(
        required=True,
        validate=validate.Length(max=200),
        metadata={
            "description": "words to find, each as the start of a word; accents "
            "and case do not matter"
        },
    )
    kind = fields.String(metadata={"description": f"one of {', '.join(KINDS)}"})
    call = fields.Integer(validate=validate.Range(min=1), metadata={"description": "a call's id"})
    state = fields.String(validate=validate.Length(max=30))
    country = fields.String(metadata={"description": "ISO 3166-1 alpha-2, e.g. SN"})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10000))


class SearchResultSchema(Schema):
    kind = fields.String(metadata={"description": f"one of {', '.join(KINDS)}"})
    id = fields.Integer()
    path = fields.String(metadata={"description": "where the API serves the record"})
    label = fields.String(metadata={"description": "escaped HTML: the words found are in <mark>"})
    detail = fields.String(metadata={"description": "escaped HTML, as label"})
    excerpt = fields.String(
        allow_none=True, metadata={"description": "escaped HTML around the words found"}
    )
    state = fields.String(allow_none=True)
    country = fields.String(allow_none=True)


class SearchPageSchema(Schema):
    query = fields.String()
    words = fields.List(fields.String(), metadata={"description": "the words searched"})
    page = fields.Integer()
    has_next = fields.Boolean()
    items = fields.List(fields.Nested(SearchResultSchema))


@blueprint.route("/search", methods=["GET"])
@blueprint.arguments(SearchArgs, location="query")
@blueprint.response(200, SearchPageSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def search(args):
    """Applications, associations, grants and people matching every word, newest first,
    twenty a page; only what the caller may see. For the programme's staff."""
    person = authenticate()
    found = service.search(
        person,
        args["q"],
        kind=args.get("kind") or None,
        call_id=args.get("call"),
        state=args.get("state") or None,
        country=args.get("country") or None,
        page=args["page"],
    )
    return {
        "query": found.query,
        "words": found.words,
        "page": found.page,
        "has_next": found.has_next,
        "items": [
            {
                "kind": result.kind,
                "id": result.record_id,
                "path": PATHS[result.kind].format(id=result.record_id),
                "label": str(result.label),
                "detail": str(result.detail),
                "excerpt": str(result.excerpt) if result.excerpt is not None else None,
                "state": result.state,
                "country": result.country,
            }
            for result in found.results
        ],
    }
