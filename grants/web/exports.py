"""Officers' exports, streamed: applications of a call, tranches and payments, reports'
indicators, each as CSV or XLSX."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, stream_with_context

from grants.exports import tables, xlsx
from grants.roles import ADMIN, FINANCE_OFFICER, PROGRAMME_OFFICER
from grants.services import calls as call_service
from grants.web.access import role_required

blueprint = Blueprint("exports", __name__)


def _send(table: tables.Table, kind: str) -> Response:
    name = f"{table.name}-{date.today().isoformat()}.{kind}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if kind == "xlsx":
        body = tables.xlsx_chunks(table)
        mimetype = xlsx.MIME_TYPE
    else:
        body = tables.csv_chunks(table)
        mimetype = "text/csv"
    return Response(stream_with_context(body), mimetype=mimetype, headers=headers)


@blueprint.get("/office/calls/<code>/applications.<any(csv, xlsx):kind>")
@role_required(PROGRAMME_OFFICER, ADMIN)
def applications(code: str, kind: str):
    return _send(tables.applications_of(call_service.find_call(code)), kind)


@blueprint.get("/finance/tranches.<any(csv, xlsx):kind>")
@role_required(FINANCE_OFFICER, PROGRAMME_OFFICER, ADMIN)
def tranches(kind: str):
    return _send(tables.tranches_and_payments(), kind)


@blueprint.get("/office/reports/indicators.<any(csv, xlsx):kind>")
@role_required(PROGRAMME_OFFICER, ADMIN)
def indicators(kind: str):
    return _send(tables.report_indicators(), kind)
