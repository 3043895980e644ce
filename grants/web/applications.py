"""Applications through web forms: the call page, the draft, documents, submission,
and the officers' screening list."""

from __future__ import annotations

import re
import secrets
from functools import partial

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    get_template_attribute,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_time
from flask_babel import gettext as _
from flask_security import current_user
from sqlalchemy import select

from forms.applications import TABLES, ApplicationForm, DraftFieldsForm
from grants.extensions import db
from grants.i18n import select_locale
from grants.models.applications import Application
from grants.models.calls import Call
from grants.models.documents import Document
from grants.orm import utcnow
from grants.roles import ADMIN, PROGRAMME_OFFICER
from grants.services import applications as service
from grants.services import audit, duplicates, evaluation, screening
from grants.services import documents as document_service
from grants.services import questions as question_service
from grants.services.associations import is_member
from grants.services.errors import Conflict, InvalidInput
from grants.services.workflow import allowed_transitions, history_of
from grants.web import application_parts as parts
from grants.web.access import login_required, role_required
from grants.web.forms import attach_errors
from grants.web.questions import application_sections, form_sections, posted_answers
from grants.web.uploads import store_upload

blueprint = Blueprint("applications", __name__)

#: The one-time key of a "Start an application" form: 22 characters of ``token_urlsafe``.
START_KEY = re.compile(r"[A-Za-z0-9_-]{16,32}")


def _call(code: str, public: bool = True) -> Call:
    call = db.session.scalar(select(Call).where(Call.code == code))
    if call is None or (
        public
        and call.state == "draft"
        and not (
            current_user.is_authenticated and {PROGRAMME_OFFICER, ADMIN} & current_user.role_names
        )
    ):
        abort(404)
    return call


@blueprint.get("/calls/<code>")
def call_page(code: str):
    call = _call(code)
    associations = []
    if current_user.is_authenticated:
        associations = [m.association for m in current_user.memberships]
    officer = current_user.is_authenticated and PROGRAMME_OFFICER in current_user.role_names
    return render_template(
        "applications/call.html",
        call=call,
        associations=associations,
        start_key=secrets.token_urlsafe(16) if associations else None,
        officer=officer,
        options=allowed_transitions(call, current_user, only_own_roles=True) if officer else [],
        history=history_of(call) if officer else [],
        audit_rows=audit.record_trail(current_user, "call", call.id),
    )


@blueprint.get("/calls/<code>/questions")
def questions(code: str):
    call = _call(code)
    return render_template(
        "applications/questions.html",
        call=call,
        form=ApplicationForm(formdata=None),
        own=form_sections(question_service.latest_set(call), {}),
    )


@blueprint.post("/calls/<code>/apply")
@login_required
def start(code: str):
    call = _call(code)
    memberships = current_user.memberships
    association_id = request.form.get("association_id", type=int)
    if association_id is None and len(memberships) == 1:
        association_id = memberships[0].association_id
    if association_id is None:
        raise InvalidInput(_("Choose the association you apply for."))
    association = next(
        (m.association for m in memberships if m.association_id == association_id), None
    )
    if association is None:
        abort(404)
    start_key = request.form.get("start_key") or None
    if start_key is not None and not START_KEY.fullmatch(start_key):
        raise InvalidInput(_("This start of an application is not valid. Open the call again."))
    application = service.start_application(current_user, call, association, start_key)
    # No flashed message: the page says the draft is started while nothing is saved in
    # it, which spares the slow phone two cookies on the way (see applications/show.html).
    first = parts.parts_of(application)[0]
    draft_url = url_for("applications.show", application_id=application.id, part=first.name)
    if start_key is None:
        return redirect(draft_url)
    # The form's one-time key makes this POST safe to repeat (a reload opens the same
    # draft), so its answer is the first part itself: on a slow phone a redirect costs a
    # round trip more (0.6 s at 400 ms latency). The page gives itself the draft's address.
    return _render(application, _saved_form(application), part=first, draft_url=draft_url)


def _offered(form: ApplicationForm, application: Application) -> ApplicationForm:
    """The form offering the call's countries only (all when the call names none), and
    short lists of partners' countries and budget currencies."""
    form.country.offer(service.project_countries(application.call))
    if form.partners is not None:  # a save of the draft's own fields carries no tables
        partner_countries = service.partner_countries(application)
        for entry in form.partners.entries:
            entry.form.country.offer(partner_countries)
    form.budget_currency.offer(service.budget_currencies(application))
    return form


def _form_for(application: Application) -> ApplicationForm:
    """The form as posted, or as the saved draft fills it (a GET)."""
    if request.method == "GET":
        return _saved_form(application)
    return _offered(ApplicationForm(obj=application), application)


def _saved_form(application: Application) -> ApplicationForm:
    """The saved draft in the form, with one blank row more in each table to add one."""
    form = ApplicationForm(formdata=None, obj=application)
    form.version.data = application.version
    while len(form.budget_lines) < len(application.budget_lines) + 1:
        form.budget_lines.append_entry()
    for entry, line in zip(form.budget_lines.entries, application.budget_lines, strict=False):
        entry.form.process(None, obj=line)
    for name, rows in (
        ("cofinancing", application.cofinancing),
        ("partners", application.partners),
        ("team", application.team),
    ):
        while len(form[name]) < len(rows) + 1:
            form[name].append_entry()
        for entry, row in zip(form[name].entries, rows, strict=False):
            entry.form.process(None, obj=row)
    return _offered(form, application)


#: What an autosave may name in ``changed``: the draft's own fields and its tables.
_CHANGEABLE = frozenset((*service.DRAFT_FIELDS, *TABLES))


def _sent(application: Application) -> set[str] | None:
    """The fields and tables a POST carries: those an autosave names in ``changed``, or
    those of the part of the form it was sent from; None for the whole form."""
    if "changed" in request.form:
        return set(request.form.getlist("changed"))
    name = request.form.get("part")
    if name is None or name == parts.ALL:
        return None
    part = parts.chosen(application, name)
    return set(part.groups)


def _changed_form(application: Application, sent: set[str] | None) -> ApplicationForm:
    """A save sends some fields (a table of rows by its name, with all its rows); the
    rest is the saved draft. The form is then validated and saved as the whole form's
    would be; when no table was sent, without the tables (``DraftFieldsForm``), which are
    then neither loaded nor compared."""
    if sent is None:
        return _form_for(application)
    changed = sent & _CHANGEABLE
    if changed & set(TABLES):
        form = _saved_form(application)
    else:
        form = _offered(DraftFieldsForm(formdata=None, obj=application), application)
    for name in (*changed, "csrf_token", "version"):
        if name in form and (name in request.form or name in _ABSENT_MEANS_EMPTY):
            form[name].process(request.form)
    return form


#: Fields a browser leaves out of a post when they are empty (no box ticked, no row): a
#: part that carries them and sends none empties them. Any other field left out of a
#: post keeps its saved value.
_ABSENT_MEANS_EMPTY = frozenset(("sdg_targets", *TABLES))


def _earlier_versions(application: Application) -> dict[int, list[Document]]:
    """Replaced documents by document type, newest first: the documents' history."""
    earlier: dict[int, list[Document]] = {}
    for document in sorted(application.documents, key=lambda d: d.id, reverse=True):
        if document.replaced_by_id is not None and document.document_type_id is not None:
            earlier.setdefault(document.document_type_id, []).append(document)
    return earlier


def _render(
    application: Application,
    form: ApplicationForm | None = None,
    status: int = 200,
    answer_errors: dict[str, list[str]] | None = None,
    part: parts.Part | str | None = None,
    draft_url: str | None = None,
):
    editable = application.state in service.EDITABLE_STATES and is_member(
        current_user, application.association
    )
    officer = bool({PROGRAMME_OFFICER, ADMIN} & current_user.role_names)
    checklist = service.checklist(current_user, application) if editable else []
    shown = parts.shown(application, part) if editable else []
    return render_template(
        "applications/show.html",
        application=application,
        draft_url=draft_url,
        form=form if form is not None else (_form_for(application) if shown else None),
        editable=editable,
        officer=officer,
        part=part if editable else None,
        form_parts=parts.parts_of(application) if editable else [],
        next_url=parts.after(application, part)
        if editable and isinstance(part, parts.Part)
        else None,
        shown={p.name for p in shown},
        to_complete=parts.to_complete(application, checklist) if editable else set(),
        checklist_links=parts.checklist_links(application) if editable else {},
        checklist=checklist,
        checks=screening.eligibility_checks(application) if officer else [],
        duplicate_check=duplicates.check(current_user, application) if officer else None,
        may_record_duplicates=PROGRAMME_OFFICER in current_user.role_names
        and application.state in duplicates.CHECKED_STATES,
        options=allowed_transitions(application, current_user, only_own_roles=True),
        history=history_of(application),
        audit_rows=audit.record_trail(current_user, "application", application.id),
        question_sections=application_sections(application, answer_errors)
        if editable and (part is None or "questions" in {p.name for p in shown})
        else [],
        answers=[]
        if editable
        else question_service.answers_for_reading(application, select_locale()),
        documents={d.document_type_id: d for d in application.current_documents},
        letters={d.purpose: d for d in application.current_documents if d.purpose},
        versions=_earlier_versions(application),
        reviews=[
            (review, allowed_transitions(review, current_user, only_own_roles=True))
            for review in evaluation.reviews_of(application)
        ]
        if officer
        else [],
    ), status


@blueprint.route("/applications/<int:application_id>", methods=["GET", "POST"])
@login_required
def show(application_id: int):
    if request.method == "POST" and request.headers.get("X-Requested-With") == "autosave":
        application = service.visible_application(current_user, application_id, *service.SAVING)
        service.check_editable(current_user, application)
        return _autosave(application, _changed_form(application, _sent(application)))
    application = service.visible_application(current_user, application_id)
    if request.method == "GET":
        return _render(application, part=parts.chosen(application, request.args.get("part")))
    service.check_editable(current_user, application)
    sent = _sent(application)
    part = parts.chosen(application, request.form.get("part", parts.ALL))
    form = _changed_form(application, sent)
    render = partial(_render, application, part=part)
    if "add_line" in request.form:
        form.budget_lines.append_entry()
        return render(_offered(form, application))
    for button, rows in (
        ("add_source", form.cofinancing),
        ("add_partner", form.partners),
        ("add_member", form.team),
    ):
        if button in request.form and rows is not None:
            rows.append_entry()
            return render(_offered(form, application))
    if not form.validate_on_submit():
        return _render(application, form, 422, part=_part_of_errors(application, form, part))
    try:
        _save(application, form, sent)
    except Conflict as stale:
        flash(stale.message, "error")
        return render(form, 409)
    except InvalidInput as invalid:
        attach_errors(form, invalid)
        errors = invalid.errors or {}
        return _render(
            application, form, 422, errors, part=_part_of_errors(application, form, part, errors)
        )
    flash(_("Saved."), "success")
    if "continue" in request.form and isinstance(part, parts.Part):
        return redirect(parts.after(application, part), code=303)
    return redirect(
        url_for("applications.show", application_id=application.id, part=request.form.get("part")),
        code=303,
    )


def _part_of_errors(
    application: Application,
    form: ApplicationForm,
    part: parts.Part | str | None,
    answer_errors: dict | None = None,
) -> parts.Part | str | None:
    """The page that shows a refused save's reasons: the part it was sent from when they
    are there, else the first part holding one of them (a saved value no longer valid)."""
    named = [name for name, field in form._fields.items() if field.errors]
    named += list(answer_errors or {})
    if not named or part == parts.ALL or part is None:
        return part
    if {name.split("-")[0] for name in named} & set(part.groups):
        return part
    return parts.part_with(application, named) or part


def _tables(form: ApplicationForm) -> dict[str, list[dict] | None]:
    """The form's tables as the service takes them; None for those it does not carry."""
    return {
        name: getattr(form, method)() if getattr(form, name, None) is not None else None
        for name, method in zip(
            TABLES, ("lines", "sources", "partner_rows", "team_rows"), strict=True
        )
    }


def _save(application: Application, form: ApplicationForm, sent: set[str] | None) -> None:
    tables = _tables(form)
    service.save_draft(
        current_user,
        application,
        form.version.data,
        form.draft_data(),
        tables["budget_lines"],
        tables["cofinancing"],
        tables["partners"],
        tables["team"],
        answers=posted_answers(application, sent),
    )


def _already_saved(application: Application, form: ApplicationForm) -> bool:
    """Changes sent again after their answer was lost (the connection dropped on the way
    back) find the draft already as they say: that is no one else's save to protect."""
    saved = _saved_form(application)
    if form.draft_data() != saved.draft_data():
        return False
    return all(rows is None or rows == _tables(saved)[name] for name, rows in _tables(form).items())


def _autosave(application: Application, form: ApplicationForm):
    """The JavaScript enhancement's save: JSON in, a short status sentence out. A refusal
    for a stale version says which version is current, so that the person can save over
    it once they have been told; one for a field of another part says which part."""
    if not form.validate_on_submit():
        named = [name for name, field in form._fields.items() if field.errors]
        return jsonify(
            message=_(
                "Not saved automatically: some fields need attention; press Save to see them."
            ),
            where=parts.link_to_part_with(application, named),
        ), 422
    try:
        _save(application, form, set(request.form.getlist("changed")))
    except Conflict as stale:
        if not _already_saved(application, form):
            return jsonify(message=stale.message, current_version=application.version), 409
    except InvalidInput as refused:
        where = parts.link_to_part_with(application, list(refused.errors or {}))
        return jsonify(message=refused.message, where=where), refused.status
    db.session.flush()
    return jsonify(
        version=application.version,
        message=_("Saved automatically at %(time)s.", time=format_time(utcnow(), "short")),
        parts=_saved_parts(application, form),
    )


def _saved_parts(application: Application, form: ApplicationForm) -> dict[str, str]:
    """The parts of the page a save changes, rendered again: the budget's total and the
    co-financing share, only when the save carried what they are computed from. (What
    is missing to submit is read on the overview, which no save changes in place.)"""
    if isinstance(form, DraftFieldsForm) and "budget_currency" not in request.form.getlist(
        "changed"
    ):
        return {}
    part = partial(get_template_attribute, "applications/_saved_parts.html")
    return {
        "budget-total": part("budget_total")(application),
        "cofinancing-share": part("cofinancing_share")(application),
    }


@blueprint.post("/applications/<int:application_id>/documents/<int:document_type_id>")
@login_required
def upload(application_id: int, document_type_id: int):
    application = service.visible_application(current_user, application_id)
    document_type = service.document_type_of(application, document_type_id)
    service.check_editable(current_user, application)
    back_to = url_for("applications.show", application_id=application.id, _anchor="documents")
    return store_upload(back_to, application=application, document_type=document_type)


@blueprint.post("/applications/<int:application_id>/partners/<int:position>/letter")
@login_required
def upload_letter(application_id: int, position: int):
    """The letter of commitment of one partner of the application."""
    application = service.visible_application(current_user, application_id)
    service.check_editable(current_user, application)
    partner = next((p for p in application.partners if p.position == position), None)
    if partner is None:
        abort(404)
    back_to = url_for("applications.show", application_id=application.id, _anchor="documents")
    return store_upload(
        back_to,
        _("The letter of %(partner)s is uploaded.", partner=partner.name),
        application=application,
        purpose=partner.letter_purpose,
    )


@blueprint.get("/documents/<int:document_id>")
@login_required
def download(document_id: int):
    document = db.session.get(Document, document_id)
    if document is None or document.application_id is None:
        abort(404)
    service.visible_application(current_user, document.application_id)
    return redirect(document_service.download_for(current_user, document), code=302)


@blueprint.post("/applications/<int:application_id>/submit")
@login_required
def submit(application_id: int):
    application = service.visible_application(current_user, application_id)
    service.submit(current_user, application, request.form.get("version", type=int))
    return redirect(url_for("applications.submitted", application_id=application.id), code=303)


@blueprint.get("/applications/<int:application_id>/submitted")
@login_required
def submitted(application_id: int):
    application = service.visible_application(current_user, application_id)
    if application.submitted_at is None:
        return redirect(url_for("applications.show", application_id=application.id))
    return render_template("applications/submitted.html", application=application)


@blueprint.get("/calls/<code>/applications")
@role_required(PROGRAMME_OFFICER, ADMIN)
def screening_list(code: str):
    call = _call(code, public=False)
    filters = screening.Filters.from_args(request.args)
    page = screening.applications_of_call(call, filters)
    return render_template(
        "applications/screening.html",
        call=call,
        filters=filters,
        page=page,
        recorded_duplicates=duplicates.recorded_duplicates(
            current_user, [application.id for application in page.items]
        ),
        states=screening.STATES,
        max_upload=current_app.config["MAX_UPLOAD_MB"],
    )
