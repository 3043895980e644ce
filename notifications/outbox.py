"""The outbox: rows written with the change, delivered afterwards with retries.

``record_event`` listens to every domain event and writes, in the same transaction, one
row per recipient and channel for each matching rule; a rolled-back change therefore
leaves no notification. Texts are translated into each recipient's language when the row
is written. Each person chooses per category between immediate email, a daily digest
(the email row is ``held``) and in-app only; required categories always email.

``dispatch`` claims due email rows with one conditional update (``FOR UPDATE SKIP
LOCKED`` on PostgreSQL), so two dispatchers never send one row twice; a claim is tied to
the scheduler leader's lease and freed the moment a new leader takes over
(``notifications.claims``). It sends, and on failure retries with exponential backoff
until ``MAX_ATTEMPTS``, after which the row is marked failed for an admin to retry. Every
email carries a ``Message-ID`` derived from its row, the same on every attempt, so a copy
sent again after a crash between SMTP's acceptance and the row's update is recognisable.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from flask_babel import force_locale, get_translations, gettext, ngettext
from sqlalchemy import func, select, update

from grants.bulk import insert_rows
from grants.extensions import db
from grants.models.accounts import User
from grants.models.notifications import Notification, NotificationPreference
from grants.numbers import money_text
from grants.orm import utcnow
from grants.services.workflow import DomainEvent, transition_fired
from notifications import claims
from notifications.claims import MAX_ATTEMPTS
from notifications.mailer import send_email
from notifications.rules import CATEGORIES, RULES

log = logging.getLogger(__name__)
FIRST_RETRY = timedelta(minutes=1)
CLAIM_BATCH = 20

#: A value is text, or a function of the recipient's locale (a call title, an amount).
Value = str | Callable[[str], str]


@dataclass
class Message:
    """What to tell people about one entity, before it is put in their language."""

    rule: str
    category: str
    subject: str
    body: str
    entity_type: str
    entity_id: int
    link: str
    values: Mapping[str, Value] = field(default_factory=dict)

    def render(self, locale: str) -> tuple[str, str]:
        """Subject and body in ``locale``."""
        values = {k: v(locale) if callable(v) else v for k, v in self.values.items()}
        subject = translate(self.subject, locale) % values
        body = " ".join((translate(self.body, locale) % values).split())
        return subject[:300], body


@lru_cache(maxsize=4096)
def translate(message: str, locale: str) -> str:
    """A message id in ``locale``, looked up once per process (catalogs do not change
    while it runs); a sweep renders thousands of messages in a few languages."""
    with force_locale(locale):
        return get_translations().ugettext(message)


def preferences(user_ids: Iterable[int]) -> dict[tuple[int, str], str]:
    ids = set(user_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(
            NotificationPreference.user_id,
            NotificationPreference.category,
            NotificationPreference.mode,
        ).where(NotificationPreference.user_id.in_(ids))
    )
    return {(user_id, category): mode for user_id, category, mode in rows}


def delivery_mode(category: str, chosen: str | None) -> str:
    if CATEGORIES[category].required or chosen is None:
        return "immediate"
    return chosen


def write(batch: Iterable[tuple[Message, Iterable[User], str]], at: datetime | None = None) -> int:
    """Write the rows for many messages at once, each with its recipients and a key that
    makes it unique (a repeated key raises, so callers never write one message twice).

    Preferences are read in one query and texts rendered once per language, so a sweep
    that reminds ten thousand associations stays a handful of statements.
    """
    at = at or utcnow()
    items = [(message, {u.id: u for u in people}.values(), key) for message, people, key in batch]
    chosen = preferences(u.id for _, people, _ in items for u in people)
    by_locale: dict[str, list[tuple[Message, User, str]]] = defaultdict(list)
    for message, people, key in items:
        for person in people:
            by_locale[person.locale or "en"].append((message, person, key))
    rows: list[dict[str, Any]] = []
    for locale, entries in by_locale.items():
        with force_locale(locale):  # for values that translate or format themselves
            for message, person, key in entries:
                subject, body = message.render(locale)
                mode = delivery_mode(message.category, chosen.get((person.id, message.category)))
                common = dict(
                    rule=message.rule,
                    category=message.category,
                    recipient_id=person.id,
                    entity_type=message.entity_type,
                    entity_id=message.entity_id,
                    subject=subject,
                    body=body,
                    link=message.link,
                    attempts=0,
                    last_error="",
                    created_at=at,
                    next_attempt_at=at,
                )
                rows.append(
                    common
                    | dict(
                        dedupe_key=f"{key}:{person.id}:in_app"[:200],
                        channel="in_app",
                        state="sent",
                        sent_at=at,
                    )
                )
                if mode != "in_app":
                    rows.append(
                        common
                        | dict(
                            dedupe_key=f"{key}:{person.id}:email"[:200],
                            channel="email",
                            state="pending" if mode == "immediate" else "held",
                            sent_at=None,
                        )
                    )
    return insert_rows(Notification.__table__, rows)


# --- events --------------------------------------------------------------------------


def application_of(record: Any) -> Any:
    award = getattr(record, "award", None)
    if award is not None:
        return award.application
    return getattr(record, "application", None) or record


def link_to(entity_type: str, record: Any) -> str:
    if entity_type == "association":
        return f"/associations/{record.id}"
    if entity_type == "award":
        return f"/grants/{record.id}"
    if entity_type == "tranche":
        return f"/grants/{record.award_id}#tranche-{record.id}"
    if entity_type == "bank_change":
        return f"/grants/{record.award_id}#bank"
    if entity_type == "report":
        return f"/grants/{record.award_id}/reports/{record.id}"
    return f"/applications/{application_of(record).id}"


def values_for(record: Any, entity_type: str, comment: str | None) -> dict[str, Value]:
    values: dict[str, Value] = {"comment": (comment or "").strip()}
    if entity_type == "association":
        values["name"] = record.name
        return values
    application = application_of(record)
    call = application.call
    values["reference"] = application.reference or ""
    values["call"] = lambda locale: call.text("title", locale)
    values["name"] = getattr(record, "signatory_name", "") or ""
    award = getattr(record, "award", None)
    if award is not None and hasattr(record, "amount"):
        amount, currency = record.amount, award.currency
        values["amount"] = lambda locale: money_text(amount, currency, locale)
    return values


def record_event(sender: str, event: DomainEvent, record: Any = None) -> int:
    """Write the notifications an event calls for, in its transaction."""
    rules = [
        r
        for r in RULES
        if r.entity == event.entity_type
        and r.event == event.transition
        and (r.to_state is None or r.to_state == event.to_state)
    ]
    if not rules:
        return 0
    values = values_for(record, event.entity_type, event.comment)
    link = link_to(event.entity_type, record)
    batch = []
    for rule in rules:
        message = Message(
            rule.name,
            rule.category,
            rule.subject,
            rule.body,
            event.entity_type,
            event.entity_id,
            link,
            values,
        )
        key = f"{rule.name}:{event.key or event.at.isoformat()}"
        batch.append((message, rule.recipients(record), key))
    written = write(batch, event.at)
    db.session.flush()
    return written


transition_fired.connect(record_event)


# --- delivery ------------------------------------------------------------------------


def message_domain() -> str:
    """The right-hand side of our Message-IDs: the sender's domain, else the site's."""
    sender = current_app.config.get("MAIL_DEFAULT_SENDER") or ""
    address = sender[1] if isinstance(sender, tuple | list) else parseaddr(sender)[1]
    local, at, domain = address.rpartition("@")
    domain = domain.strip().lower() if local and at else ""
    return domain or urlsplit(current_app.config["BASE_URL"]).hostname or "localhost"


def message_id(row: Notification) -> str:
    """The same on every attempt at ``row``; the hash of its key and time keeps it apart
    from a row with the same id in another database (staging and production, say)."""
    created = row.created_at.astimezone(UTC).strftime("%Y%m%d%H%M%S%f")
    digest = hashlib.sha256(f"{row.id}:{row.dedupe_key}:{created}".encode()).hexdigest()[:16]
    return f"<notification-{row.id}.{digest}@{message_domain()}>"


def email_parts(row: Notification, items: list[Notification] | None = None) -> dict[str, str]:
    """Plain text and HTML of one email, in the recipient's language."""
    base = current_app.config["BASE_URL"].rstrip("/")
    recipient = row.recipient
    with force_locale(recipient.locale or "en"):
        context = dict(
            row=row, items=items or [], base=base, recipient=recipient, rtl=recipient.locale == "ar"
        )
        return {
            "text": render_template("email/notification.txt", **context),
            "html": render_template("email/notification.html", **context),
        }


def compose(row: Notification) -> dict[str, Any]:
    """The arguments of ``send_email`` for one row, read while its transaction is open."""
    items = list(row.digested) if row.rule == "daily_digest" else None
    parts = email_parts(row, items)
    return dict(
        recipient=row.recipient.email,
        subject=row.subject,
        text=parts["text"],
        html=parts["html"],
        message_id=message_id(row),
    )


def dispatch(
    now: datetime | None = None, limit: int = 100, lease: int | None = None
) -> tuple[int, int]:
    """Send due email rows; returns (sent, failed attempts). Commits per row.

    A scheduler leader dispatches under its lease (``claims.holding``): it first frees
    whatever a dead leader, or an earlier run of its own, left claimed, and stops as soon
    as its lease is ended by a newer leader. Emails are sent outside any transaction (a
    slow SMTP server never holds the database)."""
    now = now or utcnow()
    lease = claims.current() if lease is None else lease
    if lease is not None:
        claims.free(now)
        db.session.commit()
    sent = failed = 0
    while sent + failed < limit:
        batch = claims.claim(now, min(CLAIM_BATCH, limit - sent - failed), lease)
        if not batch:
            break
        for row_id in batch:
            if not claims.start_attempt(row_id, now, lease):
                if lease is not None and not claims.alive(lease):
                    log.warning("Lease %s was ended by a newer leader; dispatch stops", lease)
                    return sent, failed
                continue  # this row was taken back meanwhile
            row = db.session.get(Notification, row_id)
            if row.recipient.anonymised_at is not None:
                _refuse_anonymised(row)
                db.session.commit()
                failed += 1
                continue
            email = compose(row)
            db.session.commit()  # no transaction stays open while the email travels
            try:
                send_email(**email)
            except Exception as error:  # any SMTP failure: retry later, never lose the row
                row = db.session.get(Notification, row_id)
                row.attempts += 1
                row.last_error = str(error)[:500]
                if row.attempts >= MAX_ATTEMPTS:
                    row.state = "failed"
                else:
                    row.next_attempt_at = now + FIRST_RETRY * 2 ** (row.attempts - 1)
                failed += 1
                log.warning("Notification %s not sent: %s", row.id, error)
            else:
                row = db.session.get(Notification, row_id)
                row.state, row.sent_at, row.attempts = "sent", now, row.attempts + 1
                sent += 1
            row.claimed_by = row.claimed_at = None
            db.session.commit()
    return sent, failed


#: Why an email to an anonymised person is not sent (``services.anonymisation``).
NOT_SENT_ANONYMISED = "Not sent: the recipient was anonymised and their address is no longer kept."


class RecipientAnonymised(ValueError):
    """The email's recipient was anonymised: it is never sent, nor retried."""


def _refuse_anonymised(row: Notification) -> None:
    row.state, row.last_error = "failed", NOT_SENT_ANONYMISED
    row.claimed_by = row.claimed_at = None
    log.info("Notification %s not sent: its recipient was anonymised", row.id)


def retry(row_id: int, now: datetime | None = None) -> Notification:
    """An admin sends a failed row again: it becomes due now, with fresh attempts.
    Never for an anonymised recipient (``RecipientAnonymised``)."""
    row = db.session.get(Notification, row_id)
    if row is None or row.channel != "email":
        raise LookupError(row_id)
    if row.recipient.anonymised_at is not None:
        raise RecipientAnonymised(NOT_SENT_ANONYMISED)
    if row.state != "failed":
        raise ValueError("Only a failed notification can be retried.")
    row.state, row.attempts, row.next_attempt_at = "pending", 0, now or utcnow()
    row.last_error = ""
    db.session.flush()
    return row


# --- digests -------------------------------------------------------------------------


def send_digests(now: datetime | None = None, hour: int | None = None) -> int:
    """Bundle each person's held emails into one digest, once a day after ``hour`` in
    their own time zone. Returns the number of digests written (the dispatcher sends
    them). The digest's key is the person's local date, so a second run that day, or a
    second scheduler, writes nothing more."""
    now = now or utcnow()
    hour = current_app.config["DIGEST_HOUR"] if hour is None else hour
    holders = db.session.scalars(
        select(User).where(
            User.id.in_(
                select(Notification.recipient_id)
                .where(Notification.state == "held", Notification.created_at <= now)
                .distinct()
            )
        )
    ).all()
    written = 0
    for person in holders:
        local = now.astimezone(ZoneInfo(person.timezone or "UTC"))
        if local.hour < hour:
            continue
        key = f"daily_digest:{person.id}:{local.date().isoformat()}"
        if db.session.scalar(select(Notification.id).where(Notification.dedupe_key == key)):
            continue
        held = db.session.scalars(
            select(Notification)
            .where(
                Notification.recipient_id == person.id,
                Notification.state == "held",
                Notification.created_at <= now,
            )
            .order_by(Notification.created_at, Notification.id)
        ).all()
        with force_locale(person.locale or "en"):
            subject = ngettext(
                "Your daily summary: %(num)d notification",
                "Your daily summary: %(num)d notifications",
                len(held),
            )
            body = gettext("What happened since your last summary.")
        digest = Notification(
            dedupe_key=key,
            rule="daily_digest",
            category="digest",
            recipient_id=person.id,
            channel="email",
            entity_type="user",
            entity_id=person.id,
            subject=subject,
            body=body,
            link="/notifications/",
            state="pending",
            next_attempt_at=now,
            created_at=now,
        )
        db.session.add(digest)
        db.session.flush()
        for row in held:
            row.state, row.sent_at, row.digest_id = "sent", now, digest.id
        db.session.commit()
        written += 1
    return written


# --- the inbox -----------------------------------------------------------------------


def unread_count(user_id: int) -> int:
    return db.session.scalar(unread_statement(user_id))


def unread_statement(user_id: int):
    """The count of the person's unread in-app notifications, as a statement: the page
    header asks it together with its other counts."""
    return select(func.count(Notification.id)).where(
        Notification.recipient_id == user_id,
        Notification.channel == "in_app",
        Notification.read_at.is_(None),
    )


def inbox(user_id: int, page: int = 1, per_page: int = 25):
    return db.paginate(
        select(Notification)
        .where(Notification.recipient_id == user_id, Notification.channel == "in_app")
        .order_by(Notification.created_at.desc(), Notification.id.desc()),
        page=page,
        per_page=per_page,
        error_out=False,
    )


def mark_all_read(user_id: int, ids: Iterable[int] | None = None) -> int:
    """Mark the person's unread in-app notifications read (only ``ids`` when given: other
    people's ids are ignored); how many were."""
    statement = update(Notification).where(
        Notification.recipient_id == user_id,
        Notification.channel == "in_app",
        Notification.read_at.is_(None),
    )
    if ids is not None:
        statement = statement.where(Notification.id.in_(list(ids)))
    return db.session.execute(statement.values(read_at=utcnow())).rowcount


def set_preferences(user: User, choices: Mapping[str, str]) -> None:
    """Record how ``user`` receives each optional category; required ones stay email."""
    from grants.models.notifications import DELIVERY_MODES

    current = {p.category: p for p in user_preferences(user.id)}
    for category, mode in choices.items():
        if category not in CATEGORIES:
            raise ValueError(f"Unknown category {category!r}.")
        if mode not in DELIVERY_MODES:
            raise ValueError(f"Unknown delivery {mode!r}.")
        if CATEGORIES[category].required:
            continue
        row = current.get(category)
        if row is None:
            db.session.add(NotificationPreference(user_id=user.id, category=category, mode=mode))
        else:
            row.mode = mode
    db.session.flush()


def user_preferences(user_id: int) -> list[NotificationPreference]:
    return list(
        db.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user_id)
        )
    )
