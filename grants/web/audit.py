"""The audit trail for admins: filters, pages by key, and the filtered rows as a file."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_security import current_user

from grants.exports import spreadsheets, tables
from grants.roles import ADMIN
from grants.services import audit
from grants.services.errors import InvalidInput
from grants.web.access import role_required

blueprint = Blueprint("audit", __name__, url_prefix="/admin")

#: How long a value of a change may be on the page; the file keeps it whole.
SHOWN_LENGTH = 160


def shown(value: Any) -> str:
    """One value of a change, as a reader sees it."""
    if value is None or value == "" or value == []:
        return "—"
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if isinstance(value, dict):
        text = "; ".join(f"{key}: {shown(item)}" for key, item in value.items())
    elif isinstance(value, list):
        text = ", ".join(shown(item) for item in value)
    else:
        text = str(value)
    return text if len(text) <= SHOWN_LENGTH else text[: SHOWN_LENGTH - 1] + "…"


@blueprint.app_context_processor
def _labels() -> dict[str, Any]:
    return {
        "audit_kind": audit.kind_label,
        "audit_record": audit.record_label,
        "audit_value": shown,
    }


def _zone() -> str:
    return str(get_timezone() or "UTC")


def _page(problem: InvalidInput | None = None, **context: Any):
    """The page with its filters as typed; a bad filter is named beside its field (422)."""
    html = render_template(
        "admin/audit.html",
        problem=problem,
        args=request.args,
        kinds=audit.KINDS,
        record_types=audit.RECORD_TYPES,
        **({"rows": []} | context),
    )
    return html, 422 if problem else 200


@blueprint.get("/audit")
@role_required(ADMIN)
def trail():
    """The trail, newest first, filtered by person, record, kind and period."""
    audit.check_may_read(current_user)
    try:
        filters = audit.parse_filters(request.args)
        before = _before(request.args.get("before"))
    except InvalidInput as problem:
        return _page(problem)
    rows, older = audit.trail(current_user, filters, before, zone=_zone())
    return _page(filters=filters, rows=rows, older=older, paged=before is not None)


def _before(value: str | None) -> int | None:
    if not value:
        return None
    if not value.isdigit():
        raise InvalidInput(
            _("This page of the trail does not exist: start again from the newest rows."),
            {"before": [_("Not a page of the trail.")]},
        )
    return int(value)


@blueprint.get("/audit.<any(csv, xlsx):extension>")
@role_required(ADMIN)
def export(extension: str):
    """The filtered rows as CSV or XLSX, streamed; the download is itself audited."""
    audit.check_may_read(current_user)
    try:
        filters = audit.parse_filters(request.args)
    except InvalidInput as problem:
        return _page(problem)
    table = tables.audit_trail(audit.filtered(filters, _zone()))
    return spreadsheets.response(audit.exported(current_user, table, extension), extension)
