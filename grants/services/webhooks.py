"""Webhooks: which events integrations may receive, and the admin's use cases for the
endpoints that receive them (register, change, pause, rotate the secret, delete, replay).

The event types are the domain events the notification catalogue follows, named
``<record>.<transition>`` as in the history and the API's transitions. What is sent is
written by ``notifications.webhooks`` in the transaction of the change, and sent by the
scheduler afterwards.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext, ngettext
from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from grants.extensions import db
from grants.models.accounts import User
from grants.models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookSubscription
from grants.orm import utcnow
from grants.roles import ADMIN
from grants.services import audit
from grants.services.errors import Conflict, Forbidden, InvalidInput, NotFound

#: Every event an endpoint may subscribe to, by record, in the order the form shows them.
EVENT_TYPES = {
    "association.verify": _l("An association is verified"),
    "association.reject": _l("An association is not verified"),
    "application.submit": _l("An application is submitted"),
    "application.submit_proposal": _l("A full proposal is submitted"),
    "application.return_to_applicant": _l("An application is returned for changes"),
    "application.mark_eligible": _l("An application is marked eligible"),
    "application.mark_ineligible": _l("An application is marked ineligible"),
    "application.complete_review": _l("Every review of an application is in"),
    "application.award": _l("An application is awarded a grant"),
    "application.waitlist": _l("An application is put on the waiting list"),
    "application.reject": _l("An application is not funded"),
    "review.assigned": _l("A review is assigned to an evaluator"),
    "review.declare_conflict": _l("An evaluator declares a conflict of interest"),
    "award.accept": _l("An award is accepted"),
    "award.decline": _l("An award is declined"),
    "award.bank_change_requested": _l("New bank details wait for approval"),
    "award.bank_change_approved": _l("New bank details are approved"),
    "award.bank_change_rejected": _l("New bank details are not approved"),
    "tranche.request": _l("A tranche is requested"),
    "tranche.approve": _l("A tranche is approved (also the first of two approvals)"),
    "tranche.pay": _l("A tranche is paid"),
    "report.submit": _l("A report is submitted"),
    "report.request_changes": _l("Changes are requested to a report"),
    "report.accept": _l("A report is accepted"),
}
RECORD_LABELS = {
    "association": _l("Associations"),
    "application": _l("Applications"),
    "review": _l("Reviews"),
    "award": _l("Awards"),
    "tranche": _l("Tranches"),
    "report": _l("Reports"),
}
DELIVERY_STATE_LABELS = {
    "pending": lazy_pgettext("webhook delivery", "waiting"),
    "delivered": lazy_pgettext("webhook delivery", "delivered"),
    "failed": lazy_pgettext("webhook delivery", "failed"),
}
ENDPOINT_STATE_LABELS = {
    True: lazy_pgettext("webhook", "active"),
    False: lazy_pgettext("webhook", "paused"),
}
SECRET_PREFIX = "whsec_"
URL_MAX = 2000
DESCRIPTION_MAX = 300
DELIVERIES_PER_PAGE = 25
_HOST_NAME = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$")


def event_label(event_type: str) -> str:
    label = EVENT_TYPES.get(event_type)
    return event_type if label is None else str(label)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def check_may_manage(actor: User) -> None:
    """Webhooks send the programme's events out: only admins see and change them."""
    if ADMIN not in actor.role_names:
        raise Forbidden(_("Only admins manage webhooks."))


# --- checks ---------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(url: str, production: bool) -> str | None:
    """Why ``url`` cannot receive webhooks, in a sentence, or None.

    https always; http only for this machine and never in production, since the
    bodies travel readable over http (the signature proves the sender, it hides
    nothing)."""
    if not url:
        return _("Give the address that receives the webhooks.")
    if len(url) > URL_MAX:
        return ngettext(
            "An address is at most %(num)d character.",
            "An address is at most %(num)d characters.",
            URL_MAX,
        )
    if any(character.isspace() or not character.isprintable() for character in url):
        return _("An address cannot contain spaces or invisible characters.")
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
        parts.port  # noqa: B018 (raises on a port out of range)
    except ValueError:
        return _("This is not a web address. Give a full address starting with https://.")
    if parts.scheme not in ("http", "https") or not host:
        return _("This is not a web address. Give a full address starting with https://.")
    if parts.username is not None or parts.password is not None:
        return _(
            "Leave the user name and password out of the address: the signature of each "
            "webhook proves who sent it."
        )
    if not _valid_host(host):
        return _("The server's name in this address is not valid.")
    if production and _reserved_address(host):
        return _(
            "This address is private or reserved: webhooks are sent only to servers "
            "reachable on the internet."
        )
    if parts.scheme == "http":
        if production:
            return _("Use an https:// address: in production webhooks are only sent encrypted.")
        if not _is_loopback(host):
            return _("Use an https:// address; http:// is accepted only for this machine.")
    return None


def _reserved_address(host: str) -> bool:
    """An address written as an IP that is not on the public internet (private,
    loopback, link-local such as a cloud's metadata service, reserved)."""
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return host == "localhost" or host.endswith((".localhost", ".local", ".internal"))


def _valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return len(ascii_host) <= 253 and bool(_HOST_NAME.match(ascii_host))


def _checked(url: str, description: str, event_types: Iterable[str]) -> tuple[str, str, list]:
    """The endpoint's fields, cleaned, or InvalidInput with every field's error."""
    url, description = (url or "").strip(), (description or "").strip()
    chosen = list(dict.fromkeys(event_types or []))
    errors: dict[str, list[str]] = {}
    problem = url_problem(url, current_app.config.get("PRODUCTION", False))
    if problem:
        errors["url"] = [problem]
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = [
            ngettext(
                "A description is at most %(num)d character.",
                "A description is at most %(num)d characters.",
                DESCRIPTION_MAX,
            )
        ]
    unknown = [name for name in chosen if name not in EVENT_TYPES]
    if unknown:
        errors["event_types"] = [
            _("Unknown event: %(names)s.", names=", ".join(unknown)[:200]),
        ]
    elif not chosen:
        errors["event_types"] = [_("Choose at least one event.")]
    if errors:
        raise InvalidInput(_("The webhook is not saved: see the fields."), errors)
    return url, description, chosen


# --- endpoints ------------------------------------------------------------------------


def _audited(endpoint: WebhookEndpoint) -> dict:
    """What the audit trail keeps of an endpoint (never its secret)."""
    return {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": sorted(s.event_type for s in endpoint.subscriptions),
    }


def create_endpoint(
    actor: User,
    url: str,
    description: str,
    event_types: Iterable[str],
    now: datetime | None = None,
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint; returns it with its secret, the only time it is shown."""
    check_may_manage(actor)
    url, description, chosen = _checked(url, description, event_types)
    secret = new_secret()
    endpoint = WebhookEndpoint(
        url=url,
        description=description,
        secret=secret,
        active=True,
        created_by_id=actor.id,
        created_at=now or utcnow(),
        subscriptions=[WebhookSubscription(event_type=name) for name in chosen],
    )
    db.session.add(endpoint)
    db.session.flush()
    audit.record(
        actor,
        "webhook.created",
        ("webhook", endpoint.id),
        {name: [None, value] for name, value in _audited(endpoint).items()},
    )
    return endpoint, secret


def update_endpoint(
    actor: User,
    endpoint: WebhookEndpoint,
    url: str,
    description: str,
    event_types: Iterable[str],
) -> None:
    """Change the address, the description and the events; the secret stays."""
    check_may_manage(actor)
    url, description, chosen = _checked(url, description, event_types)
    before = _audited(endpoint)
    endpoint.url, endpoint.description = url, description
    kept = {s.event_type: s for s in endpoint.subscriptions}
    endpoint.subscriptions = [
        kept.get(name) or WebhookSubscription(event_type=name) for name in chosen
    ]
    db.session.flush()
    after = _audited(endpoint)
    changes = {name: [before[name], after[name]] for name in before if before[name] != after[name]}
    if changes:
        audit.record(actor, "webhook.edited", ("webhook", endpoint.id), changes)


def set_active(actor: User, endpoint: WebhookEndpoint, active: bool) -> None:
    """Pause (no delivery is written, waiting retries stay put) or resume."""
    check_may_manage(actor)
    if endpoint.active == active:
        raise Conflict(
            _("This webhook is already active.") if active else _("This webhook is already paused.")
        )
    endpoint.active = active
    db.session.flush()
    audit.record(
        actor,
        "webhook.activated" if active else "webhook.deactivated",
        ("webhook", endpoint.id),
        {"active": [not active, active]},
    )


def rotate_secret(actor: User, endpoint: WebhookEndpoint, now: datetime | None = None) -> str:
    """A new secret signs every attempt from now on, retries of earlier deliveries too;
    for a day the old one signs them as well, while the receiver switches."""
    check_may_manage(actor)
    endpoint.previous_secret = endpoint.secret
    endpoint.secret = new_secret()
    endpoint.secret_rotated_at = now or utcnow()
    db.session.flush()
    audit.record(
        actor,
        "webhook.secret_rotated",
        ("webhook", endpoint.id),
        {"secret_rotated_at": [None, endpoint.secret_rotated_at]},
    )
    return endpoint.secret


def delete_endpoint(actor: User, endpoint: WebhookEndpoint) -> None:
    """Remove the endpoint and its deliveries; nothing more is sent to it. The deliveries
    go by statement, not only by the foreign key's cascade, which SQLite may not apply."""
    check_may_manage(actor)
    audit.record(
        actor,
        "webhook.removed",
        ("webhook", endpoint.id),
        {name: [value, None] for name, value in _audited(endpoint).items()},
    )
    db.session.execute(
        delete(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .execution_options(synchronize_session=False)
    )
    db.session.delete(endpoint)
    db.session.flush()


def event_types(actor: User) -> list[tuple[str, str, str]]:
    """What an endpoint may subscribe to: (event type, its record, its label), in the
    order the form shows them."""
    check_may_manage(actor)
    return [(name, name.partition(".")[0], str(label)) for name, label in EVENT_TYPES.items()]


def get_endpoint(actor: User, endpoint_id: int) -> WebhookEndpoint:
    check_may_manage(actor)
    endpoint = db.session.scalar(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .options(selectinload(WebhookEndpoint.subscriptions))
    )
    if endpoint is None:
        raise NotFound(_("No such webhook."))
    return endpoint


def list_endpoints(actor: User, page: int = 1, per_page: int = 25):
    check_may_manage(actor)
    return db.paginate(
        select(WebhookEndpoint)
        .options(
            selectinload(WebhookEndpoint.subscriptions),
            selectinload(WebhookEndpoint.created_by),
        )
        .order_by(WebhookEndpoint.id),
        page=page,
        per_page=per_page,
        error_out=False,
    )


def failed_counts(endpoint_ids: Iterable[int]) -> dict[int, int]:
    """Failed deliveries per endpoint, counted in SQL for one page of endpoints."""
    ids = list(endpoint_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(WebhookDelivery.endpoint_id, func.count(WebhookDelivery.id))
        .where(WebhookDelivery.endpoint_id.in_(ids), WebhookDelivery.state == "failed")
        .group_by(WebhookDelivery.endpoint_id)
    )
    return {endpoint_id: count for endpoint_id, count in rows}


# --- deliveries -----------------------------------------------------------------------


def recent_deliveries(
    actor: User,
    endpoint: WebhookEndpoint,
    before: int | None = None,
    per_page: int = DELIVERIES_PER_PAGE,
) -> tuple[list[WebhookDelivery], int | None]:
    """One page of the endpoint's deliveries, newest first, paged by id (nothing is
    counted): the rows, and the id to ask for the older ones with, if there are."""
    check_may_manage(actor)
    statement = (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(per_page + 1)
    )
    if before is not None:
        statement = statement.where(WebhookDelivery.id < before)
    rows = list(db.session.scalars(statement))
    older = rows[per_page - 1].id if len(rows) > per_page else None
    return rows[:per_page], older


def deliveries(actor: User, endpoint: WebhookEndpoint, page: int = 1, per_page: int = 25):
    """The endpoint's deliveries newest first, numbered pages for the API; bounded by the
    90 days sent deliveries are kept."""
    check_may_manage(actor)
    return db.paginate(
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc()),
        page=page,
        per_page=per_page,
        error_out=False,
    )


def replay(
    actor: User, endpoint: WebhookEndpoint, delivery_id: int, now: datetime | None = None
) -> WebhookDelivery:
    """Send a delivery again: a new row with the same body and ``webhook_id`` (so the
    receiver can tell it is the same event), due now, marked as a replay of the first."""
    check_may_manage(actor)
    original = db.session.get(WebhookDelivery, delivery_id)
    if original is None or original.endpoint_id != endpoint.id:
        raise NotFound(_("No such delivery."))
    if not endpoint.active:
        raise Conflict(_("This webhook is paused: resume it before replaying a delivery."))
    if original.state == "pending":
        raise Conflict(_("This delivery is still being attempted; wait for its outcome."))
    now = now or utcnow()
    copy = WebhookDelivery(
        endpoint_id=endpoint.id,
        event_type=original.event_type,
        event_key=None,
        webhook_id=original.webhook_id,
        payload=original.payload,
        state="pending",
        attempts=0,
        next_attempt_at=now,
        last_error="",
        created_at=now,
        replay_of_id=original.id,
        replayed_by_id=actor.id,
    )
    db.session.add(copy)
    db.session.flush()
    return copy
