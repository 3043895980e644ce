"""Associations through the API, as on their pages: registered by a person who becomes
the founding member, edited by its members with the version read, its members listed,
people invited by email and invitations accepted. The page's forms check the input
(``forms.associations``), ``services.associations`` decides. Reading one association, its
history and its transitions are the collection's (``resources``); its documents are in
``documents``."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import url_for
from marshmallow import Schema, fields, validate
from werkzeug.datastructures import MultiDict

from forms.associations import AssociationForm, InvitationForm
from grants.api import flatten_errors
from grants.api.auth import authenticate
from grants.api.resources import blueprint, check_version, etag_of, with_options
from grants.api.schemas import (
    ApiErrorSchema,
    AssociationSchema,
    PageArgs,
    PageSchema,
    Versioned,
    Within,
    page_of_found,
)
from grants.extensions import db
from grants.services import associations as service
from grants.services.errors import InvalidInput
from grants.text_limits import ASSOCIATION


class AssociationCreate(Schema):
    """The registration form's fields; countries and languages as ISO codes."""

    name = fields.String(required=True, validate=Within(ASSOCIATION["name"]))
    registration_number = fields.String(
        required=True, validate=Within(ASSOCIATION["registration_number"])
    )
    registration_country = fields.String(
        required=True, metadata={"description": "ISO 3166-1 alpha-2, e.g. FR"}
    )
    residence_country = fields.String(
        required=True, metadata={"description": "where the members live (ISO 3166-1 alpha-2)"}
    )
    countries_of_work = fields.List(
        fields.String(validate=validate.Length(max=10)),
        required=True,
        validate=validate.Length(max=300),
        metadata={"description": 'countries of origin where it works, e.g. ["SN"]'},
    )
    founded_on = fields.Date(allow_none=True)
    contact_name = fields.String(required=True, validate=Within(ASSOCIATION["contact_name"]))
    contact_email = fields.String(required=True, validate=validate.Length(max=255))
    contact_phone = fields.String(validate=Within(ASSOCIATION["contact_phone"]))
    website = fields.String(validate=Within(ASSOCIATION["website"]))
    description = fields.String(required=True, validate=Within(ASSOCIATION["description"]))
    working_languages = fields.List(
        fields.String(validate=validate.Length(max=10)),
        required=True,
        validate=validate.Length(max=300),
        metadata={"description": 'ISO 639-1 codes, e.g. ["fr", "wo"]'},
    )


class AssociationUpdate(Versioned):
    """Any of the registration form's fields; those left out keep their value."""

    name = fields.String(validate=Within(ASSOCIATION["name"]))
    registration_number = fields.String(validate=Within(ASSOCIATION["registration_number"]))
    registration_country = fields.String()
    residence_country = fields.String()
    countries_of_work = fields.List(
        fields.String(validate=validate.Length(max=10)), validate=validate.Length(max=300)
    )
    founded_on = fields.Date(allow_none=True)
    contact_name = fields.String(validate=Within(ASSOCIATION["contact_name"]))
    contact_email = fields.String(validate=validate.Length(max=255))
    contact_phone = fields.String(validate=Within(ASSOCIATION["contact_phone"]))
    website = fields.String(validate=Within(ASSOCIATION["website"]))
    description = fields.String(validate=Within(ASSOCIATION["description"]))
    working_languages = fields.List(
        fields.String(validate=validate.Length(max=10)), validate=validate.Length(max=300)
    )


class MemberSchema(Schema):
    user_id = fields.Integer(required=True)
    full_name = fields.String(required=True)
    email = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "shown to the association's members only, as on its page"},
    )
    joined_at = fields.AwareDateTime(required=True)
    invited_by_id = fields.Integer(allow_none=True, required=True)


class MemberPage(PageSchema):
    items = fields.List(fields.Nested(MemberSchema), required=True)


class InvitationRequest(Schema):
    email = fields.String(
        required=True,
        validate=validate.Length(max=255),
        metadata={"description": "the person to invite; they are emailed the link"},
    )


class InvitationSchema(Schema):
    id = fields.Integer(required=True)
    association_id = fields.Integer(required=True)
    association_name = fields.String(required=True, attribute="association.name")
    email = fields.String(required=True)
    invited_by = fields.String(required=True, attribute="invited_by.display_name")
    created_at = fields.AwareDateTime(required=True)
    expires_at = fields.AwareDateTime(required=True)


class InvitationPage(PageSchema):
    items = fields.List(fields.Nested(InvitationSchema), required=True)


def _form_pairs(data: dict[str, Any]) -> MultiDict:
    """JSON as the form would have been posted: lists as repeated fields."""
    pairs: list[tuple[str, str]] = []
    for name, value in data.items():
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            pairs.append((name, item.isoformat() if isinstance(item, date) else str(item)))
    return MultiDict(pairs)


def _checked_by_the_form(data: dict[str, Any]) -> dict[str, Any]:
    """The association's fields, refused field by field as on the registration page."""
    form = AssociationForm(formdata=_form_pairs(data), meta={"csrf": False})
    if not form.validate():
        raise InvalidInput("The association is not valid: see errors.", flatten_errors(form.errors))
    return {name: form[name].data for name in service.EDITABLE_FIELDS}


def _shown(association, person):
    return with_options([association], person, True)[0], etag_of(association)


@blueprint.route("/associations", methods=["POST"])
@blueprint.arguments(AssociationCreate)
@blueprint.response(201, AssociationSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema, description="refused, field by field")
def create_association(body):
    """Register an association; the caller is its founding member. It waits for a
    programme officer's verification (its registration certificate and statutes are
    uploaded with ``POST /documents``)."""
    person = authenticate()
    association = service.create_association(person, _checked_by_the_form(body))
    db.session.flush()
    shown, etag = _shown(association, person)
    return shown, 201, etag


@blueprint.route("/associations/<int:record_id>", methods=["PATCH"])
@blueprint.arguments(AssociationUpdate)
@blueprint.response(200, AssociationSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not a member")
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema, description="the version is stale")
@blueprint.alt_response(422, schema=ApiErrorSchema, description="refused, field by field")
@blueprint.alt_response(428, schema=ApiErrorSchema, description="no version given")
def update_association(body, record_id: int):
    """Change an association's details (members only); send the version read."""
    person = authenticate()
    association = service.member_association(person, record_id)
    check_version(body, association, "association")
    current = {name: getattr(association, name) for name in service.EDITABLE_FIELDS}
    service.update_association(person, association, _checked_by_the_form({**current, **body}))
    db.session.flush()
    shown, etag = _shown(association, person)
    return shown, 200, etag


@blueprint.route("/associations/<int:record_id>/members", methods=["GET"])
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, MemberPage)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def list_members(args, record_id: int):
    """The association's members by name; their email addresses for fellow members only."""
    person = authenticate()
    association = service.visible_association(person, record_id)
    fellow = service.is_member(person, association)
    found = service.member_page(association, args["page"], args["per_page"])
    return {
        **page_of_found(found),
        "items": [
            {
                "user_id": membership.user_id,
                "full_name": membership.user.display_name,
                "email": membership.user.email if fellow else None,
                "joined_at": membership.joined_at,
                "invited_by_id": membership.invited_by_id,
            }
            for membership in found.items
        ],
    }


@blueprint.route("/associations/<int:record_id>/invitations", methods=["POST"])
@blueprint.arguments(InvitationRequest)
@blueprint.response(201, InvitationSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not a member")
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def invite_member(body, record_id: int):
    """Invite someone to join (members only): they are emailed a link, valid 14 days,
    whose token they accept with ``POST /invitations/{token}/acceptance``."""
    person = authenticate()
    association = service.member_association(person, record_id)
    form = InvitationForm(formdata=MultiDict(body), meta={"csrf": False})
    if not form.validate():
        raise InvalidInput("The invitation is not valid: see errors.", flatten_errors(form.errors))
    invitation = service.invite_member(person, association, form.email.data)
    db.session.flush()
    return invitation


@blueprint.route("/invitations", methods=["GET"])
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, InvitationPage)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def list_invitations(args):
    """The invitations sent to the caller's address that wait for them; each is accepted
    with the token of the link in its email."""
    everyone = service.pending_invitations(authenticate())
    page, per_page = args["page"], args["per_page"]
    following = None
    if page * per_page < len(everyone):
        following = url_for("api.list_invitations", page=page + 1, per_page=per_page)
    return {
        "items": everyone[(page - 1) * per_page : page * per_page],
        "page": page,
        "per_page": per_page,
        "total": len(everyone),
        "total_estimated": False,
        "next": following,
    }


@blueprint.route("/invitations/<token>/acceptance", methods=["POST"])
@blueprint.response(200, AssociationSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema, description="no such invitation")
@blueprint.alt_response(
    409, schema=ApiErrorSchema, description="used, expired, or sent to another address"
)
def accept_invitation(token: str):
    """Join the association with the token of the emailed link; the invitation must have
    been sent to the caller's address."""
    person = authenticate()
    association = service.accept_invitation(person, token)
    db.session.flush()
    shown, etag = _shown(association, person)
    return shown, 200, etag
