"""Documents uploaded for applications, associations, reports and messages.

The bytes go to the document store, the facts about them (name, type, size, digest, who
uploaded it) to a ``Document`` row. The two cannot share one transaction, so the order is
fixed: the file is checked (size, then kind from its content, never its name, then for a
PDF what it would do when opened), written to the store, and only then is the row added.
The file name is kept for people to recognise the file, with the extension of the kind
found, so a PDF sent as ``setup.exe`` is stored and served as ``setup.pdf``.

Should the database transaction roll back, the row never existed and the stored object
would be an orphan, so every object written here is remembered on the session until the
transaction ends: a commit keeps it, a rollback (of the transaction, or of the savepoint it
was written in) deletes it. See ``_forget_committed`` and its neighbours at the end of
this module.

Replacing a document keeps the old one: its row points to the new one through
``replaced_by_id`` and its object stays in the store, so the history can be shown.
"""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, BinaryIO

from babel.lists import format_list
from flask import current_app
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from grants.active_content import (
    EMBEDDED_FILES,
    ENCRYPTED,
    JAVASCRIPT,
    LAUNCH,
    pdf_problems,
)
from grants.extensions import db
from grants.filetypes import DEFAULT_KINDS, KINDS, kind_of, named_for_kind, sniff
from grants.models.accounts import User
from grants.models.applications import Application
from grants.models.associations import Association
from grants.models.awards import Report
from grants.models.calls import DocumentType
from grants.models.conversations import Message
from grants.models.documents import Document
from grants.services import audit
from grants.services.errors import DomainError, InvalidInput, NotFound
from grants.storage import (
    READ_BLOCK,
    DocumentNotFoundError,
    DocumentStore,
    StorageError,
    StoredObject,
    safe_filename,
)

log = logging.getLogger(__name__)

MB = 1024 * 1024
#: The size limit when no document type sets one, in MB (of 1024 × 1024 bytes).
DEFAULT_MAX_SIZE_MB = 10
#: A non-seekable upload is copied aside to be sniffed; up to this much stays in memory.
SPOOL_IN_MEMORY = MB
#: ``session.info`` key of the objects stored in the session's open transaction.
PENDING = "grants.documents.pending"
#: ``session.info`` key of the objects to delete once the session's transaction commits.
DOOMED = "grants.documents.doomed"


class StorageUnavailable(DomainError):
    """The document store failed; the message is the store's, readable and without secrets."""

    status = 503


@dataclass(frozen=True)
class Upload:
    """A file as the web or API layer receives it (werkzeug's ``FileStorage`` fits).

    ``filename`` is only shown back to people; ``content_type`` is the client's claim and
    is never trusted.
    """

    stream: BinaryIO
    filename: str
    content_type: str = ""


def add_document(
    actor: User | None,
    upload: Upload,
    *,
    application: Application | None = None,
    association: Association | None = None,
    report: Report | None = None,
    message: Message | None = None,
    document_type: DocumentType | None = None,
    purpose: str = "",
) -> Document:
    """Store ``upload`` for exactly one owner and record it, replacing the current one.

    The current document of the same ``document_type`` (or, without a type, of the same
    non-empty ``purpose``) stays as an earlier version. Refusals are ``InvalidInput`` with
    the reason under ``errors["file"]``; a store failure is ``StorageUnavailable``. Flushes,
    never commits.
    """
    owner_field, prefix, owner = _owner(application, association, report, message)
    if len(purpose) > Document.purpose.type.length:
        raise ValueError(f"purpose is longer than {Document.purpose.type.length} characters")
    if application is not None and document_type is not None:
        if document_type.call_id != application.call_id:
            raise ValueError("the document type belongs to another call than the application")
    if owner.id is None:
        db.session.flush()

    limit_mb = (document_type.max_size_mb if document_type else 0) or DEFAULT_MAX_SIZE_MB
    limit = limit_mb * MB
    kinds = tuple((document_type.allowed_kinds if document_type else None) or DEFAULT_KINDS)
    store: DocumentStore = current_app.extensions["document_store"]

    with ExitStack() as cleanup:
        try:
            source = _seekable(upload.stream, limit)
        except _FileTooLarge:
            raise _refused(_too_large(limit_mb)) from None
        if source is not upload.stream:
            cleanup.callback(source.close)
        size = source.seek(0, io.SEEK_END)
        source.seek(0)
        if size == 0:
            raise _refused(_empty())
        if size > limit:
            raise _refused(_too_large(limit_mb))
        kind = sniff(source)
        if kind not in kinds:
            raise _refused(_wrong_kind(kinds))
        if kind == "pdf":
            if source is upload.stream:
                # The PDF reader goes wherever the file's cross-references point, so it
                # gets a copy of at most the limit, whatever size the stream claims.
                try:
                    source = _spooled(upload.stream, limit)
                except _FileTooLarge:
                    raise _refused(_too_large(limit_mb)) from None
                cleanup.callback(source.close)
            if problems := pdf_problems(source):
                sentences = [_pdf_problem(problem) for problem in problems]
                raise InvalidInput(" ".join(sentences), {"file": sentences})

        previous = _current_documents(owner_field, owner.id, document_type, purpose)
        reader = _LimitedReader(source, limit)
        key = store.new_key(f"{prefix}/{owner.id}")
        try:
            stored = store.put(key, reader, KINDS[kind])
        except (StorageError, _FileTooLarge) as exc:
            if reader.exceeded:  # the stream held more than its size said
                raise _refused(_too_large(limit_mb)) from exc
            message = str(exc)
            raise StorageUnavailable(message, {"file": [message]}) from exc
        _remember(db.session(), store, stored.key)

    document = Document(
        **{owner_field: owner.id},
        document_type_id=document_type.id if document_type else None,
        purpose=purpose,
        storage_key=stored.key,
        filename=stored_filename(upload.filename, kind),
        content_type=KINDS[kind],
        size=stored.size,
        sha256=stored.sha256,
        uploaded_by_id=actor.id if actor is not None else None,
    )
    db.session.add(document)
    db.session.flush()
    for old in previous:
        old.replaced_by_id = document.id
    db.session.flush()
    if application is not None:
        db.session.expire(application, ["documents"])
    return document


def store_file(prefix: str, stream: BinaryIO, content_type: str) -> StoredObject:
    """Store a file the product made itself (a person's copy of their data), kept only
    if the transaction that records it commits, as uploads are."""
    store: DocumentStore = current_app.extensions["document_store"]
    try:
        stored = store.put(store.new_key(prefix), stream, content_type)
    except StorageError as exc:
        raise StorageUnavailable(str(exc)) from exc
    _remember(db.session(), store, stored.key)
    return stored


def delete_after_commit(keys: Iterable[str]) -> None:
    """Delete these objects from the store once the transaction that dropped their rows
    commits, never before (DESIGN.md principle 5): a rollback keeps them, so no row is
    ever left pointing to a deleted object."""
    store: DocumentStore = current_app.extensions["document_store"]
    session = db.session()
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:
        transaction = session.begin()
    doomed = session.info.setdefault(DOOMED, [])
    doomed.extend(_Pending(key, store, transaction) for key in keys)


def stored_filename(filename: str, kind: str | None) -> str:
    """The client's file name made safe, with the extension of the kind it really is."""
    return safe_filename(named_for_kind(safe_filename(filename), kind))


def current_document(application: Application, document_type: DocumentType) -> Document | None:
    """The application's document of this type that has not been replaced, if any."""
    documents = _current_documents("application_id", application.id, document_type, "")
    return documents[0] if documents else None


def versions(document: Document) -> list[Document]:
    """The documents ``document`` replaced, and those they replaced, newest first."""
    found: dict[int, Document] = {}
    frontier = [document.id]
    while frontier:
        earlier = db.session.scalars(
            select(Document).where(Document.replaced_by_id.in_(frontier))
        ).all()
        frontier = [d.id for d in earlier if d.id not in found and d.id != document.id]
        found.update((d.id, d) for d in earlier if d.id in frontier)
    return sorted(found.values(), key=lambda d: d.id, reverse=True)


def download_name(document: Document) -> str:
    """The name the document is saved under: its own, with its kind's extension (rows
    stored before names followed kinds are served right too)."""
    return stored_filename(document.filename, kind_of(document.content_type))


def download_url(document: Document) -> str:
    """A short-lived link that serves the document under its (sanitised) file name."""
    store: DocumentStore = current_app.extensions["document_store"]
    try:
        return store.download_url(
            document.storage_key, download_name(document), document.content_type
        )
    except StorageError as exc:
        raise StorageUnavailable(str(exc)) from exc


def download_for(person: User, document: Document) -> str:
    """A download link for ``person``, who may read ``document`` (the caller checked);
    a staff download is audited. On S3 the browser fetches the file from the store
    directly, so the download is recorded when its link is given."""
    url = download_url(document)
    audit.document_downloaded(person, document)
    return url


def open_for(person: User, document: Document) -> BinaryIO:
    """``open_document`` for ``person``, who may read it; a staff download is audited."""
    stream = open_document(document)
    audit.document_downloaded(person, document)
    return stream


def open_document(document: Document) -> BinaryIO:
    """The document's bytes, as a stream the caller closes."""
    return open_document_key(document.storage_key)


def open_document_key(key: str) -> BinaryIO:
    """The bytes of a file the product stored itself (``store_file``), as a stream."""
    store: DocumentStore = current_app.extensions["document_store"]
    try:
        return store.open(key)
    except DocumentNotFoundError as exc:
        raise NotFound(str(exc)) from exc
    except StorageError as exc:
        raise StorageUnavailable(str(exc)) from exc


# --- checking the file -------------------------------------------------------------------


def _owner(
    application: Application | None,
    association: Association | None,
    report: Report | None,
    message: Message | None = None,
) -> tuple[str, str, Any]:
    owners = [
        ("application_id", "applications", application),
        ("association_id", "associations", association),
        ("report_id", "reports", report),
        ("message_id", "messages", message),
    ]
    given = [owner for owner in owners if owner[2] is not None]
    if len(given) != 1:
        raise ValueError("give exactly one of application, association, report or message")
    return given[0]


def _current_documents(
    owner_field: str, owner_id: int, document_type: DocumentType | None, purpose: str
) -> list[Document]:
    """The owner's unreplaced documents in the same slot, newest first (normally one)."""
    if document_type is not None:
        slot = Document.document_type_id == document_type.id
    elif purpose:
        slot = (Document.purpose == purpose) & Document.document_type_id.is_(None)
    else:
        return []  # an untyped document without purpose stands alone
    return list(
        db.session.scalars(
            select(Document)
            .where(
                getattr(Document, owner_field) == owner_id,
                slot,
                Document.replaced_by_id.is_(None),
            )
            .order_by(Document.id.desc())
        )
    )


class _FileTooLarge(Exception):
    """Raised from inside a read to stop an upload at its size limit."""


class _LimitedReader(io.RawIOBase):
    """Passes on at most ``limit`` bytes of ``source``; one byte more stops the reading.

    It never asks the source for more than ``limit + 1`` bytes in all, so an oversized
    upload costs that much at most, however large it really is.
    """

    def __init__(self, source: BinaryIO, limit: int) -> None:
        super().__init__()
        self._source = source
        self._limit = limit
        self.count = 0
        self.exceeded = False

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        allowance = self._limit + 1 - self.count
        wanted = allowance if size is None or size < 0 else min(size, allowance)
        data = self._source.read(wanted) if wanted > 0 else b""
        self.count += len(data)
        if self.count > self._limit:
            self.exceeded = True
            raise _FileTooLarge(f"more than {self._limit} bytes")
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def _seekable(stream: BinaryIO, limit: int) -> BinaryIO:
    """The upload as a seekable stream, since a ZIP's table of contents is at its end.

    Uploads from werkzeug already are; anything else is copied aside, at most
    ``limit + 1`` bytes of it (``_FileTooLarge`` beyond).
    """
    seekable = getattr(stream, "seekable", None)
    if seekable is not None and seekable():
        return stream
    return _spooled(stream, limit)


def _spooled(stream: BinaryIO, limit: int) -> BinaryIO:
    """A copy of at most ``limit`` bytes of ``stream`` from its start (``_FileTooLarge``
    beyond), in memory when small, else in a temporary file."""
    if getattr(stream, "seekable", None) is not None and stream.seekable():
        stream.seek(0)
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
    try:
        shutil.copyfileobj(_LimitedReader(stream, limit), spool, READ_BLOCK)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool  # type: ignore[return-value]


def _refused(message: str) -> InvalidInput:
    return InvalidInput(message, {"file": [message]})


def _empty() -> str:
    return _("This file is empty (0 bytes). Please check that you chose the right file.")


def _too_large(limit_mb: int) -> str:
    return _(
        "This file is larger than %(limit)s MB, the most accepted for this document. "
        "Please make it smaller (for example, scan it at a lower resolution) and try again.",
        limit=limit_mb,
    )


def _wrong_kind(kinds: Iterable[str]) -> str:
    labels = _kind_labels(kinds)
    locale = get_locale() or "en"
    names = format_list(labels, style="or", locale=locale)
    return ngettext(
        "This file is not a document in the accepted format (%(kinds)s), whatever its "
        "name says. Please save or export it in that format and try again.",
        "This file is not a document in one of the accepted formats (%(kinds)s), whatever "
        "its name says. Please save or export it in one of them and try again.",
        len(labels),
        kinds=names,
    )


def _pdf_problem(problem: str) -> str:
    """Why a PDF is refused, and what to do about it, in the uploader's language."""
    if problem == JAVASCRIPT:
        return _(
            "This PDF contains JavaScript, which would run on the computer of whoever "
            "opens it. Please save it again without scripts (for example, print it to a "
            "new PDF) and try again."
        )
    if problem == LAUNCH:
        return _(
            "This PDF contains an action that starts a program or opens another file. "
            "Please save it again without it (for example, print it to a new PDF) and "
            "try again."
        )
    if problem == EMBEDDED_FILES:
        return _(
            "This PDF has other files attached inside it. Please remove the attachments "
            "(or print it to a new PDF) and upload each document on its own."
        )
    if problem == ENCRYPTED:
        return _(
            "This PDF is protected by a password, so nobody here could open it. Please "
            "save it without a password and try again."
        )
    return _(
        "This PDF is damaged and cannot be opened. Please export it again from the "
        "program that made it and try again."
    )


def _kind_labels(kinds: Iterable[str]) -> list[str]:
    """Names people know the kinds by; OpenDocument text and spreadsheet read as one."""
    wanted = set(kinds)
    names = {
        "pdf": "PDF",
        "docx": "Word",
        "xlsx": "Excel",
        "odt": _("OpenDocument text"),
        "ods": _("OpenDocument spreadsheet"),
        "jpeg": "JPEG",
        "png": "PNG",
    }
    if {"odt", "ods"} <= wanted:
        names["odt"], names["ods"] = "OpenDocument", ""
    labels = [names[kind] for kind in DEFAULT_KINDS if kind in wanted and names[kind]]
    return labels + sorted(kind.upper() for kind in wanted - set(DEFAULT_KINDS))


# --- deleting the objects of rolled-back transactions -----------------------------------
#
# Each object stored above is remembered in ``session.info[PENDING]`` with the innermost
# transaction open at the time: the savepoint if there is one, else the session's own.
#
# * A commit of the session's transaction keeps every object (``after_commit``). Releasing
#   a savepoint also fires ``after_commit``; its objects then wait for the outer commit.
# * A rollback deletes the objects of the transaction rolled back and of the savepoints
#   that were opened inside it (``after_soft_rollback``), and no others: rolling back an
#   unrelated savepoint leaves the objects of the surrounding transaction alone.
# * When the session's transaction ends without a commit (rolled back, or the session
#   closed) whatever is left is deleted (``after_transaction_end``).
#
# The listeners are on the ``Session`` class, so they serve every session: Flask-SQLAlchemy's
# and the per-test sessions alike. A deletion that fails is logged, never raised, since it
# would hide the error that caused the rollback; the object is then an orphan.


@dataclass(frozen=True)
class _Pending:
    key: str
    store: DocumentStore
    transaction: SessionTransaction


def _remember(session: Session, store: DocumentStore, key: str) -> None:
    transaction = session.get_nested_transaction() or session.get_transaction()
    if transaction is None:
        transaction = session.begin()
    session.info.setdefault(PENDING, []).append(_Pending(key, store, transaction))


def _within(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def _delete_pending(session: Session, doomed: Callable[[_Pending], bool]) -> None:
    delete: list[_Pending] = []
    keep: list[_Pending] = []
    for entry in session.info.get(PENDING) or []:
        (delete if doomed(entry) else keep).append(entry)
    if not delete:
        return
    session.info[PENDING] = keep
    for entry in delete:
        try:
            entry.store.delete(entry.key)
        except Exception as exc:  # logged, not raised: see the note above
            log.warning(
                "Could not delete document object %s after a rollback; it is orphaned: %s",
                entry.key,
                exc,
            )


@event.listens_for(Session, "after_commit")
def _forget_committed(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(PENDING, None)
        _delete_doomed(session)


@event.listens_for(Session, "after_soft_rollback")
def _delete_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    _delete_pending(session, lambda entry: _within(entry.transaction, previous_transaction))
    session.info[DOOMED] = [
        entry
        for entry in session.info.get(DOOMED) or []
        if not _within(entry.transaction, previous_transaction)
    ]


@event.listens_for(Session, "after_transaction_end")
def _delete_abandoned(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        _delete_pending(session, lambda entry: True)
        session.info.pop(DOOMED, None)  # ended without a commit: the rows are still there


def _delete_doomed(session: Session) -> None:
    """The commit removed the rows: their objects go now. A failure leaves an orphan
    object (logged), never a row without its object."""
    for entry in session.info.pop(DOOMED, None) or []:
        try:
            entry.store.delete(entry.key)
        except Exception as exc:
            log.warning(
                "Could not delete document object %s after its row went: %s", entry.key, exc
            )
