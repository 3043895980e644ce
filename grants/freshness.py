"""A fresh confirmation of who is acting, before the actions that move money or power.

Approving or paying a tranche, asking for or deciding a change of the bank details,
granting a role, creating an API token (and any later action that hands out personal
data) ask the person to confirm their identity again when their last confirmation (the
sign-in, or the confirmation page) is older than ``REAUTHENTICATE_AFTER_MINUTES``.

On the pages this is Flask-Security's freshness (``fs_paa`` in the session, refreshed by
``/verify`` with a password, a passkey or an authenticator code); its grace period is
zero, so being busy does not stretch the window. The person is sent to the confirmation
page and comes back to the form they were on.

On the API a token is fresh for the same minutes after it was issued (issuing one takes
the password and second factor); an older token is fresh for one request that carries
the code of the person's authenticator app in ``X-Second-Factor-Code``. Otherwise the
answer is 401 and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, flash, g, redirect, request
from flask_babel import gettext as _
from flask_security import current_user, url_for_security
from flask_security.utils import check_and_update_authn_fresh
from werkzeug.wrappers import Response

from grants.orm import utcnow
from grants.security import safe_next
from grants.services.errors import DomainError

#: The header that carries an authenticator code to make an older API token fresh.
SECOND_FACTOR_HEADER = "X-Second-Factor-Code"

#: Transitions that ask for a fresh confirmation, by the type of their record.
FRESH_TRANSITIONS: dict[str, frozenset[str]] = {"tranche": frozenset({"approve", "pay"})}


def window() -> timedelta:
    """How long a confirmation of identity stays fresh."""
    return timedelta(minutes=current_app.config["REAUTHENTICATE_AFTER_MINUTES"])


def needs_fresh(entity_type: str, transition: str) -> bool:
    return transition in FRESH_TRANSITIONS.get(entity_type, ())


# --- pages ---------------------------------------------------------------------------


def session_is_fresh() -> bool:
    """Whether the signed-in person confirmed their identity within the window."""
    return check_and_update_authn_fresh(window(), timedelta(0))


def _form_page() -> str:
    """Where the person was when they sent the form: its ``next`` field, else the page
    that sent it (the same site only), else the page itself for a GET."""
    if request.method == "GET":
        return safe_next(request.full_path.rstrip("?"))
    if target := safe_next(request.form.get("next"), fallback=""):
        return target
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path:
        query = f"?{referrer.query}" if referrer.query else ""
        return safe_next(referrer.path + query)
    return "/"


def confirm_identity_first() -> Response:
    """Send the person to the confirmation page; it brings them back to their form."""
    flash(
        _(
            "For your safety, confirm it is you before this action: your last "
            "confirmation is more than %(minutes)d minutes old. Then send the form again.",
            minutes=current_app.config["REAUTHENTICATE_AFTER_MINUTES"],
        ),
        "info",
    )
    return redirect(url_for_security("verify", next=_form_page()), code=303)


def unless_fresh() -> Response | None:
    """``None`` when the session is fresh; otherwise the answer that asks to confirm.

    For views where only some actions need it (``if (answer := unless_fresh()): …``)."""
    if current_user.is_authenticated and session_is_fresh():
        return None
    return confirm_identity_first()


def fresh_required(view: Callable) -> Callable:
    """The view runs only for a person who confirmed their identity within the window.

    Goes under ``role_required``/``login_required``: who may open the page is decided
    first, then how recently they proved who they are."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        if (answer := unless_fresh()) is not None:
            return answer
        return view(*args, **kwargs)

    return wrapper


def reauthentication_handler(within: timedelta, grace: timedelta) -> Response:
    """Flask-Security's own pages (two-factor set-up, passkeys, password change) ask the
    same way, and a form sent with POST comes back to its page, not to the POST."""
    from flask_security.decorators import default_reauthn_handler

    if request.method == "GET" or request.is_json:
        return default_reauthn_handler(within, grace)
    return confirm_identity_first()


# --- API -----------------------------------------------------------------------------


class StaleToken(DomainError):
    """The token is older than the window and no second-factor code came with it."""

    status = 401


def require_fresh_token() -> None:
    """Refuse (401) an API action that needs a fresh confirmation unless the token was
    issued within the window or the request carries a right authenticator code."""
    from grants.api.auth import authenticate
    from grants.extensions import security

    person = authenticate()
    issued = g.get("api_token_issued")
    if issued is not None and utcnow() - issued < window():
        return
    code = request.headers.get(SECOND_FACTOR_HEADER, "").strip()
    minutes = current_app.config["REAUTHENTICATE_AFTER_MINUTES"]
    if not code:
        raise StaleToken(
            f"This action needs a fresh confirmation of who you are: your token is more "
            f"than {minutes} minutes old. Send the current code of your authenticator app "
            f"in the {SECOND_FACTOR_HEADER} header, or get a new token from POST "
            f"/api/v1/tokens.",
            {SECOND_FACTOR_HEADER: ["Required for this action with a token this old."]},
        )
    secret = person.tf_totp_secret if person.tf_primary_method else None
    if not secret or not security.totp_factory.verify_totp(
        token=code, totp_secret=secret, user=person, window=1
    ):
        raise StaleToken(
            f"The code in {SECOND_FACTOR_HEADER} is not right (or was already used): send "
            "the current code of your authenticator app, or get a new token from "
            "POST /api/v1/tokens.",
            {SECOND_FACTOR_HEADER: ["Not the current code of your authenticator app."]},
        )
