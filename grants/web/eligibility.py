"""Eligibility pages: the public "Can we apply?" check of a call, starting a draft from
it, a draft's answers to the call's questions, and the officer's rules of a call."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_security import current_user

from forms.eligibility import (
    EligibilitySettingsForm,
    answers_form,
    check_form,
    fill_settings,
    posted_answers,
    settings_data,
)
from grants.roles import PROGRAMME_OFFICER
from grants.services import applications as application_service
from grants.services import eligibility as service
from grants.services.errors import Conflict, InvalidInput
from grants.web import isolated
from grants.web.access import login_required, role_required
from grants.web.forms import attach_errors
from workflows.eligibility import question_text

blueprint = Blueprint("eligibility", __name__)


def _locale() -> str:
    return str(get_locale() or "en")


@blueprint.app_context_processor
def _answers_form():
    """The application page's eligibility questions: the form as posted when it was
    refused, else the draft's saved answers."""

    def eligibility_answers_form(application):
        posted = g.get("eligibility_form")
        return posted or answers_form(application.call, _locale(), application)

    return {"eligibility_answers_form": eligibility_answers_form, "question_text": question_text}


@blueprint.get("/calls/<code>/eligibility")
def check(code: str):
    call = service.call_for_check(current_user, code)
    associations = service.member_associations(current_user)
    asked = bool(request.args)
    form = check_form(call, _locale(), associations, formdata=request.args if asked else None)
    chosen = associations[0] if associations else None
    if associations and asked and form.association_id.data is not None:
        chosen = next((a for a in associations if a.id == form.association_id.data), chosen)
    result, status = None, 200
    if asked:
        if form.validate():
            result = service.check(
                call,
                form.project_country.data,
                form.amount.data,
                form.cofinancing_share.data,
                form.answers(),
                association=chosen,
                registration_country=form.registration_country.data or None,
            )
        else:
            status = 422
    record = service.record_facts(chosen, service.today()) if chosen is not None else None
    return render_template(
        "eligibility/check.html",
        call=call,
        form=form,
        result=result,
        association=chosen,
        record=record,
    ), status


def _amount(raw: str | None) -> Decimal | None:
    try:
        amount = Decimal(raw or "")
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


@blueprint.post("/calls/<code>/eligibility/apply")
@login_required
def start(code: str):
    """Start a draft from the check, keeping the answers given there."""
    call = service.call_for_check(current_user, code)
    answers = {
        question["key"]: request.form.get(f"question_{question['key']}")
        for question in call.eligibility_questions or []
    }
    application = service.start_from_check(
        current_user,
        call,
        request.form.get("association_id", type=int),
        answers,
        project_country=request.form.get("project_country") or None,
        amount=_amount(request.form.get("amount")),
    )
    flash(
        isolated(
            _l("Your application %(reference)s is started. Save it as often as you like."),
            reference=application.reference,
        ),
        "success",
    )
    return redirect(url_for("applications.show", application_id=application.id), code=303)


@blueprint.post("/applications/<int:application_id>/eligibility")
@login_required
def answers(application_id: int):
    """A draft's answers to the call's eligibility questions."""
    application = application_service.visible_application(current_user, application_id)
    application_service.check_editable(current_user, application)
    form = answers_form(application.call, _locale(), application, formdata=request.form)
    target = url_for("applications.show", application_id=application.id, _anchor="eligibility")
    if form.validate():
        try:
            service.save_answers(current_user, application, form.version.data, posted_answers(form))
        except Conflict as stale:
            flash(stale.message, "error")
            return _application_page(application, form, 409)
        except InvalidInput as invalid:
            attach_errors(form, invalid)
            return _application_page(application, form, 422)
        flash(_("Your answers are saved."), "success")
        return redirect(target, code=303)
    return _application_page(application, form, 422)


def _application_page(application, form, status: int):
    from grants.web.applications import _render

    g.eligibility_form = form
    return _render(application, status=status)


@blueprint.route("/office/calls/<code>/eligibility", methods=["GET", "POST"])
@role_required(PROGRAMME_OFFICER)
def settings(code: str):
    call = service.find_call(code)
    if request.method == "GET":
        form = EligibilitySettingsForm(formdata=None)
        fill_settings(form, call)
        return render_template("eligibility/settings.html", form=form, call=call)
    form = EligibilitySettingsForm()
    if "add_question" in request.form:
        form.questions.append_entry()
        return render_template("eligibility/settings.html", form=form, call=call)
    if form.validate_on_submit():
        data, positions = settings_data(form)
        try:
            service.save_settings(current_user, call, form.version.data, data)
        except Conflict as stale:
            flash(stale.message, "error")
            return render_template("eligibility/settings.html", form=form, call=call), 409
        except InvalidInput as invalid:
            attach_errors(form, service.errors_on_rows(invalid, positions))
        else:
            flash(_("The eligibility rules are saved."), "success")
            return redirect(url_for("applications.call_page", code=call.code), code=303)
    return render_template("eligibility/settings.html", form=form, call=call), 422
