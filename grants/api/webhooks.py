"""Webhooks through the API, as on the admin's webhook pages: the endpoints, their
secrets (shown in the one answer that makes them), their recent deliveries and the
replay of one. Who may is ``services.webhooks``' (admins only)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from grants.api.auth import authenticate
from grants.api.resources import blueprint
from grants.api.schemas import ApiErrorSchema, PageArgs, page_of, page_of_found, page_schema
from grants.extensions import db
from grants.services import webhooks as service

#: An answer that shows a secret is kept by no cache on the way.
SECRET_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class EventTypeSchema(Schema):
    name = fields.String(required=True, metadata={"example": "application.submit"})
    record = fields.String(required=True, metadata={"description": "the record it is about"})
    label = fields.String(required=True, metadata={"description": "in the caller's language"})


class WebhookSchema(Schema):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    description = fields.String(required=True)
    active = fields.Boolean(
        required=True, metadata={"description": "false: paused, nothing is sent to it"}
    )
    event_types = fields.List(fields.String(), required=True)
    created_at = fields.AwareDateTime(required=True)
    created_by_id = fields.Integer(required=True, allow_none=True)
    secret_rotated_at = fields.AwareDateTime(required=True, allow_none=True)
    failed_deliveries = fields.Integer(
        required=True, metadata={"description": "deliveries that failed after every attempt"}
    )


class WebhookSecretSchema(WebhookSchema):
    secret = fields.String(
        required=True,
        metadata={"description": "signs every delivery; shown in this answer only"},
    )


class WebhookCreate(Schema):
    """Bounded as the columns that keep it are; every other rule on the address and the
    events is the service's, which names the field at fault."""

    url = fields.String(
        required=True,
        validate=validate.Length(max=service.URL_MAX),
        metadata={"example": "https://erp.example.org/hooks"},
    )
    description = fields.String(
        load_default="", validate=validate.Length(max=service.DESCRIPTION_MAX)
    )
    event_types = fields.List(
        fields.String(validate=validate.Length(max=60)),
        required=True,
        validate=validate.Length(max=len(service.EVENT_TYPES)),
        metadata={"description": "names from GET /webhooks/event-types"},
    )


class WebhookUpdate(Schema):
    """What changes; a field left out stays as it is. The secret stays."""

    url = fields.String(validate=validate.Length(max=service.URL_MAX))
    description = fields.String(validate=validate.Length(max=service.DESCRIPTION_MAX))
    event_types = fields.List(
        fields.String(validate=validate.Length(max=60)),
        validate=validate.Length(max=len(service.EVENT_TYPES)),
        metadata={"description": "replaces every event type"},
    )


class DeliverySchema(Schema):
    id = fields.Integer(required=True)
    webhook_id = fields.String(
        required=True, metadata={"description": "the Webhook-Id header; a replay keeps it"}
    )
    event_type = fields.String(required=True)
    event_label = fields.String(required=True, metadata={"description": "in the caller's language"})
    record = fields.Dict(required=True, metadata={"description": "the record the body speaks of"})
    state = fields.String(
        required=True, validate=validate.OneOf(("pending", "delivered", "failed"))
    )
    attempts = fields.Integer(required=True)
    response_status = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "HTTP status of the last answer; null when none came"},
    )
    last_error = fields.String(required=True)
    created_at = fields.AwareDateTime(required=True)
    next_attempt_at = fields.AwareDateTime(
        required=True, allow_none=True, metadata={"description": "while pending"}
    )
    delivered_at = fields.AwareDateTime(required=True, allow_none=True)
    replay_of_id = fields.Integer(required=True, allow_none=True)


#: What an endpoint says of itself; the failed deliveries are counted for a page at once.
SHOWN = [name for name in WebhookSchema._declared_fields if name != "failed_deliveries"]
DELIVERY_SHOWN = [name for name in DeliverySchema._declared_fields if name != "event_label"]
EventTypePage = page_schema(EventTypeSchema)
WebhookPage = page_schema(WebhookSchema)
DeliveryPage = page_schema(DeliverySchema)


def _shown(endpoint, failed: dict[int, int] | None = None) -> dict:
    if failed is None:
        failed = service.failed_counts([endpoint.id])
    shown = {name: getattr(endpoint, name) for name in SHOWN}
    # Sorted as they are read back, also in the answer that has just written them.
    shown["event_types"] = sorted(shown["event_types"])
    return {**shown, "failed_deliveries": failed.get(endpoint.id, 0)}


def _delivery(delivery) -> dict:
    shown = {name: getattr(delivery, name) for name in DELIVERY_SHOWN}
    shown["event_label"] = service.event_label(delivery.event_type)
    if delivery.state != "pending":
        shown["next_attempt_at"] = None
    return shown


@blueprint.route("/webhooks/event-types", methods=["GET"])
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, EventTypePage)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not an admin")
@blueprint.alt_response(422, schema=ApiErrorSchema)
def list_webhook_event_types(args):
    """The events an endpoint may subscribe to, with their labels, in the form's order.
    For admins."""
    found = service.event_types(authenticate())
    return page_of([{"name": n, "record": r, "label": label} for n, r, label in found], args)


@blueprint.route("/webhooks", methods=["GET"])
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, WebhookPage)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not an admin")
@blueprint.alt_response(422, schema=ApiErrorSchema)
def list_webhooks(args):
    """The registered endpoints by id, with how many deliveries failed; never a secret.
    For admins."""
    found = service.list_endpoints(authenticate(), args["page"], args["per_page"])
    failed = service.failed_counts(endpoint.id for endpoint in found.items)
    page = page_of_found(found)
    page["items"] = [_shown(endpoint, failed) for endpoint in page["items"]]
    return page


@blueprint.route("/webhooks", methods=["POST"])
@blueprint.arguments(WebhookCreate)
@blueprint.response(201, WebhookSecretSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not an admin")
@blueprint.alt_response(422, schema=ApiErrorSchema)
def create_webhook(body):
    """Register an endpoint for some event types. The answer holds its secret, the only
    time it is shown: keep it in the integration. For admins."""
    endpoint, secret = service.create_endpoint(authenticate(), **body)
    db.session.flush()
    return {**_shown(endpoint, {}), "secret": secret}, 201, SECRET_HEADERS


@blueprint.route("/webhooks/<int:endpoint_id>", methods=["GET"])
@blueprint.response(200, WebhookSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not an admin")
@blueprint.alt_response(404, schema=ApiErrorSchema)
def get_webhook(endpoint_id: int):
    """One endpoint, without its secret. For admins."""
    return _shown(service.get_endpoint(authenticate(), endpoint_id))


@blueprint.route("/webhooks/<int:endpoint_id>", methods=["PATCH"])
@blueprint.arguments(WebhookUpdate)
@blueprint.response(200, WebhookSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not an admin")
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def update_webhook(body, endpoint_id: int):
    """Change the address, the description or the event types; checked as when it was
    registered, and nothing is saved when one is refused. For admins."""
    person = authenticate()
    endpoint = service.get_endpoint(person, endpoint_id)
    values = {
        "url": endpoint.url,
        "description": endpoint.description,
        "event_types": endpoint.event_types,
    } | body
    service.update_endpoint(person, endpoint, **values)
    db.session.flush()
    return _shown(endpoint)


def _set_active(endpoint_id: int, active: bool) -> dict:
    person = authenticate()
    endpoint = service.get_endpoint(person, endpoint_id)
    service.set_active(person, endpoint, active)
    db.session.flush()
    return _shown(endpoint)


@blueprint.route("/webhooks/<int:endpoint_id>/pause", methods=["POST"])
@blueprint.response(200, WebhookSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not an admin")
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema, description="already paused")
def pause_webhook(endpoint_id: int):
    """Pause an endpoint: no delivery is written for it, its waiting retries stay put.
    For admins."""
    return _set_active(endpoint_id, False)


@blueprint.route("/webhooks/<int:endpoint_id>/resume", methods=["POST"])
@blueprint.response(200, WebhookSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not an admin")
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema, description="already active")
def resume_webhook(endpoint_id: int):
    """Resume a paused endpoint. For admins."""
    return _set_active(endpoint_id, True)


@blueprint.route("/webhooks/<int:endpoint_id>/secret", methods=["POST"])
@blueprint.response(200, WebhookSecretSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not an admin")
@blueprint.alt_response(404, schema=ApiErrorSchema)
def rotate_webhook_secret(endpoint_id: int):
    """A new secret, shown in this answer only; for a day the old one signs beside it,
    while the integration switches. For admins."""
    person = authenticate()
    endpoint = service.get_endpoint(person, endpoint_id)
    secret = service.rotate_secret(person, endpoint)
    db.session.flush()
    return {**_shown(endpoint), "secret": secret}, 200, SECRET_HEADERS


@blueprint.route("/webhooks/<int:endpoint_id>", methods=["DELETE"])
@blueprint.response(204)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not an admin")
@blueprint.alt_response(404, schema=ApiErrorSchema)
def delete_webhook(endpoint_id: int):
    """Delete an endpoint and its deliveries; nothing more is sent to it. For admins."""
    person = authenticate()
    service.delete_endpoint(person, service.get_endpoint(person, endpoint_id))
    db.session.flush()


@blueprint.route("/webhooks/<int:endpoint_id>/deliveries", methods=["GET"])
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, DeliveryPage)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not an admin")
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def list_webhook_deliveries(args, endpoint_id: int):
    """The endpoint's deliveries, newest first: their state, attempts, the last answer's
    status and the last error. For admins."""
    person = authenticate()
    endpoint = service.get_endpoint(person, endpoint_id)
    page = page_of_found(service.deliveries(person, endpoint, args["page"], args["per_page"]))
    page["items"] = [_delivery(delivery) for delivery in page["items"]]
    return page


@blueprint.route(
    "/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/replay", methods=["POST"]
)
@blueprint.response(201, DeliverySchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema, description="not an admin")
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(
    409, schema=ApiErrorSchema, description="paused, or the delivery is still attempted"
)
def replay_webhook_delivery(endpoint_id: int, delivery_id: int):
    """Send a delivery again: a new delivery with the same body and Webhook-Id, due now.
    For admins."""
    person = authenticate()
    copy = service.replay(person, service.get_endpoint(person, endpoint_id), delivery_id)
    db.session.flush()
    return _delivery(copy), 201
