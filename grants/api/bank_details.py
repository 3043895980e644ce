"""Changes of bank details through the API: an association asks to be paid to another
account, a programme officer approves or rejects; no tranche of the grant is paid
meanwhile. The rules are ``disbursements``' (the pages' own)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from grants import text_limits as limits
from grants.api.auth import authenticate
from grants.api.resources import blueprint
from grants.api.schemas import ApiErrorSchema, PageArgs, PageSchema, Within, page_of_found
from grants.extensions import db
from grants.freshness import require_fresh_token
from grants.services import awards as award_service
from grants.services import disbursements


class BankChangeSchema(Schema):
    id = fields.Integer(required=True)
    award_id = fields.Integer(required=True)
    state = fields.String(required=True, metadata={"description": "pending, approved, rejected"})
    account_holder = fields.String(required=True)
    iban = fields.String(required=True)
    account_number = fields.String(required=True)
    bank_name = fields.String(required=True)
    bic = fields.String(required=True)
    reason = fields.String(required=True)
    requested_by_id = fields.Integer(allow_none=True, required=True)
    requested_at = fields.AwareDateTime(required=True)
    decided_by_id = fields.Integer(allow_none=True, required=True)
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


@blueprint.route("/awards/<int:record_id>/bank-changes", methods=["GET"])
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, BankChangePage)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
def list_bank_changes(args, record_id: int):
    """The changes of bank details asked for on a grant, newest first."""
    award = award_service.visible_award(authenticate(), record_id)
    found = db.paginate(
        disbursements.bank_changes(award),
        page=args["page"],
        per_page=args["per_page"],
        error_out=False,
    )
    return page_of_found(found)


@blueprint.route("/awards/<int:record_id>/bank-changes", methods=["POST"])
@blueprint.arguments(BankChangeRequest)
@blueprint.response(201, BankChangeSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def request_bank_change(body, record_id: int):
    """The association asks to be paid to another account, saying why. No tranche of
    the grant is paid until a programme officer approves. For its members."""
    person = authenticate()
    award = award_service.visible_award(person, record_id)
    require_fresh_token()
    reason = body.pop("reason")
    change = disbursements.request_bank_change(person, award, body, reason)
    db.session.flush()
    return change


class BankChangeDecision(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(("approve", "reject")))
    comment = fields.String(
        load_default="",
        validate=Within(limits.REASON),
        metadata={"description": "required to reject: why"},
    )


@blueprint.route("/bank-changes/<int:change_id>/decision", methods=["POST"])
@blueprint.arguments(BankChangeDecision)
@blueprint.response(200, BankChangeSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def decide_bank_change(body, change_id: int):
    """Approve the new bank details (they replace the grant's) or reject them with the
    reason. For programme officers other than the one who asked."""
    person = authenticate()
    require_fresh_token()
    change = disbursements.decide_bank_change(
        person, change_id, body["decision"] == "approve", body["comment"]
    )
    db.session.flush()
    return change
