"""Bearer authentication for the API: the token, never the session cookie."""

from __future__ import annotations

import logging

from flask import g, request
from sqlalchemy.exc import SQLAlchemyError

from grants.extensions import db
from grants.orm import utcnow
from grants.services.accounts import record_token_use, token_use_due, usable_token
from grants.services.errors import DomainError

log = logging.getLogger(__name__)


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
    now = utcnow()
    row = usable_token(token.strip(), now)
    if row is None or not row.user.active:
        raise Unauthenticated("The token is unknown, expired or revoked.")
    if token_use_due(row, now):
        g.token_use = (row.id, now)
    g.api_user = row.user
    #: When the token was issued: it counts as a fresh confirmation for a while
    #: (``grants.freshness``).
    g.api_token_issued = row.created_at
    return row.user


def record_use_after_request(error: BaseException | None) -> None:
    """Teardown: the token's use, written after the request's own transaction ended."""
    use = g.pop("token_use", None)
    if use is None or error is not None:
        return
    try:
        record_token_use(*use)
    except SQLAlchemyError:
        db.session.rollback()
        log.info("token %s: use not recorded (row busy); the next use records it", use[0])
