"""Programme officers' calls: the list, the call form, and extending a deadline."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_security import current_user

from forms.calls import CALL_ROWS, CallForm, ExtendDeadlineForm, call_data
from grants.roles import ADMIN, PROGRAMME_OFFICER
from grants.services import calls as service
from grants.services.errors import Conflict, GuardFailed, InvalidInput
from grants.services.workflow import fire
from grants.web.access import role_required
from grants.web.forms import attach_errors

blueprint = Blueprint("calls", __name__, url_prefix="/office/calls")


def _fill(form: CallForm, call) -> None:
    """Put a saved call into the form (texts per language, local times, the rows)."""
    zone = ZoneInfo(call.timezone)
    form.version.data = call.version
    form.sdg_targets.data = ", ".join(call.sdg_targets or [])
    for field in ("title", "description"):
        for locale, text in (getattr(call, field) or {}).items():
            if f"{field}_{locale}" in form:
                form[f"{field}_{locale}"].data = text
    for name in ("opens_at", "closes_at", "proposal_closes_at"):
        moment = getattr(call, name)
        form[name].data = moment.astimezone(zone).replace(tzinfo=None) if moment else None
    rows = {
        "criteria": [
            dict(
                name=c.text("name", call.language),
                weight=c.weight,
                description=c.text("description", call.language),
                scale_min=c.scale_min,
                scale_max=c.scale_max,
            )
            for c in call.criteria
        ],
        "document_types": [
            dict(
                name=d.text("name", call.language),
                help=d.text("help", call.language),
                required=d.required,
                identifying=d.identifying,
                max_size_mb=d.max_size_mb,
                allowed_kinds=d.allowed_kinds,
            )
            for d in call.document_types
        ],
        "indicators": [
            dict(name=i["name"].get(call.language, ""), unit=i["unit"], by_sex=i["by_sex"])
            for i in call.indicators or []
        ],
        "tranches": [
            dict(percentage=Decimal(t["percentage"]), after_report=t["after_report"] or "")
            for t in call.tranche_schedule or []
        ],
        "reports": list(call.report_schedule or []),
    }
    for name, values in rows.items():
        while len(form[name]) < len(values) + 1:
            form[name].append_entry()
        for entry, value in zip(form[name].entries, values, strict=False):
            entry.form.process(None, data=value)


def _grow(form: CallForm) -> bool:
    """ "Add a row" buttons: one more empty row, nothing saved."""
    for name in CALL_ROWS:
        if f"add_{name}" in request.form:
            form[name].append_entry()
            return True
    return False


@blueprint.get("/")
@role_required(PROGRAMME_OFFICER, ADMIN)
def index():
    calls, counts = service.all_calls(page=request.args.get("page", 1, type=int))
    return render_template("calls/index.html", calls=calls, counts=counts)


@blueprint.route("/new", methods=["GET", "POST"])
@role_required(PROGRAMME_OFFICER)
def create():
    form = CallForm()
    if request.method == "POST" and _grow(form):
        return render_template("calls/form.html", form=form, call=None)
    if form.validate_on_submit():
        try:
            call = service.create_call(current_user, call_data(form))
        except InvalidInput as error:
            attach_errors(form, error)
        else:
            flash(_("The call is saved as a draft. Publish it when it is complete."), "success")
            return redirect(url_for("applications.call_page", code=call.code), code=303)
    status = 422 if request.method == "POST" else 200
    return render_template("calls/form.html", form=form, call=None), status


@blueprint.route("/<code>/edit", methods=["GET", "POST"])
@role_required(PROGRAMME_OFFICER)
def edit(code: str):
    call = service.find_call(code)
    form = CallForm(obj=call) if request.method == "GET" else CallForm()
    if request.method == "GET":
        _fill(form, call)
        return render_template("calls/form.html", form=form, call=call)
    if _grow(form):
        return render_template("calls/form.html", form=form, call=call)
    if form.validate_on_submit():
        try:
            service.update_call(current_user, call, form.version.data, call_data(form))
        except Conflict as stale:
            flash(stale.message, "error")
            return render_template("calls/form.html", form=form, call=call), 409
        except InvalidInput as error:
            attach_errors(form, error)
        else:
            flash(_("The call is saved."), "success")
            return redirect(url_for("applications.call_page", code=call.code), code=303)
    return render_template("calls/form.html", form=form, call=call), 422


@blueprint.post("/<code>/extend")
@role_required(PROGRAMME_OFFICER)
def extend(code: str):
    call = service.find_call(code)
    form = ExtendDeadlineForm()
    target = url_for("applications.call_page", code=call.code)
    if not form.validate_on_submit():
        flash(_("Give the new deadline as a date and a time."), "error")
        return redirect(target, code=303)
    closes_at = service.local_moment(form.closes_at.data, call.timezone)
    try:
        fire(call, "extend_deadline", current_user, closes_at=closes_at)
    except GuardFailed as refused:
        for reason in refused.reasons:
            flash(reason, "error")
        return redirect(target, code=303)
    flash(_("The deadline is extended."), "success")
    return redirect(target, code=303)
