""" "Download my data": a ZIP of what the product holds about the person who asks.

The ZIP holds, as JSON, their account, their memberships, the applications they wrote
(``Application.created_by_id`` records who started an application), the reviews they
wrote, and the notifications addressed to them; and the documents they uploaded
(``Document.uploaded_by_id``), copied from the document store.

It is written to a temporary file, one entry after the other, never built whole in
memory, then stored in the document store. A small account is prepared at once, while
the person waits; a larger one by the scheduler (``prepare_waiting``), and the person is
emailed, in their language, when it is ready. Either way the page links it, and the link
serves it only to that person until ``DATA_EXPORT_LINK_HOURS`` after it was made.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from grants.extensions import db
from grants.models.accounts import ApiToken, User
from grants.models.applications import Application
from grants.models.associations import Membership
from grants.models.documents import Document
from grants.models.notifications import Notification
from grants.models.privacy import DataExport
from grants.models.reviews import Review
from grants.orm import utcnow
from grants.services import audit
from grants.services.applications import DRAFT_FIELDS
from grants.services.documents import delete_after_commit, store_file
from grants.services.errors import Conflict, DomainError, NotFound
from grants.storage import DocumentNotFoundError, DocumentStore, StorageError, safe_filename
from notifications.rules import N_

#: An account whose documents weigh at most this much, and number at most
#: ``SMALL_DOCUMENTS``, is prepared while the person waits: copying 5 MB from the store
#: and zipping it takes well under a second, less than the page's own round trip on a
#: slow connection. Larger ones would hold a web worker for as long as the store takes,
#: so the scheduler prepares them and the person is emailed.
SMALL_BYTES = 5 * 1024 * 1024
SMALL_DOCUMENTS = 20
#: How many waiting copies one scheduler run prepares (each commits on its own).
BATCH = 10
#: The rule and category of the email that says a copy is ready (always sent by email).
READY_RULE = "data_export_ready"


class ExportGone(DomainError):
    """The link expired (or its copy was deleted): 410, with how to get a new one."""

    status = 410


READY_SUBJECT = N_("Your data is ready to download")
READY_BODY = N_(
    "The copy of your data you asked for is ready. Download it from your account's "
    "“My data” page before %(expires)s; the link works only when you are signed in."
)


# --- asking ------------------------------------------------------------------------------


def exports_of(person: User, limit: int = 5) -> list[DataExport]:
    """The person's latest copies, newest first, for their page."""
    return list(
        db.session.scalars(
            select(DataExport)
            .where(DataExport.user_id == person.id)
            .order_by(DataExport.id.desc())
            .limit(limit)
        )
    )


def footprint(person: User) -> tuple[int, int]:
    """How many documents the person uploaded, and their total size in bytes."""
    count, size = db.session.execute(
        select(func.count(Document.id), func.coalesce(func.sum(Document.size), 0)).where(
            Document.uploaded_by_id == person.id
        )
    ).one()
    return int(count), int(size)


def is_small(person: User) -> bool:
    count, size = footprint(person)
    return count <= SMALL_DOCUMENTS and size <= SMALL_BYTES


def request_export(person: User, now: datetime | None = None) -> DataExport:
    """Ask for a copy. A second request while one is being prepared is refused (the
    database's partial unique index backs the check against two requests at once).
    A small account's copy is made at once; a large one waits for the scheduler."""
    now = now or utcnow()
    waiting = db.session.scalar(
        select(DataExport.id).where(
            DataExport.user_id == person.id, DataExport.state == "preparing"
        )
    )
    if waiting is not None:
        raise Conflict(_already_preparing())
    export = DataExport(user_id=person.id, state="preparing", requested_at=now, error="")
    try:
        with db.session.begin_nested():
            db.session.add(export)
    except IntegrityError:
        raise Conflict(_already_preparing()) from None
    small = is_small(person)
    if small:
        prepare(export, now)
    audit.record(
        person,
        "data_export.requested",
        ("data_export", export.id),
        note="prepared at once" if small else "prepared by the scheduler",
    )
    return export


def _already_preparing() -> str:
    return _(
        "A copy of your data is already being prepared; you will receive an email when it "
        "is ready. You can ask again once it is."
    )


# --- preparing -----------------------------------------------------------------------------


def prepare(export: DataExport, now: datetime | None = None) -> bool:
    """Write the ZIP, store it and mark the copy ready, then write the email that says
    so; flushes. Returns False, leaving the copy alone, when another run finished it
    first: the caller rolls back, which deletes the ZIP this run stored."""
    now = now or utcnow()
    person = db.session.get(User, export.user_id)
    store: DocumentStore = current_app.extensions["document_store"]
    with tempfile.TemporaryFile() as spool:
        missing = write_zip(spool, person, store, now)
        size = spool.tell()
        spool.seek(0)
        stored = store_file(f"exports/{person.id}", spool, "application/zip")
    expires = now + timedelta(hours=current_app.config["DATA_EXPORT_LINK_HOURS"])
    finished = db.session.execute(
        update(DataExport)
        .where(DataExport.id == export.id, DataExport.state == "preparing")
        .values(
            state="ready",
            ready_at=now,
            expires_at=expires,
            storage_key=stored.key,
            size=size,
            error=_missing_note(missing),
        )
        .execution_options(synchronize_session=False)
    )
    if not finished.rowcount:
        return False
    db.session.refresh(export)
    _tell_ready(person, export)
    return True


def _missing_note(missing: list[str]) -> str:
    if not missing:
        return ""
    return "Not found in the document store: " + ", ".join(missing)


def _tell_ready(person: User, export: DataExport) -> None:
    from notifications.outbox import Message, write

    expires = export.expires_at
    zone = ZoneInfo(person.timezone or "UTC")
    message = Message(
        READY_RULE,
        "account",
        READY_SUBJECT,
        READY_BODY,
        "data_export",
        export.id,
        "/account/data",
        {"expires": lambda locale: format_datetime(expires, "medium", tzinfo=zone, locale=locale)},
    )
    write([(message, [person], f"{READY_RULE}:{export.id}")], export.ready_at)


def prepare_waiting(now: datetime | None = None) -> int:
    """The scheduler's job: prepare the copies waiting, oldest first, one transaction
    each, and forget the expired ones (their ZIP is deleted after the commit). A copy
    another run finished meanwhile is left alone, so running twice changes nothing."""
    now = now or utcnow()
    done = expire_old(now)
    db.session.commit()
    ids = db.session.scalars(
        select(DataExport.id)
        .where(DataExport.state == "preparing")
        .order_by(DataExport.requested_at, DataExport.id)
        .limit(BATCH)
    ).all()
    for export_id in ids:
        export = db.session.get(DataExport, export_id)
        if export is None or export.state != "preparing":
            db.session.commit()
            continue
        try:
            ready = prepare(export, now)
        except (StorageError, DomainError) as failure:
            db.session.rollback()
            export = db.session.get(DataExport, export_id)
            export.state, export.error = "failed", str(failure)[:500]
            db.session.commit()
            continue
        if ready:
            done += 1
            db.session.commit()
        else:
            db.session.rollback()
    return done


def expire_old(now: datetime) -> int:
    """Mark expired copies so and delete their ZIP once that is committed."""
    rows = db.session.execute(
        select(DataExport.id, DataExport.storage_key).where(
            DataExport.state == "ready", DataExport.expires_at <= now
        )
    ).all()
    if not rows:
        return 0
    db.session.execute(
        update(DataExport)
        .where(DataExport.id.in_([row.id for row in rows]))
        .values(state="expired", storage_key=None)
        .execution_options(synchronize_session=False)
    )
    delete_after_commit([row.storage_key for row in rows if row.storage_key])
    return len(rows)


# --- downloading ----------------------------------------------------------------------------


def download_url(person: User, export_id: int, now: datetime | None = None) -> str:
    """A short-lived link to the person's own ready copy. Another person's copy does
    not exist for them (404); an expired one says so (410). Reads only."""
    now = now or utcnow()
    export = db.session.get(DataExport, export_id)
    if export is None or export.user_id != person.id:
        raise NotFound(_("No such copy of your data."))
    if export.state == "preparing":
        raise Conflict(_("This copy of your data is still being prepared."))
    if export.state == "failed":
        raise Conflict(_("This copy of your data could not be prepared; please ask again."))
    if export.state == "expired" or export.expires_at is None or export.expires_at <= now:
        raise ExportGone(
            _("This download link has expired; ask for a new copy of your data on this page.")
        )
    store: DocumentStore = current_app.extensions["document_store"]
    name = f"my-data-{export.ready_at:%Y-%m-%d}.zip"
    audit.append(person, "data_export.downloaded", ("data_export", export.id))
    try:
        return store.download_url(export.storage_key, name, "application/zip")
    except StorageError as exc:
        from grants.services.documents import StorageUnavailable

        raise StorageUnavailable(str(exc)) from exc


# --- the ZIP ------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _row(record: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(getattr(record, name)) for name in names}


def _write_json(archive: zipfile.ZipFile, name: str, items: Iterator[Any] | Any) -> None:
    """One JSON entry; a list is written item by item, so none is built whole."""
    with archive.open(name, "w", force_zip64=True) as entry:
        if not isinstance(items, Iterator):
            entry.write(json.dumps(items, ensure_ascii=False, indent=2).encode())
            return
        entry.write(b"[")
        for index, item in enumerate(items):
            entry.write((",\n" if index else "\n").encode())
            entry.write(json.dumps(item, ensure_ascii=False).encode())
        entry.write(b"\n]\n")


ACCOUNT_FIELDS = (
    "id",
    "email",
    "full_name",
    "locale",
    "timezone",
    "languages",
    "active",
    "confirmed_at",
    "create_datetime",
    "last_login_at",
    "current_login_at",
    "last_login_ip",
    "current_login_ip",
    "login_count",
    "tf_primary_method",
)
TOKEN_FIELDS = ("name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
NOTIFICATION_FIELDS = (
    "channel",
    "category",
    "subject",
    "body",
    "link",
    "state",
    "created_at",
    "read_at",
)
APPLICATION_FIELDS = (
    "id",
    "reference",
    "state",
    *DRAFT_FIELDS,
    "amount_awarded",
    "created_at",
    "submitted_at",
)


def write_zip(target: Any, person: User, store: DocumentStore, now: datetime) -> list[str]:
    """Write the person's ZIP into the open file ``target``; returns the documents
    the store no longer had (listed in the ZIP too)."""
    missing: list[str] = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        account = _row(person, ACCOUNT_FIELDS)
        account["roles"] = sorted(person.role_names)
        account["api_tokens"] = [
            _row(
                token, ("name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
            )
            for token in db.session.scalars(
                select(ApiToken).where(ApiToken.user_id == person.id).order_by(ApiToken.id)
            )
        ]
        account["exported_at"] = now.isoformat()
        _write_json(archive, "account.json", account)
        _write_json(archive, "memberships.json", _memberships(person))
        _write_json(archive, "applications.json", _applications(person))
        _write_json(archive, "reviews.json", _reviews(person))
        _write_json(archive, "notifications.json", _notifications(person))
        documents = list(_documents(person))
        listing = []
        for document in documents:
            name = f"documents/{document.id}-{safe_filename(document.filename)}"
            entry = _row(document, ("id", "filename", "content_type", "size", "sha256"))
            entry |= {"uploaded_at": _plain(document.uploaded_at), "file": name}
            try:
                with (
                    store.open(document.storage_key) as source,
                    archive.open(name, "w", force_zip64=True) as sink,
                ):
                    shutil.copyfileobj(source, sink, 1024 * 1024)
            except DocumentNotFoundError:
                missing.append(document.filename)
                entry["file"] = None
            listing.append(entry)
        _write_json(archive, "documents.json", listing)
    return missing


def _memberships(person: User) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(Membership).where(Membership.user_id == person.id).order_by(Membership.id)
    )
    return [
        {
            "association_id": m.association_id,
            "association": m.association.name,
            "joined_at": _plain(m.joined_at),
        }
        for m in rows
    ]


def _applications(person: User) -> Iterator[dict[str, Any]]:
    statement = (
        select(Application)
        .where(Application.created_by_id == person.id)
        .options(
            selectinload(Application.budget_lines),
            selectinload(Application.cofinancing),
            selectinload(Application.partners),
            selectinload(Application.team),
        )
        .order_by(Application.id)
    )
    for application in db.session.scalars(statement):
        item = _row(application, APPLICATION_FIELDS)
        item["call"] = application.call.code
        item["association"] = application.association.name
        item["budget_lines"] = [
            _row(line, ("category", "description", "quantity", "unit_cost"))
            for line in application.budget_lines
        ]
        item["cofinancing"] = [
            _row(c, ("source", "description", "amount")) for c in application.cofinancing
        ]
        item["partners"] = [_row(p, ("name", "country", "role")) for p in application.partners]
        item["team"] = [_row(t, ("name", "role")) for t in application.team]
        yield item


def _reviews(person: User) -> Iterator[dict[str, Any]]:
    statement = (
        select(Review)
        .where(Review.evaluator_id == person.id)
        .options(selectinload(Review.scores), selectinload(Review.application))
        .order_by(Review.id)
    )
    for review in db.session.scalars(statement):
        item = _row(review, ("id", "state", "recommendation", "overall_comment"))
        item["application"] = review.application.reference
        item["scores"] = [_row(s, ("criterion_id", "score", "comment")) for s in review.scores]
        yield item


def _notifications(person: User) -> Iterator[dict[str, Any]]:
    statement = (
        select(Notification)
        .where(Notification.recipient_id == person.id)
        .order_by(Notification.id)
        .execution_options(yield_per=500)
    )
    for row in db.session.scalars(statement):
        yield _row(
            row,
            ("channel", "category", "subject", "body", "link", "state", "created_at", "read_at"),
        )


def _documents(person: User) -> Iterator[Document]:
    return iter(
        db.session.scalars(
            select(Document).where(Document.uploaded_by_id == person.id).order_by(Document.id)
        )
    )
