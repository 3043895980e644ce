"""The organisation's OpenID Connect sign-in, plugged into Flask-Security's OAuth
support (Authlib does the protocol: discovery, the code exchange, the ID token's
signature, issuer, audience and nonce). Who may come in is decided by
``services.single_sign_on``; a refusal comes back to the login page with its reason."""

from __future__ import annotations

from typing import Any

from authlib.integrations.base_client.errors import OAuthError
from flask import Flask, flash, redirect
from flask_security import url_for_security
from flask_security.oauth_provider import FsOAuthProvider

from grants.services.single_sign_on import SignOnRefused, staff_email

#: The provider's name in Flask-Security's routes (/login/oauthstart/staff).
PROVIDER = "staff"


class Refused(OAuthError):
    """A refusal with a sentence for the person, not a protocol error."""


class StaffSignOn(FsOAuthProvider):
    def __init__(self, app: Flask):
        issuer = app.config["SSO_ISSUER"]
        super().__init__(
            PROVIDER,
            registration_info={
                "client_id": app.config["SSO_CLIENT_ID"],
                "client_secret": app.config["SSO_CLIENT_SECRET"] or None,
                "server_metadata_url": f"{issuer}/.well-known/openid-configuration",
                "client_kwargs": {"scope": "openid email profile"},
            },
        )

    def fetch_identity_cb(self, oauth: Any, token: Any) -> tuple[str, Any]:
        claims = token.get("userinfo") or {}
        try:
            return "email", staff_email(claims)
        except SignOnRefused as refused:
            raise Refused(error="refused", description=refused.message) from None

    def oauth_response_failure(self, error_view: str, e: OAuthError):
        if isinstance(e, Refused):
            flash(e.description, "error")
            return redirect(url_for_security("login"))
        return super().oauth_response_failure(error_view, e)


def init_app(app: Flask, security: Any) -> None:
    """Register the organisation's sign-in when ``SSO_ISSUER`` is set."""
    if app.config["SSO_ISSUER"] and security.oauthglue is not None:
        security.oauthglue.register_provider_ext(StaffSignOn(app))
