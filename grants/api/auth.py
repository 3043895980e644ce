"""Bearer authentication for the API: the token, never the session cookie."""

from __future__ import annotations

from flask import g, request

from grants.services.accounts import user_for_token
from grants.services.errors import DomainError


class Unauthenticated(DomainError):
    status = 401


def authenticate():
    """The person behind ``Authorization: Bearer <token>``; 401 without a usable one."""
    if getattr(g, "api_user", None) is not None:
        return g.api_user
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(
            "Send Authorization: Bearer <token>; get a token from POST /api/v1/tokens."
        )
    user = user_for_token(token.strip())
    if user is None or not user.active:
        raise Unauthenticated("The token is unknown, expired or revoked.")
    g.api_user = user
    return user
