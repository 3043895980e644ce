"""Webhook deliveries: written with the change, signed and sent by the scheduler.

``record_event`` listens to every domain event and writes, in the same transaction, one
delivery per active endpoint subscribed to its type; a rolled-back change therefore
sends nothing. The body names the record, its states and its address in the API, and
nothing more (no comment, no bank details, no person): an integration reads the rest
through the API with its own token, which shows it what its owner may see.

``dispatch`` claims due deliveries as the outbox claims emails (``notifications.claims``:
``FOR UPDATE SKIP LOCKED``, tied to the scheduler leader's lease), so no delivery is sent
twice at once. Each is POSTed outside any transaction with a short timeout and signed at
that moment: ``Webhook-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`` with the
endpoint's secret, ``Webhook-Timestamp`` in Unix seconds against replays. A 2xx answer
is delivered; anything else is retried after 1, 2, 4 … minutes, and after the queue's
last attempt the delivery is failed, for an admin to replay.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import insert, select, update

from grants.extensions import db
from grants.models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookSubscription
from grants.orm import utcnow
from grants.services.webhooks import EVENT_TYPES
from grants.services.workflow import DomainEvent, transition_fired
from notifications import claims
from notifications.outbox import application_of

log = logging.getLogger(__name__)
QUEUE = claims.WEBHOOKS
FIRST_RETRY = timedelta(minutes=1)
TIMEOUT_SECONDS = 5
CLAIM_BATCH = 20
ERROR_MAX = 300
USER_AGENT = "DiasporaGrants-Webhooks/1"
API_PREFIX = "/api/v1"
#: Where each record is read in the API (``grants.api.resources``' collections).
API_COLLECTIONS = {
    "association": "associations",
    "application": "applications",
    "review": "reviews",
    "award": "awards",
    "tranche": "tranches",
    "report": "reports",
}


# --- writing, with the change ----------------------------------------------------------


def event_type_of(event: DomainEvent) -> str:
    return f"{event.entity_type}.{event.transition}"


def body_for(event: DomainEvent, record: Any, webhook_id: str) -> str:
    """The JSON body, exactly as it is signed and sent on every attempt and replay."""
    reference = None if event.entity_type == "association" else application_of(record).reference
    base = current_app.config["BASE_URL"].rstrip("/")
    collection = API_COLLECTIONS[event.entity_type]
    payload = {
        "id": webhook_id,
        "type": event_type_of(event),
        "occurred_at": event.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "record": {
            "type": event.entity_type,
            "id": event.entity_id,
            "reference": reference,
            "state": record.state,
            "from_state": event.from_state,
            "to_state": event.to_state,
            "url": f"{base}{API_PREFIX}/{collection}/{event.entity_id}",
        },
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def record_event(sender: str, event: DomainEvent, record: Any = None) -> int:
    """Write a delivery for each active endpoint subscribed to the event, in its
    transaction. Events outside the catalogue cost no query."""
    event_type = event_type_of(event)
    if event_type not in EVENT_TYPES or record is None:
        return 0
    endpoint_ids = db.session.scalars(
        select(WebhookSubscription.endpoint_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookSubscription.endpoint_id)
        .where(WebhookSubscription.event_type == event_type, WebhookEndpoint.active.is_(True))
        .order_by(WebhookSubscription.endpoint_id)
    ).all()
    if not endpoint_ids:
        return 0
    rows = []
    for endpoint_id in endpoint_ids:
        webhook_id = str(uuid.uuid4())
        rows.append(
            dict(
                endpoint_id=endpoint_id,
                event_type=event_type,
                event_key=(event.key or event.at.isoformat())[:200],
                webhook_id=webhook_id,
                payload=body_for(event, record, webhook_id),
                state="pending",
                attempts=0,
                next_attempt_at=event.at,
                last_error="",
                created_at=event.at,
            )
        )
    db.session.execute(insert(WebhookDelivery), rows)
    return len(rows)


transition_fired.connect(record_event)


# --- signing and sending ---------------------------------------------------------------


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """``v1=`` and the hex HMAC-SHA256 of ``<timestamp>.<body>`` with the secret."""
    signed = f"{timestamp}.".encode() + body
    return "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def headers_for(delivery: WebhookDelivery, secret: str, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Webhook-Id": delivery.webhook_id,
        "Webhook-Event": delivery.event_type,
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": signature(secret, timestamp, delivery.payload.encode()),
    }


@dataclass(frozen=True)
class Answer:
    """What came back: the HTTP status (None when nothing did) and a short error."""

    status: int | None
    error: str = ""

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a delivery: following it would turn the POST into a
    GET without its body, or send the body somewhere the admin did not register."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _short(text: str) -> str:
    return " ".join(text.split())[:ERROR_MAX]


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST once; never raises for what the network or the receiver does."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read(4096)
            return Answer(response.status)
    except urllib.error.HTTPError as error:
        try:
            said = error.read(ERROR_MAX).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            said = ""
        return Answer(error.code, _short(f"HTTP {error.code} {error.reason}. {said}"))
    except urllib.error.URLError as error:
        return Answer(None, _short(f"Not reached: {error.reason}"))
    except TimeoutError:
        return Answer(None, f"No answer within {timeout:g} seconds.")
    except (OSError, http.client.HTTPException, ValueError) as error:
        return Answer(None, _short(f"Not reached: {error}"))


# --- the dispatcher ----------------------------------------------------------------------


def _request_for(row_id: int) -> tuple[int, str, bytes, dict[str, str]] | None:
    """What to send for one delivery, read while its transaction is open."""
    row = db.session.get(WebhookDelivery, row_id)
    if row is None:
        return None
    endpoint = row.endpoint
    headers = headers_for(row, endpoint.secret, int(utcnow().timestamp()))
    return endpoint.id, endpoint.url, row.payload.encode(), headers


def _postpone(row_id: int, until: datetime) -> None:
    """Leave a delivery for later without counting an attempt (its endpoint was just
    found unreachable in this run: one timeout per endpoint and run is enough)."""
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == row_id, WebhookDelivery.state == "pending")
        .values(next_attempt_at=until, claimed_by=None, claimed_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _record(row_id: int, answer: Answer, now: datetime) -> WebhookDelivery | None:
    row = db.session.get(WebhookDelivery, row_id)
    if row is None:  # its endpoint was deleted while the request travelled
        db.session.commit()
        return None
    row.attempts += 1
    row.response_status = answer.status
    if answer.delivered:
        row.state, row.delivered_at, row.last_error = "delivered", now, ""
    else:
        row.last_error = answer.error or f"HTTP {answer.status}"
        if row.attempts >= QUEUE.max_attempts:
            row.state = "failed"
        else:
            row.next_attempt_at = now + FIRST_RETRY * 2 ** (row.attempts - 1)
    row.claimed_by = row.claimed_at = None
    db.session.commit()
    return row


def dispatch(
    now: datetime | None = None, limit: int = 100, lease: int | None = None
) -> tuple[int, int]:
    """Send due deliveries; returns (delivered, failed attempts). Commits per row, and
    holds no transaction while a request travels."""
    now = now or utcnow()
    lease = claims.current() if lease is None else lease
    if lease is not None:
        claims.free(now)
        db.session.commit()
    delivered = failed = 0
    unreachable: set[int] = set()
    while delivered + failed < limit:
        batch = claims.claim(now, min(CLAIM_BATCH, limit - delivered - failed), lease, QUEUE)
        if not batch:
            break
        for row_id in batch:
            endpoint_id = db.session.scalar(
                select(WebhookDelivery.endpoint_id).where(WebhookDelivery.id == row_id)
            )
            if endpoint_id in unreachable:
                _postpone(row_id, now + FIRST_RETRY)
                continue
            if not claims.start_attempt(row_id, now, lease, QUEUE):
                if lease is not None and not claims.alive(lease):
                    log.warning("Lease %s was ended by a newer leader; webhooks stop", lease)
                    return delivered, failed
                continue  # taken back, paused or deleted meanwhile
            request = _request_for(row_id)
            db.session.commit()  # no transaction stays open while the request travels
            if request is None:
                continue
            endpoint_id, url, body, headers = request
            answer = post(url, body, headers, TIMEOUT_SECONDS)
            if _record(row_id, answer, now) is None:
                continue
            if answer.delivered:
                delivered += 1
            else:
                failed += 1
                if answer.status is None:
                    unreachable.add(endpoint_id)
                log.warning("Webhook delivery %s not delivered: %s", row_id, answer.error)
    return delivered, failed
