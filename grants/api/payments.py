"""The bank side through the API: the payment files of the runs (with their transfers)
and the statements imported, with what each debit became. For finance officers; the
rules are the services' (``payment_files``, ``statements``)."""

from __future__ import annotations

from marshmallow import Schema, fields

from grants.api.auth import authenticate
from grants.api.resources import blueprint
from grants.api.schemas import Amount, ApiErrorSchema, PageArgs, page_of_found, page_schema
from grants.services import payment_files, statements


class TransferSchema(Schema):
    tranche_id = fields.Integer(required=True)
    end_to_end_id = fields.String(required=True)
    amount = Amount(required=True)
    creditor_name = fields.String(required=True)
    iban = fields.String(required=True)
    account_number = fields.String(required=True)
    bic = fields.String(required=True)
    remittance = fields.String(required=True, metadata={"description": "the grant reference"})
    tranche_state = fields.String(required=True, attribute="tranche.state")


class PaymentFileSchema(Schema):
    id = fields.Integer(required=True)
    message_id = fields.String(required=True, metadata={"description": "the file's MsgId"})
    debtor_iban = fields.String(required=True, attribute="debtor_account.iban")
    currency = fields.String(required=True)
    total = Amount(required=True, metadata={"description": "the file's CtrlSum"})
    count = fields.Integer(required=True, metadata={"description": "its transfers"})
    execution_date = fields.Date(required=True)
    state = fields.String(required=True, metadata={"description": "generated or cancelled"})
    sha256 = fields.String(required=True, metadata={"description": "of the pain.001 as kept"})
    created_at = fields.AwareDateTime(required=True)
    cancelled_at = fields.AwareDateTime(allow_none=True, required=True)
    cancel_reason = fields.String(required=True)


class PaymentFileDetailSchema(PaymentFileSchema):
    transfers = fields.List(fields.Nested(TransferSchema), required=True, attribute="items")


PaymentFilePage = page_schema(PaymentFileSchema)


@blueprint.route("/finance/payment-files", methods=["GET"])
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, PaymentFilePage)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
def list_payment_files(args):
    """The pain.001 files generated from payment runs, newest first, with their totals.
    For finance officers."""
    return page_of_found(
        payment_files.payment_files(authenticate(), args["page"], args["per_page"])
    )


@blueprint.route("/finance/payment-files/<int:file_id>", methods=["GET"])
@blueprint.response(200, PaymentFileDetailSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
def get_payment_file(file_id: int):
    """One payment file with each transfer as the file says it, and the state of its
    tranche. For finance officers."""
    return payment_files.payment_file(authenticate(), file_id)


class StatementLineSchema(Schema):
    bank_reference = fields.String(required=True)
    end_to_end_id = fields.String(required=True)
    amount = Amount(required=True)
    value_date = fields.Date(required=True)
    remittance = fields.String(required=True)
    exchange_rate = Amount(
        places=6, allow_none=True, required=True, metadata={"description": "the bank's rate"}
    )
    target_currency = fields.String(required=True)
    outcome = fields.String(
        required=True,
        metadata={"description": "matched, already_paid, refused (for a person) or unmatched"},
    )
    tranche_id = fields.Integer(allow_none=True, required=True)


class StatementSchema(Schema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True, metadata={"description": "the statement's Id"})
    debtor_iban = fields.String(required=True, attribute="debtor_account.iban")
    currency = fields.String(required=True)
    imported_at = fields.AwareDateTime(required=True)
    lines = fields.List(fields.Nested(StatementLineSchema), required=True)


@blueprint.route("/finance/statements/<int:statement_id>", methods=["GET"])
@blueprint.response(200, StatementSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
def get_statement(statement_id: int):
    """An imported camt.053 statement: each booked debit and what it became. For finance
    officers."""
    return statements.statement(authenticate(), statement_id)
