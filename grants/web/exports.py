"""Officers' exports, streamed: applications of a call, tranches and payments, reports'
indicators, each as CSV or XLSX."""

from __future__ import annotations

from flask import Blueprint

from grants.exports import spreadsheets, tables
from grants.roles import ADMIN, FINANCE_OFFICER, PROGRAMME_OFFICER
from grants.services import calls as call_service
from grants.web.access import role_required

blueprint = Blueprint("exports", __name__)


@blueprint.get("/office/calls/<code>/applications.<any(csv, xlsx):kind>")
@role_required(PROGRAMME_OFFICER, ADMIN)
def applications(code: str, kind: str):
    return spreadsheets.response(tables.applications_of(call_service.find_call(code)), kind)


@blueprint.get("/finance/tranches.<any(csv, xlsx):kind>")
@role_required(FINANCE_OFFICER, PROGRAMME_OFFICER, ADMIN)
def tranches(kind: str):
    return spreadsheets.response(tables.tranches_and_payments(), kind)


@blueprint.get("/office/reports/indicators.<any(csv, xlsx):kind>")
@role_required(PROGRAMME_OFFICER, ADMIN)
def indicators(kind: str):
    return spreadsheets.response(tables.report_indicators(), kind)
