"""The audit trail: who changed or read what, when, from where, before and after.

Changes are recorded with ``record``, in the transaction of the change (flushed, never
committed here): the row and the change stand or fall together. Reads that must be
audited (staff downloads of documents and exports) and failed logins are recorded with
``append``: the row is queued on the request and inserted after the request's own
transaction has ended, in a short transaction of its own that only inserts (no row is
locked, and a login answered 400 still leaves its row). Outside a request both write
at once into the current transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from flask import g, has_request_context, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from grants.extensions import db
from grants.models.accounts import User
from grants.models.audit import AuditRow
from grants.models.documents import Document
from grants.orm import utcnow
from grants.roles import ADMIN, APPLICANT, FINANCE_OFFICER, PROGRAMME_OFFICER
from grants.services.errors import Forbidden, InvalidInput

if TYPE_CHECKING:
    from grants.exports.spreadsheets import Table

log = logging.getLogger(__name__)

#: Every kind of audit row, with what it says to a reader.
KINDS: dict[str, Any] = {
    "account.created": _l("Account created"),
    "role.granted": _l("Role granted"),
    "role.removed": _l("Role removed"),
    "account.activated": _l("Account reactivated"),
    "account.deactivated": _l("Account deactivated"),
    "login.succeeded": _l("Signed in"),
    "login.failed": _l("Sign-in failed"),
    "password.changed": _l("Password changed"),
    "password.reset": _l("Password reset"),
    "second_factor.changed": _l("Second factor set up or changed"),
    "second_factor.disabled": _l("Second factor removed"),
    "token.created": _l("API token created"),
    "token.revoked": _l("API token revoked"),
    "call.created": _l("Call created"),
    "call.edited": _l("Call edited"),
    "call.eligibility_edited": _l("Call eligibility rules edited"),
    "call.questions_edited": _l("Questions of the call changed"),
    "call.publish": _l("Call published"),
    "call.extend_deadline": _l("Call deadline extended"),
    "call.close": _l("Call closed"),
    "call.archive": _l("Call archived"),
    "call.cancel": _l("Call cancelled"),
    "webhook.created": _l("Webhook created"),
    "webhook.edited": _l("Webhook changed"),
    "webhook.activated": _l("Webhook switched on"),
    "webhook.deactivated": _l("Webhook switched off"),
    "webhook.secret_rotated": _l("Webhook secret rotated"),
    "webhook.removed": _l("Webhook removed"),
    "bank_change.requested": _l("Change of bank details asked for"),
    "bank_change.approved": _l("Change of bank details approved"),
    "bank_change.refused": _l("Change of bank details refused"),
    "bank_change.cancelled": _l("Change of bank details withdrawn"),
    "invitation.sent": _l("Staff invitation sent"),
    "invitation.accepted": _l("Staff invitation accepted"),
    "invitation.revoked": _l("Staff invitation withdrawn"),
    "passkey.added": _l("Passkey added"),
    "passkey.removed": _l("Passkey removed"),
    "award.letter_issued": _l("Award letter signed and issued"),
    "award.accepted": _l("Award accepted"),
    "document.downloaded": _l("Document downloaded"),
    "export.downloaded": _l("Export downloaded"),
    "data_export.requested": _l("Personal data copy asked for"),
    "data_export.downloaded": _l("Personal data copy downloaded"),
    "person.anonymised": _l("Person anonymised"),
    "retention.run": _l("Retention run"),
    "retention.refused": _l("Retention refused"),
    "debtor_account.added": _l("Programme bank account added"),
    "payment_file.generated": _l("Payment file generated"),
    "payment_file.cancelled": _l("Payment file cancelled"),
    "statement.imported": _l("Bank statement imported"),
    "message.posted": _l("Message written"),
    "note.posted": _l("Internal note written"),
    "message.attached": _l("Document attached to a message"),
    "request.sent": _l("Information requested"),
    "request.closed": _l("Request for information closed"),
    "note.shared": _l("Note shared with evaluators or hidden again"),
    "application.message": _l("Message sent about an application"),
    "application.duplicate_verdict": _l("Duplicate check recorded"),
    "application.reminded": _l("Reminder sent about an application"),
    "award.message": _l("Message sent about a grant"),
    "award.reminded": _l("Reminder sent about a grant"),
}

#: The records audit rows point at, with their names for a reader.
RECORD_TYPES: dict[str, Any] = {
    "user": _l("Person"),
    "call": _l("Call"),
    "application": _l("Application"),
    "award": _l("Grant"),
    "document": _l("Document"),
    "token": _l("API token"),
    "webhook": _l("Webhook"),
    "data_export": _l("Personal data copy"),
    "debtor_account": _l("Programme bank account"),
    "payment_file": _l("Payment file"),
    "statement": _l("Bank statement"),
    "message": _l("Message"),
}

#: What the command line is called in the trail.
COMMAND_LINE = "command line"
USER_AGENT_LENGTH = 300
PER_PAGE = 50
CARD_ROWS = 20

#: Who reads the whole trail, and who reads a record's own trail beside its history.
READERS = (ADMIN,)
RECORD_READERS = (ADMIN, PROGRAMME_OFFICER, FINANCE_OFFICER)


def plain(value: Any) -> Any:
    """``value`` as JSON keeps it, the same however it was read: 240000.00 and 240000
    are one amount, so an edit that leaves it is no change."""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}" if value.is_finite() else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(item) for item in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return value


def snapshot(model: Any, fields: Iterable[str]) -> dict[str, Any]:
    """The chosen fields of ``model`` as JSON values, to compare after a change."""
    return {name: plain(getattr(model, name)) for name in fields}


def changes_of(model: Any, before: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for each field of ``before`` that ``model`` changed."""
    after = snapshot(model, before)
    return {name: [before[name], after[name]] for name in before if before[name] != after[name]}


def _origin() -> tuple[str | None, str | None]:
    if not has_request_context():
        return None, None
    agent = request.user_agent.string or None
    return request.remote_addr or None, agent[:USER_AGENT_LENGTH] if agent else None


def _values(
    actor: User | None,
    kind: str,
    record: tuple[str, int | None] | None,
    changes: Mapping[str, Any] | None,
    note: str,
    email: str | None,
) -> dict[str, Any]:
    if kind not in KINDS:
        raise ValueError(f"unknown audit kind {kind!r}")
    address, agent = _origin()
    record_type, record_id = record or (None, None)
    return {
        "at": utcnow(),
        "actor_id": actor.id if actor is not None else None,
        "actor_email": (email if email is not None else actor.email if actor else "")[:320],
        "kind": kind,
        "record_type": record_type,
        "record_id": record_id,
        "remote_address": address,
        "user_agent": agent,
        "changes": plain(dict(changes or {})),
        "note": note,
    }


def record(
    actor: User | None,
    kind: str,
    record: tuple[str, int | None] | None = None,
    changes: Mapping[str, Any] | None = None,
    note: str = "",
    email: str | None = None,
) -> AuditRow:
    """One audit row for a change, in the change's transaction (flushed). ``actor`` is
    None for the system and the command line (say which in ``note``)."""
    row = AuditRow(**_values(actor, kind, record, changes, note, email))
    db.session.add(row)
    db.session.flush()
    return row


def append(
    actor: User | None,
    kind: str,
    record: tuple[str, int | None] | None = None,
    note: str = "",
    email: str | None = None,
) -> None:
    """One audit row for a read or a refused login, written after the request's
    transaction (``write_appended``) so that a GET locks nothing and a refusal that
    rolls back still leaves it."""
    values = _values(actor, kind, record, None, note, email)
    if has_request_context():
        g.setdefault("audit_appended", []).append(values)
    else:
        db.session.add(AuditRow(**values))
        db.session.flush()


def write_appended(error: BaseException | None) -> None:
    """Teardown: insert the rows ``append`` queued, in a transaction of their own."""
    rows = g.pop("audit_appended", None)
    if not rows or error is not None:
        return
    from grants.database import writes_from_now

    try:
        writes_from_now()
        db.session.add_all(AuditRow(**values) for values in rows)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("audit rows not written: %s", [values["kind"] for values in rows])


def is_staff(person: User) -> bool:
    """Anyone with a role other than applicant: their reads of documents are audited."""
    return bool(person.role_names - {APPLICANT})


def document_downloaded(person: User, document: Document) -> None:
    """A staff download of a document (members reading their own are not audited)."""
    if is_staff(person):
        append(person, "document.downloaded", ("document", document.id), note=document.filename)


def exported(person: User, table: Table, kind: str, record: tuple[str, int] | None = None) -> Table:
    """A staff download of an export: audited under the file's name; returns the table
    to stream."""
    append(person, "export.downloaded", record, note=f"{table.name}.{kind}")
    return table


# --- reading the trail --------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    email: str = ""
    record_type: str = ""
    record_id: int | None = None
    kind: str = ""
    since: date | None = None
    until: date | None = None

    def query(self) -> dict[str, str]:
        """The filters as query arguments, for the "Older" link and the exports."""
        values = {
            "email": self.email,
            "record_type": self.record_type,
            "record_id": "" if self.record_id is None else str(self.record_id),
            "kind": self.kind,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        return {name: value for name, value in values.items() if value}


def _date(value: str, field: str, problems: dict[str, list[str]]) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems[field] = [_("Give a date as YYYY-MM-DD, for example 2026-03-31.")]
        return None


def parse_filters(args: Mapping[str, Any]) -> Filters:
    """The filters typed on the page or sent to the API; InvalidInput names each wrong
    field."""
    problems: dict[str, list[str]] = {}
    text = {name: str(args.get(name) or "").strip() for name in Filters.__dataclass_fields__}
    record_id = None
    if text["record_type"] and text["record_type"] not in RECORD_TYPES:
        problems["record_type"] = [
            _("Unknown kind of record. Choose one of: %(types)s.", types=", ".join(RECORD_TYPES))
        ]
    if text["record_id"]:
        if not text["record_id"].isdigit() or int(text["record_id"]) < 1:
            problems["record_id"] = [_("A record number is a whole number such as 12.")]
        elif not text["record_type"]:
            problems["record_type"] = [_("Choose the kind of record the number belongs to.")]
        else:
            record_id = int(text["record_id"])
    if text["kind"] and text["kind"] not in KINDS:
        problems["kind"] = [_("Unknown kind of event: choose one from the list.")]
    since = _date(text["since"], "since", problems)
    until = _date(text["until"], "until", problems)
    if since and until and until < since:
        problems["until"] = [_("The end of the period must not be before its start.")]
    if problems:
        message = next(iter(problems.values()))[0] if len(problems) == 1 else None
        raise InvalidInput(message or _("The filters are not valid: see the fields."), problems)
    return Filters(
        email=text["email"][:320],
        record_type=text["record_type"],
        record_id=record_id,
        kind=text["kind"],
        since=since,
        until=until,
    )


def check_may_read(actor: User) -> None:
    if not actor.role_names & set(READERS):
        raise Forbidden(_("Only an admin reads the audit trail."))


def _start_of(day: date, zone: str) -> datetime:
    return datetime.combine(day, time.min, ZoneInfo(zone)).astimezone(UTC)


def filtered(filters: Filters, zone: str = "UTC") -> Select:
    """The rows the filters keep, newest first (a period's days are the reader's)."""
    statement = select(AuditRow).order_by(AuditRow.id.desc())
    if filters.email:
        email = filters.email.lower()
        person = db.session.scalar(select(User.id).where(func.lower(User.email) == email))
        typed = func.lower(AuditRow.actor_email) == email
        statement = statement.where(
            or_(AuditRow.actor_id == person, typed) if person is not None else typed
        )
    if filters.record_type:
        statement = statement.where(AuditRow.record_type == filters.record_type)
    if filters.record_id is not None:
        statement = statement.where(AuditRow.record_id == filters.record_id)
    if filters.kind:
        statement = statement.where(AuditRow.kind == filters.kind)
    if filters.since:
        statement = statement.where(AuditRow.at >= _start_of(filters.since, zone))
    if filters.until:
        statement = statement.where(
            AuditRow.at < _start_of(filters.until + timedelta(days=1), zone)
        )
    return statement


def trail(
    actor: User,
    filters: Filters,
    before: int | None = None,
    zone: str = "UTC",
    per_page: int = PER_PAGE,
) -> tuple[list[AuditRow], int | None]:
    """One page of the filtered trail, newest first, paged by id (nothing is counted):
    the rows, and the id to ask for the older ones with, if there are."""
    check_may_read(actor)
    statement = filtered(filters, zone).options(joinedload(AuditRow.actor)).limit(per_page + 1)
    if before is not None:
        statement = statement.where(AuditRow.id < before)
    rows = list(db.session.scalars(statement))
    older = rows[per_page - 1].id if len(rows) > per_page else None
    return rows[:per_page], older


def may_read_record_trail(person: User) -> bool:
    return bool(person.role_names & set(RECORD_READERS))


def record_trail(
    person: User, record_type: str, record_id: int, limit: int = CARD_ROWS
) -> list[AuditRow] | None:
    """A record's own trail, newest first, for the card beside its history; an
    application's includes the downloads of its documents, and an application's or a
    grant's what was written and attached in its thread. None for those who may not
    read it (evaluators and members never do)."""
    if not person.is_authenticated or not may_read_record_trail(person):
        return None
    condition = and_(AuditRow.record_type == record_type, AuditRow.record_id == record_id)
    if record_type == "application":
        documents = select(Document.id).where(Document.application_id == record_id)
        condition = or_(
            condition,
            and_(AuditRow.record_type == "document", AuditRow.record_id.in_(documents)),
        )
    if record_type in ("application", "award"):
        condition = or_(condition, _in_thread(record_type, record_id))
    return list(
        db.session.scalars(
            select(AuditRow)
            .options(joinedload(AuditRow.actor))
            .where(condition)
            .order_by(AuditRow.id.desc())
            .limit(limit)
        )
    )


def _in_thread(record_type: str, record_id: int):
    """The rows of the messages (and their attachments) of the record's thread."""
    from grants.models.conversations import Message, Thread

    column = Thread.application_id if record_type == "application" else Thread.award_id
    messages = (
        select(Message.id).join(Thread, Thread.id == Message.thread_id).where(column == record_id)
    )
    attachments = select(Document.id).where(Document.message_id.in_(messages))
    return or_(
        and_(AuditRow.record_type == "message", AuditRow.record_id.in_(messages)),
        and_(AuditRow.record_type == "document", AuditRow.record_id.in_(attachments)),
    )


def kind_label(kind: str) -> str:
    return str(KINDS.get(kind, kind))


def record_label(record_type: str | None) -> str:
    return str(RECORD_TYPES.get(record_type, record_type or ""))
