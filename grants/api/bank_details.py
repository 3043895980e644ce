"""Changes of bank details through the API: a member of the association asks to be paid
to another account, a finance officer other than the one who asked approves or refuses,
a member may withdraw it; no tranche of the grant is approved or paid meanwhile. The
rules are the lifecycle's (``workflows.bank_change``), fired by ``services.bank_changes``
as the pages fire them; each change carries its ``version`` and ``allowed_transitions``.
"""

from __future__ import annotations

from flask import request
from marshmallow import Schema, fields, validate

from grants import text_limits as limits
from grants.api.auth import authenticate
from grants.api.resources import HistoryPage, blueprint, etag_of, with_options
from grants.api.schemas import (
    ApiErrorSchema,
    LifecycleSchema,
    PageArgs,
    PageSchema,
    TransitionRequest,
    Within,
    page_of,
    page_of_found,
)
from grants.extensions import db
from grants.freshness import require_fresh_token
from grants.services import awards as award_service
from grants.services import bank_changes
from grants.services.errors import InvalidInput
from grants.services.workflow import history_of


class BankChangeSchema(LifecycleSchema):
    award_id = fields.Integer(required=True)
    state = fields.String(
        required=True, metadata={"description": "requested, approved, refused, cancelled"}
    )
    account_holder = fields.String(required=True)
    iban = fields.String(required=True)
    account_number = fields.String(required=True)
    bank_name = fields.String(required=True)
    bic = fields.String(required=True)
    reason = fields.String(required=True)
    requested_by_id = fields.Integer(allow_none=True, required=True)
    requested_at = fields.AwareDateTime(required=True)
    decided_by_id = fields.Integer(
        allow_none=True,
        required=True,
        metadata={"description": "who approved, refused or withdrew it"},
    )
    decided_at = fields.AwareDateTime(allow_none=True, required=True)
    decision_comment = fields.String(required=True)


class BankChangePage(PageSchema):
    items = fields.List(fields.Nested(BankChangeSchema), required=True)


class BankChangeRequest(Schema):
    """The bank details form's fields, checked by the same rules (IBAN, BIC, country)."""

    account_holder = fields.String(required=True, validate=Within(limits.ACCOUNT_HOLDER))
    iban = fields.String(
        load_default="",
        validate=Within(limits.IBAN),
        metadata={"description": "empty where the bank's country has no IBAN"},
    )
    account_number = fields.String(
        load_default="",
        validate=Within(limits.ACCOUNT_NUMBER),
        metadata={"description": "only when there is no IBAN"},
    )
    bank_name = fields.String(required=True, validate=Within(limits.BANK_NAME))
    bic = fields.String(required=True, validate=Within(limits.BIC))
    reason = fields.String(required=True, validate=[validate.Length(min=1), Within(limits.REASON)])


def _version_read(body: dict) -> object:
    """The version the caller read: the body's ``version``, else If-Match's; None when
    neither is sent (the version column still refuses a write that lost a race)."""
    if body.get("version") is not None:
        return body.pop("version")
    body.pop("version", None)
    match = request.headers.get("If-Match", "").strip().removeprefix("W/").strip('"')
    return match or None


def _shown(change):
    person = authenticate()
    db.session.flush()
    db.session.refresh(change)
    return with_options([change], person, True)[0], 200, etag_of(change)


@blueprint.route("/awards/<int:record_id>/bank-changes", methods=["GET"])
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, BankChangePage)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
def list_bank_changes(args, record_id: int):
    """The changes of bank details asked for on a grant, newest first, with what the
    caller can do with each."""
    person = authenticate()
    award = award_service.visible_award(person, record_id)
    found = db.paginate(
        bank_changes.bank_changes(award),
        page=args["page"],
        per_page=args["per_page"],
        error_out=False,
    )
    page = page_of_found(found)
    page["items"] = with_options(page["items"], person, True)
    return page


@blueprint.route("/awards/<int:record_id>/bank-changes", methods=["POST"])
@blueprint.arguments(BankChangeRequest)
@blueprint.response(201, BankChangeSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def request_bank_change(body, record_id: int):
    """The association asks to be paid to another account, saying why. No tranche of
    the grant is approved or paid until a finance officer other than the person who
    asked decides. For its members; 422 when the grant is not active or a change
    already waits."""
    person = authenticate()
    award = award_service.visible_award(person, record_id)
    require_fresh_token()
    reason = body.pop("reason")
    change = bank_changes.request_bank_change(person, award, body, reason)
    shown, _, headers = _shown(change)
    return shown, 201, headers


@blueprint.route("/bank-changes/<int:change_id>", methods=["GET"])
@blueprint.response(200, BankChangeSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
def get_bank_change(change_id: int):
    """One change of bank details, with its version (also the ETag) and what the caller
    can do with it."""
    person = authenticate()
    change = bank_changes.visible_change(person, change_id)
    return with_options([change], person, True)[0], 200, etag_of(change)


@blueprint.route("/bank-changes/<int:change_id>/history", methods=["GET"])
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, HistoryPage)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
def bank_change_history(args, change_id: int):
    """Every transition of one change of bank details, oldest first: who asked, who
    decided, when and why."""
    change = bank_changes.visible_change(authenticate(), change_id)
    return page_of(history_of(change), args)


def _version_field() -> fields.Integer:
    return fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": 'the version read (or send it as If-Match: "3"): 409 if stale'},
    )


class BankChangeTransition(TransitionRequest):
    version = _version_field()


@blueprint.route("/bank-changes/<int:change_id>/transitions", methods=["POST"])
@blueprint.arguments(BankChangeTransition)
@blueprint.response(200, BankChangeSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def transition_bank_change(body, change_id: int):
    """Approve or refuse (a finance officer other than the person who asked; refusing
    needs a comment, the reason) or withdraw (a member) a change: 403 (not for you),
    404, 409 (decided already, or changed since the version you read) or 422 (with
    every reason)."""
    version = _version_read(body)
    name, comment = body.pop("name"), body.pop("comment", None)
    if body:
        raise InvalidInput(
            f"{name} does not take {', '.join(sorted(body))}.",
            dict.fromkeys(sorted(body), ["Not read by this transition."]),
        )
    person = authenticate()
    require_fresh_token()
    change = bank_changes.act(person, change_id, name, comment, version=version)
    return _shown(change)


class BankChangeDecision(Schema):
    decision = fields.String(
        required=True,
        validate=validate.OneOf(("approve", "refuse", "reject")),
        metadata={"description": "approve or refuse (reject is the older word for refuse)"},
    )
    comment = fields.String(
        load_default="",
        validate=Within(limits.REASON),
        metadata={"description": "required to refuse: why"},
    )
    version = _version_field()


@blueprint.route("/bank-changes/<int:change_id>/decision", methods=["POST"])
@blueprint.arguments(BankChangeDecision)
@blueprint.response(200, BankChangeSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def decide_bank_change(body, change_id: int):
    """Approve the new bank details (they replace the grant's) or refuse them with the
    reason: the ``approve`` and ``refuse`` transitions, as ``…/transitions`` fires them.
    For finance officers other than the person who asked."""
    person = authenticate()
    require_fresh_token()
    name = "approve" if body["decision"] == "approve" else "refuse"
    change = bank_changes.act(
        person,
        change_id,
        name,
        body["comment"] or None,
        version=_version_read(body),
    )
    return _shown(change)
