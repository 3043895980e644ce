"""Conversations between an association and the programme office on an application or a
grant: messages, internal notes, requests for information, attachments, read markers.

Who reads what is ``policy.THREADS`` and ``policy.MESSAGES``; who may write what is
decided here: anyone who sees the application or grant may write a message there
(members and the staff who see it), only the staff who see it write notes, and only
programme officers ask for information, close a request or share a note with the
evaluators (never in a blind call). A request for information leaves the application
where it is in its lifecycle: it is a message with a due date, answered in the thread.

Every write is audited and announced (``message_posted``) for the outbox; a refused
attachment leaves no message behind (the message and its file are one savepoint).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from blinker import Namespace
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from grants import policy
from grants.extensions import db
from grants.models.accounts import User
from grants.models.applications import Application
from grants.models.awards import Award
from grants.models.conversations import Message, Thread, ThreadRead
from grants.models.documents import Document
from grants.orm import utcnow
from grants.roles import PROGRAMME_OFFICER
from grants.services import audit
from grants.services import documents as document_service
from grants.services.errors import Forbidden, InvalidInput, NotFound
from grants.services.read_markers import mark_read
from grants.text_limits import TextLimit

signals = Namespace()
#: Sent with (message, subject) once a message, note, request or closing is flushed.
message_posted = signals.signal("message-posted")

#: A message, a note, a request's question or a closing comment.
BODY = TextLimit(10000, _l("The message"))
#: How many of a thread's latest messages a page or the API shows at once.
PAGE = 50
#: The header counts unread messages up to this, then says "99+".
UNREAD_CAP = 100


@dataclass(frozen=True)
class Subject:
    """What a thread is about: an application or a grant, loaded for the person."""

    kind: str  # "application" or "award"
    record: Any

    @property
    def application(self) -> Application:
        return self.record if self.kind == "application" else self.record.application

    @property
    def association_id(self) -> int:
        return self.record.association_id

    @property
    def link(self) -> str:
        if self.kind == "application":
            return f"/applications/{self.record.id}#thread"
        return f"/grants/{self.record.id}#thread"

    def thread(self) -> Thread | None:
        column = Thread.application_id if self.kind == "application" else Thread.award_id
        return db.session.scalars(select(Thread).where(column == self.record.id)).first()


def subject_for(person: User, kind: str, record_id: int) -> Subject:
    """The application or grant ``record_id`` if the person may see it, else 404."""
    if kind == "application":
        return Subject(kind, policy.APPLICATIONS.get(person, record_id))
    if kind == "award":
        return Subject(kind, policy.AWARDS.get(person, record_id))
    raise NotFound(_("No such conversation."))


def subject_of(thread: Thread) -> Subject:
    if thread.application_id is not None:
        return Subject("application", thread.application)
    return Subject("award", thread.award)


def is_staff_here(person: User, subject: Subject) -> bool:
    """Whether the person reads the thread as the programme's staff (notes included):
    officers and admins on any thread, finance officers on a grant's."""
    roles = policy.PROGRAMME if subject.kind == "application" else policy.STAFF
    return bool(roles & person.role_names)


def may_ask(person: User) -> bool:
    """Requests for information, their closing and sharing notes are the officers'."""
    return PROGRAMME_OFFICER in person.role_names


# --- reading ------------------------------------------------------------------------------


@dataclass
class Conversation:
    """A thread as one person reads it: the latest messages they may see, oldest first."""

    subject: Subject
    thread: Thread | None
    messages: list[Message] = field(default_factory=list)
    earlier: bool = False
    last_read_id: int = 0
    staff: bool = False
    may_ask: bool = False
    #: What a refused form held, offered again (``body``, ``kind``, ``due_on``…).
    draft: dict[str, Any] = field(default_factory=dict)

    @property
    def open_requests(self) -> list[Message]:
        return [m for m in self.messages if m.is_open]

    def is_unread(self, message: Message) -> bool:
        return message.id > self.last_read_id


def visible_messages(person: User, thread_id: int, limit: int = PAGE, before: int | None = None):
    """The thread's messages the person may read, newest first, at most ``limit``."""
    statement = (
        policy.MESSAGES.select(person)
        .where(Message.thread_id == thread_id)
        .options(selectinload(Message.attachments), selectinload(Message.author))
        .order_by(Message.id.desc())
        .limit(limit)
    )
    if before is not None:
        statement = statement.where(Message.id < before)
    return list(db.session.scalars(statement))


def conversation(person: User, subject: Subject, before: int | None = None) -> Conversation:
    """The thread of ``subject`` for ``person`` (who may see the subject), and a note
    to mark it read once the request is over."""
    thread = subject.thread()
    found = Conversation(
        subject, thread, staff=is_staff_here(person, subject), may_ask=may_ask(person)
    )
    if thread is None:
        return found
    newest = visible_messages(person, thread.id, PAGE + 1, before)
    found.earlier = len(newest) > PAGE
    found.messages = list(reversed(newest[:PAGE]))
    found.last_read_id = (
        db.session.scalar(
            select(ThreadRead.last_read_id).where(
                ThreadRead.thread_id == thread.id, ThreadRead.user_id == person.id
            )
        )
        or 0
    )
    if found.messages and found.messages[-1].id > found.last_read_id:
        mark_read(person, thread, found.messages[-1].id)
    return found


def shared_notes(person: User, application: Application) -> list[Message]:
    """The notes shared with the evaluators of ``application``, as ``person`` may read
    them (none in a blind call: ``policy.MESSAGES``)."""
    thread = Subject("application", application).thread()
    if thread is None:
        return []
    notes = [m for m in visible_messages(person, thread.id) if m.kind == "note"]
    return list(reversed(notes))


def visible_message(person: User, message_id: int) -> Message:
    return policy.MESSAGES.get(person, message_id)


def attachment_for(person: User, document_id: int) -> Document:
    """An attachment of a message the person may read, else 404."""
    document = db.session.get(Document, document_id)
    if document is None or document.message_id is None:
        raise NotFound(_("No such document."))
    visible_message(person, document.message_id)
    return document


# --- unread counts and read markers -------------------------------------------------------


def _unread_statement(person: User):
    """Messages the person may read, in threads they see, written by others after
    their read marker."""
    marker = (
        select(ThreadRead.last_read_id)
        .where(ThreadRead.thread_id == Message.thread_id, ThreadRead.user_id == person.id)
        .scalar_subquery()
    )
    statement = select(Message.id, Message.thread_id).where(
        Message.id > func.coalesce(marker, 0),
        or_(Message.author_id.is_(None), Message.author_id != person.id),
    )
    for rule in (policy.MESSAGES, policy.THREADS):
        condition = rule.condition(person)
        if condition is not None and rule is policy.MESSAGES:
            statement = statement.where(condition)
        elif condition is not None:
            statement = statement.where(Message.thread_id.in_(select(Thread.id).where(condition)))
    return statement


def unread_count(person: User) -> int:
    """Unread messages for the header, counted up to ``UNREAD_CAP``."""
    return db.session.scalar(unread_count_statement(person)) or 0


def unread_count_statement(person: User):
    """The count of ``unread_count`` as a statement, for the page header to ask with its
    other counts."""
    capped = _unread_statement(person).limit(UNREAD_CAP).subquery()
    return select(func.count()).select_from(capped)


def unread_by_thread(person: User, thread_ids: Iterable[int]) -> dict[int, int]:
    ids = list(thread_ids)
    if not ids:
        return {}
    unread = _unread_statement(person).where(Message.thread_id.in_(ids)).subquery()
    rows = db.session.execute(select(unread.c.thread_id, func.count()).group_by(unread.c.thread_id))
    return dict(rows.tuples().all())


def threads_page(person: User, page: int = 1, per_page: int = 25) -> list[Thread]:
    """The threads the person sees, the most recently written first."""
    statement = (
        policy.THREADS.select(person)
        .where(Thread.last_message_id.is_not(None))
        .options(
            selectinload(Thread.application).selectinload(Application.association),
            selectinload(Thread.award)
            .selectinload(Award.application)
            .selectinload(Application.association),
        )
        .order_by(Thread.last_message_id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page + 1)
    )
    return list(db.session.scalars(statement))


# --- writing ------------------------------------------------------------------------------


def _clean_body(body: str | None, field_name: str = "body") -> str:
    text = (body or "").strip()
    if not text:
        message = _("Write a message before sending it.")
        raise InvalidInput(message, {field_name: [message]})
    if problem := BODY.problem(text):
        raise InvalidInput(problem, {field_name: [problem]})
    return text


def _thread(subject: Subject) -> Thread:
    thread = subject.thread()
    if thread is None:
        thread = Thread(
            application_id=subject.record.id if subject.kind == "application" else None,
            award_id=subject.record.id if subject.kind == "award" else None,
            association_id=subject.association_id,
        )
        db.session.add(thread)
        db.session.flush()
    return thread


def post(
    person: User,
    subject: Subject,
    body: str | None,
    *,
    kind: str = "message",
    upload: document_service.Upload | None = None,
    in_answer_to: int | None = None,
    due_on: date | None = None,
    today: date | None = None,
) -> Message:
    """Write a message, a note (staff) or a request for information (officers) in the
    subject's thread, with at most one attachment. Checks everything before writing;
    an attachment refused by its content undoes the message too. Flushes."""
    if kind not in ("message", "note", "request"):
        raise ValueError(f"unknown message kind {kind!r}")
    if kind == "note" and not is_staff_here(person, subject):
        raise Forbidden(_("Only the programme's staff write internal notes."))
    if kind == "request" and not may_ask(person):
        raise Forbidden(_("Only programme officers ask for information."))
    text = _clean_body(body)
    if kind == "request":
        _check_due(due_on, today or utcnow().date())
    answered = _answered_request(person, subject, in_answer_to) if in_answer_to else None
    with db.session.begin_nested():
        thread = _thread(subject)
        message = Message(
            thread_id=thread.id,
            author_id=person.id,
            kind=kind,
            body=text,
            due_on=due_on if kind == "request" else None,
            in_answer_to_id=answered.id if answered is not None else None,
        )
        db.session.add(message)
        db.session.flush()
        document = None
        if upload is not None:
            document = document_service.add_document(person, upload, message=message)
        thread.last_message_id = message.id
        thread.last_message_at = message.created_at
        audit.record(
            person,
            "request.sent" if kind == "request" else f"{kind}.posted",
            ("message", message.id),
            {"thread": [None, thread.id], **({"due_on": [None, due_on]} if due_on else {})},
            note=subject.application.reference or "",
        )
        if document is not None:
            audit.record(
                person,
                "message.attached",
                ("document", document.id),
                {"message": [None, message.id]},
                note=document.filename,
            )
        db.session.flush()
    db.session.refresh(message, ["attachments"])
    message_posted.send(message, subject=subject, event=kind)
    return message


def _check_due(due_on: date | None, today: date) -> None:
    if due_on is None:
        message = _("Give the date by which the association should answer.")
        raise InvalidInput(message, {"due_on": [message]})
    if due_on < today:
        message = _("The due date is in the past: choose today or a later day.")
        raise InvalidInput(message, {"due_on": [message]})


def _answered_request(person: User, subject: Subject, request_id: int) -> Message:
    """The open request of this thread that a member answers."""
    thread = subject.thread()
    request = db.session.get(Message, request_id)
    if request is None or thread is None or request.thread_id != thread.id:
        message = _("There is no such request for information here.")
        raise InvalidInput(message, {"in_answer_to": [message]})
    if request.kind != "request" or not request.is_open:
        message = _("This request for information is closed; write a new message instead.")
        raise InvalidInput(message, {"in_answer_to": [message]})
    return request


def close_request(person: User, message_id: int, comment: str = "") -> Message:
    """An officer closes a request for information (answered, or no longer needed)."""
    request = visible_message(person, message_id)
    if request.kind != "request":
        raise NotFound(_("No such request for information."))
    if not may_ask(person):
        raise Forbidden(_("Only programme officers close a request for information."))
    if not request.is_open:
        message = _("This request for information is already closed.")
        raise InvalidInput(message, {"request": [message]})
    if problem := BODY.problem(comment):
        raise InvalidInput(problem, {"comment": [problem]})
    request.closed_at = utcnow()
    request.closed_by_id = person.id
    audit.record(
        person,
        "request.closed",
        ("message", request.id),
        {"closed_at": [None, request.closed_at]},
        note=comment.strip(),
    )
    db.session.flush()
    subject = subject_of(request.thread)
    message_posted.send(request, subject=subject, event="closed")
    return request


def share_note(person: User, message_id: int, shared: bool) -> Message:
    """Show a note to the application's evaluators, or hide it again. Never in a blind
    call, where a note could name the association."""
    note = visible_message(person, message_id)
    if note.kind != "note" or note.thread.application_id is None:
        raise NotFound(_("No such note."))
    if not may_ask(person):
        raise Forbidden(_("Only programme officers share notes with evaluators."))
    if shared and note.thread.application.call.blind_review:
        message = _(
            "This call's review is blind: evaluators must not read anything that could "
            "name the association, so its notes are not shared with them."
        )
        raise InvalidInput(message, {"shared": [message]})
    if note.shared_with_evaluators != shared:
        audit.record(
            person,
            "note.shared",
            ("message", note.id),
            {"shared_with_evaluators": [note.shared_with_evaluators, shared]},
        )
        note.shared_with_evaluators = shared
        db.session.flush()
    return note
