"""The REST API under ``/api/v1``: flask-smorest, bearer tokens, one error shape.

The API calls the same services as the pages, so a rule is never written twice. A
request authenticates with ``Authorization: Bearer <token>`` only: the session cookie
is ignored (no cookie-borne request can act through the API, so CSRF does not apply).
Every error, including bad input, answers ``{"code", "message", "errors"}``.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import Flask, current_app, g, jsonify, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from grants.api.schemas import Amount, ApiErrorSchema
from grants.extensions import csrf, db
from grants.services.errors import DomainError

PREFIX = "/api/v1"


class GrantsApi(Api):
    """Documents every operation's errors in the shape they really have."""

    ERROR_SCHEMA = ApiErrorSchema


CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
    428: "precondition_required",
    429: "too_many_requests",
    500: "server_error",
    503: "unavailable",
}


def is_api_request() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def error_response(status: int, message: str, errors: dict[str, list[str]] | None = None):
    response = jsonify(
        {"code": CODES.get(status, "error"), "message": message, "errors": errors or {}}
    )
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


#: Where webargs found a request's input: not part of a field's name.
LOCATIONS = ("json", "query", "form", "files", "multipart", "headers")


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Nested errors (webargs' ``{"json": {"field": ["…"]}}``, a WTForms field list's
    ``{"rows": [{"name": ["…"]}]}``) as ``{"rows.0.name": ["…"]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = str(key) if key not in LOCATIONS else ""
            inner = f"{prefix}.{name}" if prefix and name else (name or prefix)
            flat.update(flatten_errors(value, inner))
    elif isinstance(messages, list) and not any(isinstance(m, dict | list) for m in messages):
        flat[prefix or "_"] = [str(m) for m in messages]  # lazy translations included
    elif isinstance(messages, list):
        for index, value in enumerate(messages):
            if value:
                flat.update(flatten_errors(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        flat[prefix or "_"] = [str(messages)]
    return flat


def handle_api_error(error: Exception):
    """Every failure of an API request in the one shape; a 500 never leaks details."""
    db.session.rollback()
    if isinstance(error, DomainError):
        return error_response(error.status, error.message, error.errors)
    if isinstance(error, HTTPException):
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        messages = data.get("messages")
        if messages:
            return error_response(
                status, "The request is not valid: see errors.", flatten_errors(messages)
            )
        if status == 413:
            limit = current_app.config["MAX_CONTENT_LENGTH"]
            return error_response(
                status,
                f"The request body is larger than the {limit // (1024 * 1024)} MB this API "
                "accepts: send a smaller file.",
                {"body": [f"At most {limit} bytes."]},
            )
        return error_response(status, _message(status, error))
    return error_response(500, "An unexpected error happened on our side. It has been logged.")


def _message(status: int, error: HTTPException) -> str:
    if status == 404:
        return "No such resource."
    if status == 405:
        return "This method is not allowed here."
    return error.description or "The request failed."


#: Endpoints that take a password or a secret from the email without a token.
RATE_LIMITED_ENDPOINTS = (
    "api_tokens.create_token",
    "api_tokens.start_two_factor",
    "api_registrations.register",
    "api_registrations.confirm",
    "api_registrations.send_confirmation",
)


def current_person():
    return g.api_user


def init_api(app: Flask) -> None:
    from grants.api import (  # noqa: F401  (their routes)
        applications,
        assignments,
        associations,
        audit,
        auth,
        awards,
        bank_details,
        calls,
        conversations,
        docs,
        documents,
        duplicates,
        figures,
        finance,
        lifecycles,
        notifications,
        openapi,
        payments,
        people,
        questions,
        registrations,
        reports,
        resources,
        reviews,
        scheduler,
        search,
        tokens,
        webhooks,
    )

    app.config.setdefault("API_TITLE", "Diaspora Grants API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {
                "description": "Calls, applications, reviews, awards, tranches and reports "
                "of the programme. Authenticate with POST /api/v1/tokens, then send "
                "Authorization: Bearer <token>.",
            },
            "security": [{"bearer": []}],
        },
    )
    # One per app: the document describes the app it serves.
    api = GrantsApi(app, spec_kwargs={"extra_plugins": [openapi.OperationIds()]})
    app.extensions["api"] = api
    # The pages' error handlers answer API paths through this, without importing us.
    app.extensions["api_errors"] = SimpleNamespace(
        is_api_request=is_api_request, handle=handle_api_error
    )
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.register_field(Amount, "string", "decimal")
    from grants.routing import RecordId, openapi_schema

    api.register_converter(RecordId, openapi_schema)
    for blueprint in (
        tokens.blueprint,
        registrations.blueprint,
        resources.blueprint,
        documents.blueprint,
        conversations.blueprint,
    ):
        api.register_blueprint(blueprint, url_prefix=PREFIX)
        csrf.exempt(blueprint)
    openapi.finish(api.spec)
    app.register_blueprint(docs.blueprint)
    app.teardown_request(auth.record_use_after_request)
    # Guessing passwords (or signing up in bulk) through the API costs what it costs on
    # the login and sign-up pages.
    limiter = app.extensions["rate_limiter"]
    for endpoint in RATE_LIMITED_ENDPOINTS:
        app.view_functions[endpoint] = limiter.limit(
            app.config["LOGIN_RATE_LIMIT"], methods=["POST"], scope="authentication"
        )(app.view_functions[endpoint])
