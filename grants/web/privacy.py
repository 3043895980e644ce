"""Personal data: a person's copy of their data, anonymisation, and retention."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_security import current_user

from forms.privacy import AnonymiseForm, ExportForm
from grants.freshness import unless_fresh
from grants.roles import ADMIN
from grants.services import accounts as account_service
from grants.services import anonymisation, personal_data, retention
from grants.services.errors import Conflict, InvalidInput
from grants.web.access import login_required, role_required

blueprint = Blueprint("privacy", __name__)


def _my_data_page(form: ExportForm, status: int = 200):
    return render_template(
        "account/data.html",
        form=form,
        exports=personal_data.exports_of(current_user),
    ), status


@blueprint.route("/account/data", methods=["GET", "POST"])
@login_required
def my_data():
    form = ExportForm()
    if form.validate_on_submit():
        if (answer := unless_fresh()) is not None:
            return answer  # a copy of everything about a person: who is asking, again
        try:
            export = personal_data.request_export(current_user)
        except Conflict as refused:
            flash(refused.message, "error")
            return _my_data_page(form, refused.status)
        if export.state == "ready":
            flash(_("Your data is ready: download it below."), "success")
        else:
            flash(
                _("Your data is being prepared. We will email you when it is ready."),
                "success",
            )
        return redirect(url_for("privacy.my_data"), code=303)
    return _my_data_page(form, 422 if form.errors else 200)


@blueprint.get("/account/data/<int:export_id>/download")
@login_required
def download_export(export_id: int):
    try:
        url = personal_data.download_url(current_user, export_id)
    except (personal_data.ExportGone, Conflict) as refused:
        flash(refused.message, "error")
        return _my_data_page(ExportForm(), refused.status)
    return redirect(url, code=303)


@blueprint.route("/admin/users/<int:user_id>/anonymise", methods=["GET", "POST"])
@role_required(ADMIN)
def anonymise(user_id: int):
    person = account_service.get_user(user_id)
    form = AnonymiseForm()
    status = 200
    if request.method == "POST":
        if (answer := unless_fresh()) is not None:
            return answer
        try:
            name = anonymisation.anonymise(current_user, person, form.confirmation.data or "")
        except InvalidInput as refused:
            form.confirmation.errors = list(refused.errors["confirmation"])
            status = refused.status
        except Conflict as refused:
            flash(refused.message, "error")
            status = refused.status
        else:
            flash(_("The person is anonymised: they appear as %(name)s.", name=name), "success")
            return redirect(url_for("admin.user", user_id=user_id), code=303)
    return render_template(
        "admin/anonymise.html",
        person=person,
        form=form,
        problem=anonymisation.anonymisation_problem(current_user, person),
        preview=anonymisation.preview(person) if person.anonymised_at is None else None,
    ), status


@blueprint.get("/admin/retention")
@role_required(ADMIN)
def retention_preview():
    try:
        preview = retention.preview(page=request.args.get("page", 1, type=int))
    except retention.RetentionRefused as refused:
        return render_template("admin/retention.html", preview=None, refused=refused.message)
    return render_template(
        "admin/retention.html",
        preview=preview,
        refused=None,
        years=retention.years(),
        plan=retention.next_run(),
    )
