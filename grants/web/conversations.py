"""The thread on an application's and a grant's page, and the list of a person's threads.

Everything works without JavaScript: each action is one form that posts and comes back
to the page (303), with what went wrong said there and the text typed kept for another go.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_security import current_user

from grants.extensions import db
from grants.services import conversations as service
from grants.services import documents as document_service
from grants.services.errors import InvalidInput
from grants.services.read_markers import write_read_markers
from grants.web.access import login_required

blueprint = Blueprint("conversations", __name__)
blueprint.teardown_app_request(write_read_markers)

#: ``session`` key of the text a refused message had, to offer it again.
DRAFT = "thread_draft"


@blueprint.app_context_processor
def _globals():
    return {
        "conversation_of": _conversation_of,
        "shared_notes_of": _shared_notes_of,
        "unread_messages": _unread_messages,
    }


def _conversation_of(kind: str, record) -> service.Conversation:
    """The thread as the reader sees it, for the page's partial."""
    subject = service.Subject(kind, record)
    found = service.conversation(current_user, subject, request.args.get("before", type=int))
    draft = session.get(DRAFT)
    if draft and draft.get("link") == subject.link:
        session.pop(DRAFT)
        found.draft = draft
    return found


def _shared_notes_of(application) -> list:
    return service.shared_notes(current_user, application)


def _unread_messages() -> int:
    if not current_user.is_authenticated:
        return 0
    return service.unread_count(current_user)


def _back(subject: service.Subject, errors: InvalidInput | None = None, **kept):
    """Back to the thread; a refusal says why there and keeps what was typed."""
    if errors is not None:
        db.session.rollback()
        messages = [m for problems in errors.errors.values() for m in problems]
        for message in messages or [errors.message]:
            flash(message, "error")
        session[DRAFT] = {"link": subject.link, **kept}
    kind = subject.kind
    endpoint = "applications.show" if kind == "application" else "awards.show"
    name = "application_id" if kind == "application" else "award_id"
    return redirect(url_for(endpoint, **{name: subject.record.id}) + "#thread", code=303)


def _upload() -> document_service.Upload | None:
    file = request.files.get("file")
    if file is None or not file.filename:
        return None
    return document_service.Upload(file.stream, file.filename, file.mimetype)


def _post(kind: str, record_id: int):
    subject = service.subject_for(current_user, kind, record_id)
    form = request.form
    body = form.get("body", "")
    message_kind = "note" if form.get("kind") == "note" else "message"
    try:
        service.post(
            current_user,
            subject,
            body,
            kind=message_kind,
            upload=_upload(),
            in_answer_to=form.get("in_answer_to", type=int),
        )
    except InvalidInput as refused:
        return _back(subject, refused, body=body, kind=message_kind)
    sent = _("The note is saved.") if message_kind == "note" else _("Your message is sent.")
    flash(sent, "success")
    return _back(subject)


def _request(kind: str, record_id: int):
    subject = service.subject_for(current_user, kind, record_id)
    body = request.form.get("body", "")
    due = request.form.get("due_on", "")
    due_on = None
    if due:
        try:
            due_on = date.fromisoformat(due)
        except ValueError:
            refused = InvalidInput(
                _("Give the due date as a day, for example 2027-04-30."),
                {"due_on": [_("Give the due date as a day, for example 2027-04-30.")]},
            )
            return _back(subject, refused, request_body=body, due_on=due)
    try:
        service.post(current_user, subject, body, kind="request", due_on=due_on, upload=_upload())
    except InvalidInput as refused:
        return _back(subject, refused, request_body=body, due_on=due)
    flash(_("The request for information is sent to the association."), "success")
    return _back(subject)


@blueprint.post("/applications/<int:application_id>/thread")
@login_required
def post_on_application(application_id: int):
    return _post("application", application_id)


@blueprint.post("/grants/<int:award_id>/thread")
@login_required
def post_on_award(award_id: int):
    return _post("award", award_id)


@blueprint.post("/applications/<int:application_id>/thread/request")
@login_required
def request_on_application(application_id: int):
    return _request("application", application_id)


@blueprint.post("/grants/<int:award_id>/thread/request")
@login_required
def request_on_award(award_id: int):
    return _request("award", award_id)


@blueprint.post("/thread/requests/<int:request_id>/close")
@login_required
def close_request(request_id: int):
    request_message = service.visible_message(current_user, request_id)
    subject = service.subject_of(request_message.thread)
    try:
        service.close_request(current_user, request_id, request.form.get("comment", ""))
    except InvalidInput as refused:
        return _back(subject, refused)
    flash(_("The request for information is closed."), "success")
    return _back(subject)


@blueprint.post("/thread/notes/<int:note_id>/share")
@login_required
def share_note(note_id: int):
    note = service.visible_message(current_user, note_id)
    subject = service.subject_of(note.thread)
    shared = request.form.get("shared") == "1"
    try:
        service.share_note(current_user, note_id, shared)
    except InvalidInput as refused:
        return _back(subject, refused)
    flash(
        _("The note is shared with the evaluators.")
        if shared
        else _("The note is hidden from the evaluators."),
        "success",
    )
    return _back(subject)


@blueprint.get("/thread/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    document = service.attachment_for(current_user, attachment_id)
    return redirect(document_service.download_for(current_user, document), code=302)


@blueprint.get("/conversations")
@login_required
def index():
    page = max(request.args.get("page", 1, type=int), 1)
    per_page = 25
    threads = service.threads_page(current_user, page, per_page)
    more = len(threads) > per_page
    threads = threads[:per_page]
    return render_template(
        "conversations/index.html",
        threads=threads,
        unread_in=service.unread_by_thread(current_user, [t.id for t in threads]),
        page=page,
        more=more,
    )
