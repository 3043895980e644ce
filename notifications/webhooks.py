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
import ipaddress
import json
import logging
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, insert, select, update

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
#: How long the secret before a rotation still signs deliveries (beside the new one).
ROTATION_OVERLAP = timedelta(days=1)
#: How long delivered and failed deliveries stay listed (and replayable).
DELIVERIES_KEPT = timedelta(days=90)
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
    "bank_change": "bank-changes",
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


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The endpoint's secret, and for a day after a rotation the one before it too."""
    secrets = [endpoint.secret]
    rotated = endpoint.secret_rotated_at
    if endpoint.previous_secret and rotated and now - _aware(rotated) < ROTATION_OVERLAP:
        secrets.append(endpoint.previous_secret)
    return secrets


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def headers_for(delivery: WebhookDelivery, secrets: list[str], timestamp: int) -> dict[str, str]:
    """The signature header holds one ``v1=`` signature per secret, space-separated: a
    receiver accepts the request when any of them matches its secret."""
    body = delivery.payload.encode()
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "Webhook-Id": delivery.webhook_id,
        "Webhook-Event": delivery.event_type,
        "Webhook-Timestamp": str(timestamp),
        "Webhook-Signature": " ".join(signature(secret, timestamp, body) for secret in secrets),
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


class PrivateAddress(OSError):
    """The receiver's name led to an address off the public internet."""


def _check_peer(connection: http.client.HTTPConnection) -> None:
    """After connecting, before a byte is sent: the address really reached must be
    public, whatever the name resolved to when the endpoint was registered (a name may
    be pointed at an internal service later)."""
    address = connection.sock.getpeername()[0]
    if not ipaddress.ip_address(address.split("%", 1)[0]).is_global:
        connection.sock.close()
        raise PrivateAddress(f"{connection.host} is at {address}, a private address")


class _PublicHTTPConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _check_peer(self)


class _PublicHTTPSConnection(http.client.HTTPSConnection):
    def connect(self) -> None:
        # The TCP connection first, checked, then TLS over it.
        http.client.HTTPConnection.connect(self)
        _check_peer(self)
        server_hostname = self._tunnel_host or self.host
        self.sock = self._context.wrap_socket(self.sock, server_hostname=server_hostname)


class _PublicHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_PublicHTTPConnection, req)


class _PublicHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_PublicHTTPSConnection, req, context=self._context)


_opener = urllib.request.build_opener(_NoRedirect)
#: In production: only servers on the public internet receive webhooks.
_public_opener = urllib.request.build_opener(_NoRedirect, _PublicHTTPHandler, _PublicHTTPSHandler)


def _short(text: str) -> str:
    return " ".join(text.split())[:ERROR_MAX]


def post(
    url: str, body: bytes, headers: dict[str, str], timeout: float, public_only: bool = False
) -> Answer:
    """POST once; never raises for what the network or the receiver does. With
    ``public_only`` nothing is sent to an address off the public internet."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    opener = _public_opener if public_only else _opener
    try:
        with opener.open(request, timeout=timeout) as response:
            response.read(4096)
            return Answer(response.status)
    except urllib.error.HTTPError as error:
        try:
            said = error.read(ERROR_MAX).decode("utf-8", "replace")
        except (OSError, http.client.HTTPException):
            said = ""
        return Answer(error.code, _short(f"HTTP {error.code} {error.reason}. {said}"))
    except urllib.error.URLError as error:
        if isinstance(error.reason, PrivateAddress):
            return Answer(None, _short(f"Not sent: {error.reason}."))
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
    now = utcnow()
    headers = headers_for(row, signing_secrets(endpoint, now), int(now.timestamp()))
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
    public_only = current_app.config.get("PRODUCTION", False)
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
            answer = post(url, body, headers, TIMEOUT_SECONDS, public_only=public_only)
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


def prune(now: datetime) -> int:
    """Forget deliveries delivered or failed more than ``DELIVERIES_KEPT`` ago; waiting
    ones stay whatever their age. Returns how many went."""
    removed = db.session.execute(
        delete(WebhookDelivery)
        .where(
            WebhookDelivery.state.in_(("delivered", "failed")),
            WebhookDelivery.created_at < now - DELIVERIES_KEPT,
        )
        .execution_options(synchronize_session=False)
    )
    return removed.rowcount or 0
