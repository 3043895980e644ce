"""The questions of each call's own: the officers' builder and preview, the answers in
the application form, and the upload of a file that answers a question."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_security import current_user

from forms.questions import KIND_CHOICES, QuestionForm, SectionForm
from grants.i18n import LANGUAGE_NAMES, select_locale
from grants.models.applications import Application
from grants.models.calls import Call
from grants.models.questions import CHOICE_KINDS, Question, QuestionSection, QuestionSet
from grants.numbers import as_typed
from grants.reference import country_names
from grants.roles import PROGRAMME_OFFICER
from grants.services import applications as application_service
from grants.services import calls as call_service
from grants.services import question_building as building
from grants.services import questions as service
from grants.services.errors import InvalidInput
from grants.web.access import login_required, role_required
from grants.web.forms import attach_errors
from grants.web.uploads import store_upload

blueprint = Blueprint("questions", __name__)


# --- the form the applicant answers --------------------------------------------------------


def _shown_value(question: Question, value: Any) -> Any:
    """A saved answer as the form shows it: numbers as the reader writes them."""
    if value is None:
        return ""
    if question.kind in ("whole_number", "amount"):
        return as_typed(Decimal(value))
    return value


def _hint(question: Question, by_key: dict[str, Question], locale: str) -> str:
    parts = [question.text("help", locale)]
    if question.kind == "long_text" and question.max_words:
        parts.append(_("At most %(count)s words.", count=question.max_words))
    if question.minimum is not None:
        parts.append(_("At least %(minimum)s.", minimum=as_typed(question.minimum)))
    if question.maximum is not None:
        parts.append(_("At most %(maximum)s.", maximum=as_typed(question.maximum)))
    if question.condition_key and question.condition_key in by_key:
        parts.append(service.condition_text(question, by_key, locale))
    return " ".join(part for part in parts if part)


def _choices(question: Question, locale: str) -> list[tuple[str, str]]:
    if question.kind == "yes_no":
        return [("yes", _("Yes")), ("no", _("No"))]
    if question.kind in CHOICE_KINDS:
        return [
            (option["value"], question.option_label(option["value"], locale))
            for option in question.options
        ]
    if question.kind == "country":
        return list(country_names(locale).items())
    return []


def form_sections(
    question_set: QuestionSet | None,
    values: dict[str, Any],
    errors: dict[str, list[str]] | None = None,
    documents: dict[str, Any] | None = None,
    posted: bool = False,
) -> list[dict[str, Any]]:
    """The sections of the form with, for each question, what the page shows: the
    answer (as posted, or as saved), its choices, hint and error."""
    if question_set is None:
        return []
    locale = select_locale()
    errors, documents = errors or {}, documents or {}
    by_key = {question.key: question for question in question_set.questions}
    sections = []
    for section in question_set.sections:
        items = []
        for question in section.questions:
            value = values.get(question.key)
            if not posted:
                value = _shown_value(question, value)
            chosen = value if isinstance(value, list) else ([value] if value else [])
            items.append(
                {
                    "question": question,
                    "label": question.text("label", locale),
                    "hint": _hint(question, by_key, locale),
                    "value": value if not isinstance(value, list) else "",
                    "chosen": chosen,
                    "choices": _choices(question, locale),
                    "error": " ".join(errors.get(question.field_name, [])),
                    "document": documents.get(question.key),
                }
            )
        sections.append({"title": section.text("title", locale), "items": items})
    return sections


def posted_answers(application: Application, sent: set[str] | None) -> dict[str, Any] | None:
    """The answers a save sends, by question key: all of them from the whole form, only
    those it carries (``sent``: an autosave's changes, a part of the form) otherwise.
    None when the call asks no question."""
    questions = service.questions_of(application)
    if not questions:
        return None
    answers: dict[str, Any] = {}
    for question in questions:
        if question.kind == "file" or (sent is not None and question.field_name not in sent):
            continue
        if question.kind == "several_choices":
            answers[question.key] = request.form.getlist(question.field_name)
        else:
            answers[question.key] = request.form.get(question.field_name, "")
    return answers


def application_sections(
    application: Application, errors: dict[str, list[str]] | None = None
) -> list[dict[str, Any]]:
    """The questions of the application's form, answered as saved, or as just posted
    when the post carried them (the whole form, or the questions' part)."""
    question_set = service.set_of(application)
    if question_set is None:
        return []
    posted = (
        request.method == "POST"
        and "changed" not in request.form
        and request.form.get("part", "all") in ("all", "questions")
    )
    values = posted_answers(application, None) if posted else service.saved_values(application)
    return form_sections(
        question_set, values or {}, errors, service.file_answers(application), posted
    )


@blueprint.post("/applications/<int:application_id>/questions/<key>/file")
@login_required
def upload_answer(application_id: int, key: str):
    """The file answering one of the call's questions, with the documents' checks."""
    application = application_service.visible_application(current_user, application_id)
    application_service.check_editable(current_user, application)
    question = next((q for q in service.questions_of(application) if q.key == key), None)
    if question is None or question.kind != "file":
        abort(404)
    back_to = url_for("applications.show", application_id=application.id, _anchor="documents")
    return store_upload(back_to, application=application, purpose=question.document_purpose)


# --- the officers' builder ---------------------------------------------------------------


def _call(code: str) -> Call:
    return call_service.find_call(code)


def _section(call: Call, position: int) -> tuple[QuestionSet, QuestionSection]:
    """The call's newest question set and its section at ``position``, or 404."""
    question_set = service.latest_set(call)
    section = (
        next((s for s in question_set.sections if s.position == position), None)
        if question_set
        else None
    )
    if section is None:
        abort(404)
    return question_set, section


def _builder_url(call: Call, anchor: str | None = None) -> str:
    return url_for("questions.builder", code=call.code, _anchor=anchor)


def _section_form(section=None) -> SectionForm:
    form = SectionForm(formdata=None if request.method == "GET" else request.form)
    if section is not None and request.method == "GET":
        for locale, text in (section.title or {}).items():
            if f"title_{locale}" in form:
                form[f"title_{locale}"].data = text
    return form


@blueprint.get("/office/calls/<code>/questions")
@role_required(PROGRAMME_OFFICER)
def builder(code: str, form: SectionForm | None = None, status: int = 200):
    call = _call(code)
    question_set = service.latest_set(call)
    return render_template(
        "questions/builder.html",
        call=call,
        question_set=question_set,
        section_form=form or SectionForm(formdata=None),
        languages=LANGUAGE_NAMES,
        kind_labels=dict(KIND_CHOICES),
    ), status


@blueprint.post("/office/calls/<code>/questions/sections")
@role_required(PROGRAMME_OFFICER)
def add_section(code: str):
    call = _call(code)
    form = SectionForm()
    if not form.validate_on_submit():
        return builder(code, form, 422)
    try:
        building.add_section(current_user, call, form.texts())
    except InvalidInput as invalid:
        attach_errors(form, invalid)
        flash(invalid.errors.get("title", [invalid.message])[0], "error")
        return builder(code, form, 422)
    flash(_("The section is added."), "success")
    return redirect(_builder_url(call), code=303)


@blueprint.route("/office/calls/<code>/questions/sections/<int:position>", methods=["GET", "POST"])
@role_required(PROGRAMME_OFFICER)
def edit_section(code: str, position: int):
    call = _call(code)
    _, section = _section(call, position)
    form = _section_form(section)
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        try:
            building.edit_section(current_user, call, position, form.texts())
        except InvalidInput as invalid:
            attach_errors(form, invalid)
            flash(invalid.errors.get("title", [invalid.message])[0], "error")
            status = 422
        else:
            flash(_("The section is saved."), "success")
            return redirect(_builder_url(call), code=303)
    elif request.method == "POST":
        status = 422
    return render_template("questions/section.html", call=call, section=section, form=form), status


@blueprint.post("/office/calls/<code>/questions/sections/<int:position>/move")
@role_required(PROGRAMME_OFFICER)
def move_section(code: str, position: int):
    call = _call(code)
    building.move_section(
        current_user, call, position, -1 if request.form.get("step") == "up" else 1
    )
    return redirect(_builder_url(call), code=303)


@blueprint.post("/office/calls/<code>/questions/sections/<int:position>/remove")
@role_required(PROGRAMME_OFFICER)
def remove_section(code: str, position: int):
    call = _call(code)
    building.remove_section(current_user, call, position)
    flash(_("The section is removed."), "success")
    return redirect(_builder_url(call), code=303)


def _conditions(question_set: QuestionSet | None, before: Question | None, locale: str):
    """The answers of earlier yes/no and choice questions that may show a question."""
    pairs = []
    if question_set is None:
        return pairs
    for question in question_set.questions:
        if before is not None and question.key == before.key:
            break
        label = question.text("label", locale)
        for value, text in _choices(question, locale) if question.kind != "country" else []:
            pairs.append((f"{question.key}={value}", f"{label} = {text}"))
    return pairs


def _criteria(call: Call) -> list[tuple[int, str]]:
    return [(criterion.id, criterion.text("name", select_locale())) for criterion in call.criteria]


def _question_page(call, section, question, form, status=200):
    return render_template(
        "questions/question.html", call=call, section=section, question=question, form=form
    ), status


def _fill(form: QuestionForm, question: Question) -> None:
    form.kind.data = question.kind
    form.required.data = question.required
    form.identifying.data = question.identifying
    form.max_words.data = question.max_words
    form.minimum.data = question.minimum
    form.maximum.data = question.maximum
    if question.condition_key:
        form.condition.data = f"{question.condition_key}={question.condition_value}"
    for locale in LANGUAGE_NAMES:
        form[f"label_{locale}"].data = (question.label or {}).get(locale, "")
        form[f"help_{locale}"].data = (question.help or {}).get(locale, "")
        form[f"options_{locale}"].data = "\n".join(
            (option.get("label") or {}).get(locale, "") for option in question.options or []
        ).strip("\n")


def _save_question(call, section, question, form, save):
    if not form.validate_on_submit():
        return _question_page(call, section, question, form, 422)
    try:
        question = save(form.data_for_service())
        building.set_criteria_scoring(current_user, call, question.key, form.criteria.data or [])
    except InvalidInput as invalid:
        attach_errors(form, invalid)
        for name in ("label", "options", "condition"):
            for message in invalid.errors.get(name, []):
                target = {
                    "label": f"label_{call.language}",
                    "options": f"options_{call.language}",
                }.get(name, name)
                if target in form:
                    form[target].errors = [*form[target].errors, message]
        return _question_page(call, section, question, form, 422)
    flash(_("The question is saved."), "success")
    return redirect(_builder_url(call), code=303)


@blueprint.route(
    "/office/calls/<code>/questions/sections/<int:position>/new", methods=["GET", "POST"]
)
@role_required(PROGRAMME_OFFICER)
def add_question(code: str, position: int):
    call = _call(code)
    question_set, section = _section(call, position)
    form = QuestionForm(formdata=None if request.method == "GET" else request.form)
    form.offer_conditions(_conditions(question_set, None, call.language))
    form.offer_criteria(_criteria(call))
    if request.method == "GET":
        return _question_page(call, section, None, form)
    return _save_question(
        call,
        section,
        None,
        form,
        lambda data: building.add_question(current_user, call, position, data),
    )


@blueprint.route("/office/calls/<code>/questions/<key>", methods=["GET", "POST"])
@role_required(PROGRAMME_OFFICER)
def edit_question(code: str, key: str):
    call = _call(code)
    question_set = service.latest_set(call)
    question = (
        next((q for q in question_set.questions if q.key == key), None) if question_set else None
    )
    if question is None:
        abort(404)
    form = QuestionForm(formdata=None if request.method == "GET" else request.form)
    form.offer_conditions(_conditions(question_set, question, call.language))
    form.offer_criteria(_criteria(call))
    if request.method == "GET":
        _fill(form, question)
        form.criteria.data = building.criteria_scoring(call, key)
        return _question_page(call, question.section, question, form)
    return _save_question(
        call,
        question.section,
        question,
        form,
        lambda data: building.edit_question(current_user, call, key, data),
    )


@blueprint.post("/office/calls/<code>/questions/<key>/move")
@role_required(PROGRAMME_OFFICER)
def move_question(code: str, key: str):
    call = _call(code)
    building.move_question(current_user, call, key, -1 if request.form.get("step") == "up" else 1)
    return redirect(_builder_url(call, f"question-{key}"), code=303)


@blueprint.post("/office/calls/<code>/questions/<key>/remove")
@role_required(PROGRAMME_OFFICER)
def remove_question(code: str, key: str):
    call = _call(code)
    building.remove_question(current_user, call, key)
    flash(_("The question is removed."), "success")
    return redirect(_builder_url(call), code=303)


@blueprint.get("/office/calls/<code>/questions/preview")
@role_required(PROGRAMME_OFFICER)
def preview(code: str):
    """The call's questions as an applicant sees them in the form."""
    call = _call(code)
    return render_template(
        "questions/preview.html",
        call=call,
        sections=form_sections(service.latest_set(call), {}),
    )
