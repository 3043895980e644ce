"""The HTML side: blueprints of thin views, template helpers and error pages."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime
from decimal import Decimal

from babel.dates import format_datetime as babel_format_datetime
from flask import Flask, current_app, make_response, render_template, request, url_for
from flask_babel import (
    format_currency,
    format_decimal,
    format_timedelta,
    get_locale,
    get_timezone,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, ServiceUnavailable

from grants.database import is_connection_lost
from grants.extensions import db
from grants.labels import (
    LEDGER_KIND_LABELS,
    RECOMMENDATION_LABELS,
    REPORT_KIND_LABELS,
    ROLE_LABELS,
    SECTION_LABELS,
    SECTOR_LABELS,
    state_label,
    transition_label,
)
from grants.numbers import as_typed
from grants.orm import utcnow
from grants.reference import country_name, language_names
from grants.services.errors import DomainError
from workflows.base import SYSTEM

log = logging.getLogger(__name__)

#: What a 503 for a lost database connection asks clients to wait, in seconds.
RETRY_AFTER_SECONDS = 5

ERROR_TEXTS = {
    400: (_l("Bad request"), _l("The request could not be understood.")),
    403: (_l("Not allowed"), _l("Your account does not give access to this page.")),
    404: (_l("Not found"), _l("This page does not exist, or it is not yours to see.")),
    405: (_l("Not allowed"), _l("This address does not accept that kind of request.")),
    409: (
        _l("Changed meanwhile"),
        _l("Someone changed this in the meantime. Reload the page and try again."),
    ),
    413: (_l("File too large"), None),
    422: (_l("Cannot be done"), _l("The request was understood but cannot be carried out.")),
    429: (
        _l("Too many attempts"),
        _l("Too many attempts in a short time. Wait a minute, then try again."),
    ),
    503: (
        _l("Temporarily unavailable"),
        _l("A service this page needs is unavailable. Please try again in a few minutes."),
    ),
    500: (
        _l("Something went wrong"),
        _l("An unexpected error happened on our side. It has been logged; please try again later."),
    ),
}


def _person_name(user_id: int | None) -> str:
    if user_id is None:
        return ""
    from grants.models.accounts import User

    person = db.session.get(User, user_id)
    return person.display_name if person else ""


def money(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return "—"
    return format_currency(amount, currency)


def time_left(moment: datetime | None) -> str:
    if moment is None:
        return ""
    delta = moment - utcnow()
    if delta.total_seconds() <= 0:
        return _("closed")
    return _("%(left)s left", left=format_timedelta(delta, threshold=1.1))


def deadline(call) -> str:
    """The deadline in the reader's time zone, with the call's own zone stated."""
    if call.closes_at is None:
        return _("not set")
    reader = babel_format_datetime(
        call.closes_at, "medium", tzinfo=get_timezone(), locale=get_locale()
    )
    if str(get_timezone()) == call.timezone:
        return f"{reader} ({call.timezone})"
    own = babel_format_datetime(call.closes_at, "short", tzinfo=call.timezone, locale=get_locale())
    return _("%(reader)s (%(own)s in %(zone)s)", reader=reader, own=own, zone=call.timezone)


def _unread() -> int:
    from flask_security import current_user

    from notifications.outbox import unread_count

    return unread_count(current_user.id) if current_user.is_authenticated else 0


def page_url(page: int) -> str:
    args = {**(request.view_args or {}), **request.args.to_dict(), "page": page}
    return url_for(request.endpoint, **args)


def _error_page(status: int, message: str | None = None):
    heading, default = ERROR_TEXTS.get(status, ERROR_TEXTS[500])
    if status == 413:
        default = _(
            "What you sent is larger than the %(mb)s MB this site accepts. Make the file "
            "smaller (for example, scan it at a lower resolution) and try again.",
            mb=current_app.config["MAX_UPLOAD_MB"],
        )
    return render_template("errors/error.html", heading=heading, message=message or default), status


def register_web(app: Flask) -> None:
    from grants.web import (
        account,
        admin,
        applications,
        assignments,
        associations,
        awards,
        calls,
        dashboards,
        exports,
        files,
        inbox,
        lifecycles,
        opendata,
        public,
        reviews,
        transitions,
    )

    modules = (
        public,
        account,
        associations,
        applications,
        calls,
        assignments,
        reviews,
        awards,
        admin,
        dashboards,
        exports,
        files,
        inbox,
        lifecycles,
        opendata,
        transitions,
    )
    for module in modules:
        app.register_blueprint(module.blueprint)
    app.register_blueprint(assignments.ranking_blueprint)
    from grants.web import weight

    weight.init_app(app)

    app.jinja_env.globals.update(
        money=money,
        time_left=time_left,
        deadline=deadline,
        page_url=page_url,
        state_label=state_label,
        transition_label=transition_label,
        recommendation_label=lambda value: RECOMMENDATION_LABELS.get(value, value),
        sector_label=lambda sector: SECTOR_LABELS.get(sector, sector),
        role_label=lambda role: ROLE_LABELS.get(role, role),
        unread_notifications=_unread,
        report_kind_label=lambda kind: REPORT_KIND_LABELS.get(kind, kind),
        ledger_kind_label=lambda kind: LEDGER_KIND_LABELS.get(kind, kind),
        person_name=_person_name,
        waited=lambda moment: format_timedelta(utcnow() - moment, threshold=1.1),
        section_label=lambda section: SECTION_LABELS.get(section, section),
    )
    from grants.banking import format_iban

    app.jinja_env.filters["iban"] = format_iban
    app.jinja_env.filters["typed"] = as_typed
    app.jinja_env.filters["decimal"] = lambda value: format_decimal(value, format="#,##0.######")
    app.jinja_env.filters["country"] = lambda code: country_name(code, str(get_locale()))
    app.jinja_env.filters["language"] = lambda code: language_names(str(get_locale())).get(
        code, code
    )
    app.jinja_env.filters["role_label"] = lambda role: ROLE_LABELS.get(role, role)
    # Timed transitions and ledger entries of no person are stored as "system".
    app.jinja_env.filters["actor"] = lambda label: _("the system") if label == SYSTEM else label
    app.jinja_env.filters["extension"] = lambda kind: "." + {"jpeg": "jpg"}.get(kind, kind)

    def _api_answer(error: Exception):
        """The API's own answer for requests under it (set by the API, when present)."""
        api = app.extensions.get("api_errors")
        if api is not None and api.is_api_request():
            return api.handle(error)
        return None

    @app.errorhandler(OperationalError)
    @app.errorhandler(DisconnectionError)
    @app.errorhandler(InterfaceError)
    def _database_connection_lost(error: Exception):
        """A lost database connection is an outage, not a bug: 503 with ``Retry-After``
        (the pool reconnects on the next request). Any other database error goes to the
        handler of unexpected errors."""
        if not is_connection_lost(error):
            generic = app.error_handler_spec[None][None].get(Exception)
            if generic is None:
                raise error
            return generic(error)
        log.warning("Database connection lost on %s %s: %s", request.method, request.path, error)
        with contextlib.suppress(Exception):
            db.session.rollback()
        unavailable = ServiceUnavailable("The database is unavailable; try again shortly.")
        answer = _api_answer(unavailable)
        if answer is None:
            try:
                answer = make_response(_error_page(503))
            except Exception:  # the page itself may need the database
                with contextlib.suppress(Exception):
                    db.session.rollback()
                answer = make_response(
                    (str(ERROR_TEXTS[503][1]), 503, {"Content-Type": "text/plain"})
                )
        answer.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return answer

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        if (answer := _api_answer(error)) is not None:
            return answer
        return _error_page(error.status, error.message)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        return _error_page(
            400,
            _(
                "The form expired or was sent from elsewhere. "
                "Go back, reload the page and submit it again."
            ),
        )

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if (answer := _api_answer(error)) is not None:
            return answer
        if error.code in ERROR_TEXTS:
            return _error_page(error.code)
        return error

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if app.testing and not app.config.get("TEST_ERROR_PAGES"):
            raise error
        log.exception("Unhandled error on %s %s", request.method, request.path)
        if (answer := _api_answer(error)) is not None:
            return answer
        return _error_page(500)
