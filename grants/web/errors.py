"""Error pages that cannot fail.

An error may leave the database session in a failed state (a flush that raised, a
commit the database refused), or the database may be away. Every error page therefore
rolls the session back first. It then renders the full page, unless the error came from
the database; when that fails too, it renders a standalone page in the site's style that
reads nothing from the database (no signed-in person, no count of notifications), and
when even that fails, a fixed page. A person always gets a styled page with a way back,
never the server's bare "Internal Server Error".
"""

from __future__ import annotations

import logging
from html import escape

from flask import Flask, current_app, g, jsonify, render_template, request, session
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_security import current_user
from flask_wtf.csrf import CSRFError, generate_csrf
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import Conflict, HTTPException, InternalServerError, ServiceUnavailable

from grants.database import is_connection_lost
from grants.extensions import db
from grants.services.errors import DomainError

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

#: The last resort: no template, no translation, no database.
FIXED_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Something went wrong · Diaspora Grants</title>
<link rel="stylesheet" href="{stylesheet}"></head>
<body><header class="site-header"><div class="bar">
<a class="brand" href="/">Diaspora Grants</a></div></header>
<main id="main"><h1>Something went wrong</h1>
<p>An unexpected error happened on our side. It has been logged; please try again later.</p>
<p><a href="/">Back to the home page</a></p></main></body></html>
"""


def from_database(error: BaseException | None) -> bool:
    """Whether the database is behind ``error`` (directly or as its cause)."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, SQLAlchemyError):
            return True
        if isinstance(error, InternalServerError) and error.original_exception is not None:
            error = error.original_exception
        else:
            error = error.__cause__ or error.__context__
        seen += 1
    return False


def rollback() -> None:
    """End the request's transaction, whatever state the session is in."""
    try:
        db.session.rollback()
    except Exception:
        log.exception("Rolling back after an error failed")


def reader_locale() -> str:
    """The reader's language as far as it is known without asking the database: the
    locale this request already chose, the signed-in person's if already loaded, the
    language switcher's, or the browser's."""
    from grants.models.accounts import LOCALES

    try:
        chosen = getattr(getattr(g, "_flask_babel", None), "babel_locale", None)
        if chosen is not None and str(chosen) in LOCALES:
            return str(chosen)
        person = getattr(g, "_login_user", None)
        loaded = getattr(person, "__dict__", {}).get("locale")  # never a lazy load
        if loaded in LOCALES:
            return loaded
        if session.get("locale") in LOCALES:
            return session["locale"]
        return request.accept_languages.best_match(LOCALES) or "en"
    except Exception:
        return "en"


def _texts(status: int, message: str | None, heading: str | None) -> tuple[str, str]:
    named, default = ERROR_TEXTS.get(status, ERROR_TEXTS[500])
    heading = named if status in ERROR_TEXTS or not heading else heading
    if status == 413:
        default = _l(
            "What you sent is larger than the %(mb)s MB this site accepts. Make the file "
            "smaller (for example, scan it at a lower resolution) and try again.",
            mb=current_app.config["MAX_UPLOAD_MB"],
        )
    return heading, message or default


def standalone_page(heading: str, message: str, locale: str) -> str:
    """The error page without the layout's database reads; the fixed page if even
    this cannot be rendered."""
    try:
        with force_locale(locale):
            return current_app.jinja_env.get_template("errors/standalone.html").render(
                heading=str(heading),
                message=str(message),
                current_locale=locale,
                text_direction="rtl" if locale == "ar" else "ltr",
            )
    except Exception:
        log.exception("The standalone error page failed; showing the fixed one")
        return FIXED_PAGE.format(stylesheet=escape(current_app.static_url_path + "/app.css"))


def error_page(
    status: int,
    message: str | None = None,
    error: BaseException | None = None,
    heading: str | None = None,
):
    """The page for an error of ``status``: the full page when it can be rendered, the
    standalone one otherwise (always when the database is behind the error)."""
    locale = reader_locale()  # before the rollback expires the signed-in person
    rollback()
    heading, text = _texts(status, message, heading)
    if not from_database(error):
        try:
            return render_template("errors/error.html", heading=heading, message=text), status
        except Exception:
            log.exception("The error page failed; showing the standalone one")
            rollback()
    return standalone_page(heading, text, locale), status


def register_error_pages(app: Flask) -> None:
    def _api_answer(error: Exception):
        """The API's own answer for requests under it (set by the API, when present)."""
        api = app.extensions.get("api_errors")
        if api is not None and api.is_api_request():
            try:
                return api.handle(error)
            except Exception:
                log.exception("The API's error answer failed")
                rollback()
                return {
                    "code": "server_error",
                    "message": "An unexpected error happened on our side. It has been logged.",
                    "errors": {},
                }, 500
        return None

    @app.errorhandler(OperationalError)
    @app.errorhandler(DisconnectionError)
    @app.errorhandler(InterfaceError)
    def _database_connection_lost(error: Exception):
        """A lost database connection is an outage, not a bug: 503 with ``Retry-After``
        (the pool reconnects on the next request). Any other database error goes to the
        handler of unexpected errors."""
        if not is_connection_lost(error):
            return _unexpected(error)
        log.warning("Database connection lost on %s %s: %s", request.method, request.path, error)
        rollback()
        unavailable = ServiceUnavailable("The database is unavailable; try again shortly.")
        answer = _api_answer(unavailable)
        if answer is None:
            answer = error_page(503, error=error)
        answer = current_app.make_response(answer)
        answer.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return answer

    @app.errorhandler(StaleDataError)
    def _stale_write(error: StaleDataError):
        """Two saves of one version at once: both passed the version check, the database
        kept the first. The second is told the record changed, as a stale version is."""
        log.info("Stale write on %s %s: %s", request.method, request.path, error)
        return _http_error(Conflict(str(ERROR_TEXTS[409][1])))

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError):
        if (answer := _api_answer(error)) is not None:
            return answer
        return error_page(error.status, error.message, error)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        expired = _l(
            "The form expired or was sent from elsewhere. "
            "Go back, reload the page and submit it again."
        )
        if "X-Requested-With" in request.headers and request.accept_mimetypes.best == (
            "application/json"
        ):
            # A page's script saving in the background (the application form's autosave):
            # signed out, the person is asked to sign in again; signed in, the page's token
            # only aged, and the script sends again with a fresh one.
            if not current_user.is_authenticated:
                return jsonify(message=str(_l("Sign in again"))), 401
            return jsonify(message=str(expired), csrf_token=generate_csrf()), 400
        return error_page(400, expired, error)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if (answer := _api_answer(error)) is not None:
            return answer
        if error.code in ERROR_TEXTS:
            own = error.description if getattr(error, "shows_description", False) else None
            return error_page(error.code, own, error=error)
        if error.code and error.code >= 400:  # rarer ones, in the server's own words
            return error_page(error.code, error.description, error, heading=error.name)
        rollback()
        return error

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        if app.testing and not app.config.get("TEST_ERROR_PAGES"):
            raise error
        log.exception("Unhandled error on %s %s", request.method, request.path)
        if (answer := _api_answer(error)) is not None:
            return answer
        return error_page(500, error=error)
