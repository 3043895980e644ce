"""Officers' exports, streamed: applications of a call, tranches and payments, reports'
indicators, each as CSV or XLSX."""

from __future__ import annotations

from flask import Blueprint
from flask_security import current_user

from grants.exports import spreadsheets, tables
from grants.services import audit
from grants.services import calls as call_service
from grants.services.figures import readers
from grants.web.access import role_required

blueprint = Blueprint("exports", __name__)


@blueprint.get("/office/calls/<code>/applications.<any(csv, xlsx):kind>")
@role_required(*readers("applications_export"))
def applications(code: str, kind: str):
    call = call_service.find_call(code)
    table = audit.exported(current_user, tables.applications_of(call), kind, ("call", call.id))
    return spreadsheets.response(table, kind)


@blueprint.get("/finance/tranches.<any(csv, xlsx):kind>")
@role_required(*readers("tranches_export"))
def tranches(kind: str):
    return spreadsheets.response(
        audit.exported(current_user, tables.tranches_and_payments(), kind), kind
    )


@blueprint.get("/office/reports/indicators.<any(csv, xlsx):kind>")
@role_required(*readers("indicators_export"))
def indicators(kind: str):
    return spreadsheets.response(
        audit.exported(current_user, tables.report_indicators(), kind), kind
    )
