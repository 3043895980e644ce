"""Money through the API: the finance queues, the payment run and its file for the bank,
the programme's totals, a grant's ledger and refunds (changes of bank details are in
``bank_details``).

Tranches move (request, approve, pay, …) through ``/tranches/{id}/transitions``; this
module holds what the finance pages show and do besides. The rules are the services'
(``disbursements``, ``payment_runs``, ``figures``).
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from grants.api.auth import authenticate
from grants.api.figures import FileArgs, downloads
from grants.api.resources import blueprint
from grants.api.schemas import (
    Amount,
    ApiErrorSchema,
    PageArgs,
    PageSchema,
    RecordIdField,
    page_of,
    page_of_found,
)
from grants.exports import spreadsheets, tables
from grants.extensions import db
from grants.services import audit, disbursements, payment_runs
from grants.services import awards as award_service
from grants.services.figures import check_may_read


class CurrencyTotalSchema(Schema):
    currency = fields.String(required=True, metadata={"description": "ISO 4217"})
    amount = Amount(required=True)
    count = fields.Integer(required=True, metadata={"description": "tranches"})


# --- the queues ----------------------------------------------------------------------------


class QueueArgs(PageArgs):
    queue = fields.String(
        load_default="approve",
        validate=validate.OneOf(disbursements.QUEUES),
        metadata={
            "description": "approve (requested by someone else, not yet approved by you), "
            "pay (approved) or failed (payment failed)"
        },
    )


class QueueItemSchema(Schema):
    tranche_id = fields.Integer(required=True, attribute="tranche.id")
    award_id = fields.Integer(required=True, attribute="award.id")
    position = fields.Integer(required=True, attribute="tranche.position")
    reference = fields.String(required=True)
    association = fields.String(required=True)
    amount = Amount(required=True, attribute="tranche.amount")
    currency = fields.String(required=True, attribute="award.currency")
    state = fields.String(required=True, attribute="tranche.state")
    condition = fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "the state of the report the tranche waits for, if any"},
    )
    waiting_since = fields.AwareDateTime(allow_none=True, required=True)


class QueuePage(PageSchema):
    queue = fields.String(required=True)
    items = fields.List(fields.Nested(QueueItemSchema), required=True)
    totals = fields.List(
        fields.Nested(CurrencyTotalSchema),
        required=True,
        metadata={"description": "the whole queue's amount and count, per currency"},
    )


@blueprint.route("/finance/queue", methods=["GET"])
@blueprint.arguments(QueueArgs, location="query")
@blueprint.response(200, QueuePage)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def finance_queue(args):
    """A finance queue, oldest first: the tranches to approve (four eyes: not those you
    requested or approved), to pay, or whose payment failed. For finance officers."""
    person = authenticate()
    check_may_read(person, "finance_queue")
    kind = args["queue"]
    found = disbursements.queue(kind, person, args["page"], args["per_page"])
    return {
        **page_of_found(found),
        "queue": kind,
        "items": disbursements.queue_rows(found),
        "totals": [
            {"currency": currency, "amount": amount, "count": count}
            for currency, amount, count in disbursements.queue_totals(kind, person)
        ],
    }


# --- the payment run -------------------------------------------------------------------------


class RunItemSchema(Schema):
    tranche_id = fields.Integer(required=True, attribute="id")
    award_id = fields.Integer(required=True)
    position = fields.Integer(required=True)
    reference = fields.Function(
        lambda t: t.award.application.reference or str(t.award.id),
        required=True,
        metadata={"type": "string", "description": "the grant's reference"},
    )
    association = fields.String(required=True, attribute="award.application.association.name")
    account_holder = fields.String(required=True, attribute="award.account_holder")
    iban = fields.String(required=True, attribute="award.iban")
    account_number = fields.String(required=True, attribute="award.account_number")
    bank_name = fields.String(required=True, attribute="award.bank_name")
    bic = fields.String(required=True, attribute="award.bic")
    amount = Amount(required=True)
    currency = fields.String(required=True, attribute="award.currency")
    payment_reference = fields.String(
        required=True, metadata={"description": "what the association reads on its statement"}
    )
    bank_change_pending = fields.Boolean(
        required=True,
        attribute="award.bank_change_pending",
        metadata={"description": "new bank details wait for approval: leave it out of the file"},
    )


class PaymentRunPage(PageSchema):
    items = fields.List(fields.Nested(RunItemSchema), required=True)
    totals = fields.List(
        fields.Nested(CurrencyTotalSchema),
        required=True,
        metadata={"description": "the whole run's amount and count, per currency"},
    )
    limit = fields.Integer(
        required=True, metadata={"description": "the most tranches one run holds"}
    )


@blueprint.route("/finance/payment-run", methods=["GET"])
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, PaymentRunPage)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def payment_run(args):
    """The current payment run: approved tranches you may pay (not those you requested),
    oldest first, with the account to pay and the totals per currency. Choose among
    them for ``GET /exports/payment-run``; record each payment with the tranche's ``pay``
    transition. For finance officers."""
    run = payment_runs.current_run(authenticate())
    return {
        **page_of(run.tranches, args),
        "totals": run.totals,
        "limit": disbursements.RUN_LIMIT,
    }


class RunFileArgs(FileArgs):
    tranche = fields.List(
        RecordIdField(),
        required=True,
        validate=validate.Length(min=1, max=disbursements.RUN_LIMIT),
        metadata={"description": "the tranches of the run to pay (repeat: tranche=1&tranche=2)"},
    )


@blueprint.route("/exports/payment-run", methods=["GET"])
@blueprint.arguments(RunFileArgs, location="query")
@downloads("the payment file for the bank, streamed")
@blueprint.alt_response(409, schema=ApiErrorSchema)
def export_payment_run(args):
    """The payment file of the chosen tranches for the bank, as CSV or XLSX: refused
    (422) when one is not in your run, and (409) while new bank details wait for
    approval on one. For finance officers."""
    person = authenticate()
    selected = payment_runs.chosen_for_file(person, args["tranche"])
    table = audit.exported(person, tables.payment_run(selected), args["format"])
    return spreadsheets.response(table, args["format"])


# --- the programme's totals --------------------------------------------------------------


class TotalsArgs(PageArgs):
    by = fields.String(load_default="call", validate=validate.OneOf(("call", "sector", "country")))


class TotalSchema(Schema):
    group = fields.String(required=True, metadata={"description": "the call, sector or country"})
    currency = fields.String(required=True)
    committed = Amount(required=True)
    paid = Amount(required=True, metadata={"description": "payments less refunds"})


class TotalsPage(PageSchema):
    by = fields.String(required=True)
    items = fields.List(fields.Nested(TotalSchema), required=True)


@blueprint.route("/finance/totals", methods=["GET"])
@blueprint.arguments(TotalsArgs, location="query")
@blueprint.response(200, TotalsPage)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def programme_totals(args):
    """Committed and paid per call, sector or country, and currency, from the ledger.
    For the staff."""
    check_may_read(authenticate(), "programme_totals")
    rows = [
        {"group": group, "currency": currency, "committed": committed, "paid": paid}
        for group, currency, committed, paid in disbursements.programme_totals(args["by"])
    ]
    return {**page_of(rows, args), "by": args["by"]}


# --- a grant's ledger and refunds ------------------------------------------------------------


class LedgerEntrySchema(Schema):
    id = fields.Integer(required=True)
    award_id = fields.Integer(required=True)
    tranche_id = fields.Integer(allow_none=True, required=True)
    kind = fields.String(required=True, metadata={"description": "commitment, payment, refund"})
    amount = Amount(required=True)
    currency = fields.String(required=True)
    value_date = fields.Date(required=True)
    reference = fields.String(required=True)
    actor_label = fields.String(required=True, attribute="shown_actor")
    created_at = fields.AwareDateTime(required=True)
    exchange_rate = Amount(places=6, allow_none=True, metadata={"description": "locked at award"})
    bank_exchange_rate = Amount(
        places=6,
        allow_none=True,
        metadata={"description": "applied by the bank, from its statement"},
    )
    exchange_difference = Amount(
        allow_none=True,
        metadata={"description": "in the budget currency: the bank's rate less the locked one"},
    )


class LedgerPage(PageSchema):
    paid_total = Amount(required=True, metadata={"description": "payments less refunds"})
    items = fields.List(fields.Nested(LedgerEntrySchema), required=True)


@blueprint.route("/awards/<int:record_id>/ledger", methods=["GET"])
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, LedgerPage)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
def award_ledger(args, record_id: int):
    """The grant's ledger, oldest first: the commitment, each payment, each refund.
    For the staff."""
    person = authenticate()
    check_may_read(person, "ledger")
    award = award_service.visible_award(person, record_id)
    page = page_of(disbursements.ledger(award), args)
    return {**page, "paid_total": award.paid_total}


class RefundRequest(Schema):
    amount = Amount(required=True, metadata={"description": "returned, above zero"})
    value_date = fields.Date(required=True, metadata={"description": "when it was received"})
    reference = fields.String(required=True, validate=validate.Length(min=1, max=100))


@blueprint.route("/awards/<int:record_id>/refunds", methods=["POST"])
@blueprint.arguments(RefundRequest)
@blueprint.response(201, LedgerEntrySchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def record_refund(body, record_id: int):
    """Money the association returned (unspent funds), on the ledger: at most what was
    paid, not in the future, with the bank's reference. For finance officers."""
    person = authenticate()
    award = award_service.visible_award(person, record_id)
    entry = disbursements.record_refund(
        person, award.id, body["amount"], body["value_date"], body["reference"]
    )
    db.session.flush()
    return entry
