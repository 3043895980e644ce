"""Authentication and the security envelope of every response.

Flask-Security provides sign-up with email confirmation, login, password reset and
change, and two-factor (TOTP with recovery codes); this module configures it, adds the
rate limits on the endpoints that guess passwords or codes, and sets the headers.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from functools import cache
from urllib.parse import unquote, urlsplit

from flask import Flask, Response, request, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_security import (
    SQLAlchemyUserDatastore,
    current_user,
    password_changed,
    password_reset,
    tf_code_confirmed,
    tf_disabled,
    tf_profile_changed,
    user_authenticated,
    user_failed_authn,
    user_registered,
    wan_deleted,
    wan_registered,
)
from sqlalchemy import Select, bindparam, func, select
from werkzeug.datastructures import ImmutableMultiDict, MultiDict

from grants.extensions import db, security
from grants.models import PERSON, Passkey, Role, User
from grants.orm import utcnow
from grants.roles import APPLICANT
from grants.services import audit

#: Endpoints where a burst of guesses is refused with 429.
RATE_LIMITED_ENDPOINTS = (
    "security.login",
    "security.forgot_password",
    "security.reset_password",
    "security.two_factor_token_validation",
    "security.mf_recovery",
    "security.verify",
    "security.wan_signin",
    "security.wan_signin_response",
    "security.wan_verify",
    "security.wan_verify_response",
    "security.send_confirmation",
    "security.register",
)

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def safe_next(target: str | None, fallback: str = "/") -> str:
    """``target`` when it is a path on this site, else ``fallback``.

    Every place to return to that comes from the request (``next``, a referrer) goes
    through here. Browsers are lenient: they read a backslash as a slash, drop tabs and
    line breaks (so ``/<tab>/host`` is ``//host``), and some decode ``%2F`` and ``%5C``;
    so the target is checked as sent and at each level of percent-decoding, and refused
    when any form could leave the site.
    """
    if not target or not isinstance(target, str) or len(target) > 2048:
        return fallback
    seen, form = set(), target
    while form not in seen:
        seen.add(form)
        if not _is_local_path(form):
            return fallback
        form = unquote(form)
    return target


def _is_local_path(target: str) -> bool:
    if any(ord(c) < 32 or ord(c) == 127 for c in target):
        return False
    path = target.split("?", 1)[0].split("#", 1)[0]
    if any(c.isspace() for c in path):
        return False
    if not path.startswith("/") or path.startswith(("//", "/\\")) or "\\" in path:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def _derived(secret: str, purpose: str) -> str:
    """A key for one purpose, derived from SECRET_KEY so one secret is enough."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()


class PersonDatastore(SQLAlchemyUserDatastore):
    """Finds a person with their roles and memberships in one statement: every page asks
    for both, and loading them one by one cost two more round trips per request."""

    def find_user(self, case_insensitive: bool = False, **kwargs):
        ((name, value),) = kwargs.items()
        statement = _person_by(name, case_insensitive)
        return db.session.scalars(statement, {"value": value}).unique().first()


@cache
def _person_by(name: str, case_insensitive: bool) -> Select:
    """The statement finding a person by one column, built once with the value bound on
    each use: every signed-in request runs it, and building it and its cache key again
    cost about as much as its round trip."""
    column, value = getattr(User, name), bindparam("value")
    condition = func.lower(column) == func.lower(value) if case_insensitive else column == value
    return select(User).options(*PERSON).where(condition)


def typed_email() -> str:
    """The address typed on a login form or sent as JSON to it, as typed."""
    typed = request.form.get("email")
    if typed is None and request.is_json:
        body = request.get_json(silent=True)
        typed = body.get("email") if isinstance(body, dict) else None
    return str(typed or "").strip()


def _audit_authentication(app: Flask) -> None:
    """Sign-ins, refused credentials and changes of password or second factor leave an
    audit row. A refused login is appended (``audit.append``): its answer may roll the
    request back, its row stays."""

    @user_authenticated.connect_via(app)
    def _signed_in(sender, user, authn_via=None, **extra):
        via = list(authn_via or [])
        if via == ["change"]:
            return  # the session renewed after a password change, recorded as such
        audit.record(user, "login.succeeded", ("user", user.id), note=", ".join(via))

    @user_failed_authn.connect_via(app)
    def _refused(sender, user, auth_type="", tfa=False, **extra):
        note = f"{auth_type} (second factor)" if tfa else auth_type
        audit.append(
            None, "login.failed", ("user", user.id), note=note, email=typed_email() or user.email
        )

    def _own_change(kind: str):
        def handler(sender, user, **extra):
            signed_in = current_user and current_user.is_authenticated
            audit.record(current_user if signed_in else user, kind, ("user", user.id))

        return handler

    for signal, kind in (
        (password_changed, "password.changed"),
        (password_reset, "password.reset"),
        (tf_disabled, "second_factor.disabled"),
    ):
        signal.connect(_own_change(kind), app, weak=False)

    @tf_profile_changed.connect_via(app)
    def _second_factor(sender, user, method=None, **extra):
        audit.record(user, "second_factor.changed", ("user", user.id), {"method": [None, method]})

    @wan_registered.connect_via(app)
    def _passkey_added(sender, user, name="", **extra):
        audit.record(user, "passkey.added", ("user", user.id), note=name)

    @wan_deleted.connect_via(app)
    def _passkey_removed(sender, user, name="", **extra):
        audit.record(user, "passkey.removed", ("user", user.id), note=name)

    @tf_code_confirmed.connect_via(app)
    def _first_second_factor(sender, user, method=None, **extra):
        """A second factor set up while signing in (the role requires one) is confirmed
        through the sign-in's own step; an ordinary code at sign-in is not a change."""
        if session.get("tf_state") == "validating_profile":
            _second_factor(sender, user, method)


def init_app(app: Flask) -> None:
    from forms.accounts import ConfirmIdentityForm, LoginForm, SignUpForm
    from grants.freshness import reauthentication_handler

    secret = app.config["SECRET_KEY"]
    defaults = {
        "SECURITY_PASSWORD_HASH": "argon2",
        "SECURITY_PASSWORD_SALT": _derived(secret, "password-salt"),
        "SECURITY_TOTP_SECRETS": {"1": _derived(secret, "totp")},
        "SECURITY_TOTP_ISSUER": "Diaspora Grants",
        "SECURITY_REGISTERABLE": True,
        "SECURITY_CONFIRMABLE": True,
        "SECURITY_RECOVERABLE": True,
        "SECURITY_CHANGEABLE": True,
        "SECURITY_TRACKABLE": True,
        "SECURITY_TWO_FACTOR": True,
        "SECURITY_TWO_FACTOR_ENABLED_METHODS": ["authenticator"],
        "SECURITY_MULTI_FACTOR_RECOVERY_CODES": True,
        "SECURITY_PASSWORD_LENGTH_MIN": 10,
        "SECURITY_PASSWORD_COMPLEXITY_CHECKER": "zxcvbn",
        "SECURITY_ZXCVBN_MINIMUM_SCORE": 3,
        "SECURITY_PASSWORD_CHECK_BREACHED": False,
        "SECURITY_EMAIL_VALIDATOR_ARGS": {"check_deliverability": False},
        "SECURITY_RETURN_GENERIC_RESPONSES": True,
        "SECURITY_EMAIL_SENDER": app.config["MAIL_DEFAULT_SENDER"],
        "SECURITY_EMAIL_SUBJECT_REGISTER": "Welcome to Diaspora Grants: confirm your email",
        "SECURITY_POST_LOGIN_VIEW": "/",
        "SECURITY_POST_LOGOUT_VIEW": "/",
        "SECURITY_POST_CONFIRM_VIEW": "/",
        "SECURITY_LOGIN_WITHOUT_CONFIRMATION": False,
        "SECURITY_CSRF_IGNORE_UNAUTH_ENDPOINTS": False,
        "SECURITY_I18N_DIRNAME": ["builtin"],
        # Aware UTC times, like every other timestamp of the product.
        "SECURITY_DATETIME_FACTORY": utcnow,
        # A confirmation of identity is fresh for this long, and being busy does not
        # stretch it (no grace period): see ``grants.freshness``.
        "SECURITY_FRESHNESS": timedelta(minutes=app.config["REAUTHENTICATE_AFTER_MINUTES"]),
        "SECURITY_FRESHNESS_GRACE_PERIOD": timedelta(0),
        # Passkeys for everyone: to sign in without a password, or as the second factor
        # (recovery codes remain); each also confirms identity before a sensitive action.
        "SECURITY_WEBAUTHN": True,
        "SECURITY_WAN_RP_NAME": "Diaspora Grants",
        "SECURITY_WAN_ALLOW_AS_FIRST_FACTOR": True,
        "SECURITY_WAN_ALLOW_AS_MULTI_FACTOR": True,
        "SECURITY_WAN_ALLOW_AS_VERIFY": ["first", "secondary"],
        "SECURITY_WAN_REGISTER_URL": "/account/passkeys",
        "SECURITY_WAN_SIGNIN_URL": "/login/passkey",
        "SECURITY_WAN_DELETE_URL": "/account/passkeys/delete",
        "SECURITY_WAN_VERIFY_URL": "/verify/passkey",
        # The staff's single sign-on (``grants.sign_on``), when an issuer is set.
        "SECURITY_OAUTH_ENABLE": bool(app.config["SSO_ISSUER"]),
        "SECURITY_OAUTH_BUILTIN_PROVIDERS": [],
        "SECURITY_WAN_REGISTER_WITHIN": timedelta(
            minutes=app.config["REAUTHENTICATE_AFTER_MINUTES"]
        ),
    }
    for key, value in defaults.items():
        app.config.setdefault(key, value)

    datastore = PersonDatastore(db, User, Role, webauthn_model=Passkey)
    security.init_app(
        app,
        datastore,
        register_form=SignUpForm,
        login_form=LoginForm,
        verify_form=ConfirmIdentityForm,
        reauthn_handler=reauthentication_handler,
    )

    from grants import sign_on

    sign_on.init_app(app, security)

    # One limiter per app: Flask-Limiter keeps its storage on the instance, so a shared
    # module-level limiter would let one app's settings leak into another's.
    limiter = Limiter(key_func=get_remote_address, default_limits=[], app=app)
    app.extensions["rate_limiter"] = limiter
    limit = app.config["LOGIN_RATE_LIMIT"]
    for endpoint in RATE_LIMITED_ENDPOINTS:
        view = app.view_functions.get(endpoint)
        if view is not None:
            app.view_functions[endpoint] = limiter.limit(
                limit, methods=["POST"], scope="authentication"
            )(view)

    @user_registered.connect_via(app)
    def _new_members_are_applicants(sender, user, **extra):
        """Everyone who signs up does so for an association: they start as applicants."""
        from grants.services.accounts import ensure_roles

        if APPLICANT not in user.role_names:
            user.roles.append(ensure_roles()[APPLICANT])

    _audit_authentication(app)

    @app.before_request
    def _local_next_only() -> None:
        """Flask-Security's pages read ``next`` from the query and the form. One that
        ``safe_next`` refuses is dropped before they see it, so they go to their usual
        page, as ours do."""
        if request.blueprint != "security":
            return
        for source in ("args", "form"):
            values = getattr(request, source)
            targets = values.getlist("next")
            if any(safe_next(target, fallback="") != target for target in targets):
                kept = MultiDict(values)
                kept.poplist("next")
                setattr(request, source, ImmutableMultiDict(kept))

    every_response = [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ]
    if app.config["PRODUCTION"]:
        every_response.append(("Strict-Transport-Security", "max-age=31536000"))
    every_document = [
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("X-Frame-Options", "DENY"),
        ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
        *every_response,
    ]

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        if 300 <= response.status_code < 400 and "Location" in headers:
            # A redirect shows no document: its "Redirecting..." page and the policies of
            # documents are bytes a slow phone waits for before the next page (≈0.2 s).
            response.set_data(b"")
            headers.remove("Content-Type")
            headers.remove("Content-Encoding")
            defaults = every_response
        else:
            defaults = every_document
        # Each header a view did not set itself (``Headers.setdefault`` would search
        # the headers twice and raise and catch an error for each).
        present = {name.lower() for name, _ in headers}
        for name, value in defaults:
            if name.lower() not in present:
                headers.add(name, value)
        return response


def limit_only_where_declared(app: Flask) -> None:
    """Drop the rate limiter's check before every request when it has nothing to check.

    Each of our limits is declared on the view it guards (``limiter.limit`` wraps the
    view, and the wrapper checks it), so that hook only found out, on every request,
    that no limit covers the whole site. Kept when one does: limits set for every route,
    for a blueprint or in the configuration (``RATELIMIT_DEFAULT``, ``RATELIMIT_APPLICATION``,
    ``RATELIMIT_META``, an in-memory fallback). Called once every view is registered."""
    limiter = app.extensions["rate_limiter"]
    manager = limiter.limit_manager
    if (
        manager.application_limits
        or manager.default_limits
        or manager._blueprint_limits
        or limiter._meta_limits
        or limiter._in_memory_fallback
    ):
        return
    app.before_request_funcs[None].remove(limiter._check_request_limit)
