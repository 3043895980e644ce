"""Reports through the API: written by the association with the version read."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from grants import policy
from grants import text_limits as limits
from grants.api.auth import authenticate
from grants.api.resources import (
    blueprint,
    check_version,
    etag_of,
    with_options,
)
from grants.api.schemas import (
    ApiErrorSchema,
    ReportSchema,
    Versioned,
    Within,
)
from grants.extensions import db
from grants.numbers import MACHINE
from grants.services import awards as award_service


class SpendingItem(Schema):
    budget_line_id = fields.Integer(required=True)
    actual = fields.String(load_default="", validate=validate.Length(max=30))
    explanation = fields.String(load_default="", validate=Within(limits.SPENDING_EXPLANATION))


class ReportUpdate(Versioned):
    activities = fields.String(validate=Within(limits.NARRATIVE))
    results = fields.String(validate=Within(limits.NARRATIVE))
    difficulties = fields.String(validate=Within(limits.NARRATIVE))
    next_steps = fields.String(validate=Within(limits.NARRATIVE))
    spending = fields.List(fields.Nested(SpendingItem))
    indicator_values = fields.Dict(
        keys=fields.String(validate=validate.Length(max=5)),
        values=fields.Dict(keys=fields.String(), values=fields.String()),
        metadata={"description": '{"0": {"value": "12"}} or {"0": {"women": "7", "men": "5"}}'},
    )
    cofinancing_received = fields.Dict(keys=fields.String(), values=fields.String())


@blueprint.route("/reports/<int:record_id>", methods=["PATCH"])
@blueprint.arguments(ReportUpdate)
@blueprint.response(200, ReportSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
@blueprint.alt_response(428, schema=ApiErrorSchema)
def update_report(body, record_id: int):
    """Write a report while it is open: the narrative, spending per budget line, the
    call's indicators, co-financing received. Bad numbers are named; nothing is saved."""
    person = authenticate()
    report = policy.REPORTS.get(person, record_id)
    check_version(body, report, "report")
    form: dict[str, Any] = {
        k: body[k] for k in ("activities", "results", "difficulties", "next_steps") if k in body
    }
    spending = body.get("spending")
    if spending is None:
        spending = report.spending or []
    for item in spending:
        form[f"actual-{item['budget_line_id']}"] = item.get("actual", "")
        form[f"explanation-{item['budget_line_id']}"] = item.get("explanation", "")
    values = body.get("indicator_values", report.indicator_values or {})
    for index, parts in values.items():
        for part, value in parts.items():
            suffix = "" if part == "value" else f"-{part}"
            form[f"indicator-{index}{suffix}"] = value
    received = body.get("cofinancing_received", report.cofinancing_received or {})
    for source_id, value in received.items():
        form[f"cofinancing-{source_id}"] = value
    award_service.save_report(person, report, form, locale=MACHINE)
    db.session.flush()
    return with_options([report], person, True)[0], 200, etag_of(report)
