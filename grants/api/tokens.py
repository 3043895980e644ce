"""``POST /api/v1/tokens``: email, password (and the two-factor code) for a bearer token;
``GET`` lists the caller's tokens and ``DELETE /tokens/<id>`` revokes one. As on the login
page, an address must be confirmed before it gets a token."""

from __future__ import annotations

from flask import g, request
from flask_security.confirmable import requires_confirmation
from flask_security.utils import verify_password
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from grants.api.auth import Unauthenticated, authenticate
from grants.api.schemas import ApiErrorSchema, TokenRequest, TokenSchema
from grants.extensions import db, security
from grants.services import accounts
from grants.services.errors import Forbidden

blueprint = Blueprint("api_tokens", __name__, description="Bearer tokens")


@blueprint.before_request
def _authenticate_except_login():
    if request.endpoint != "api_tokens.create_token":
        authenticate()


WRONG = "The email, password or two-factor code is not right."


def _checked_credentials(body: dict):
    """The person behind an email and password, as the login page finds them: the same
    answer for an unknown address and a wrong password; an unconfirmed address is named
    only to whoever gave the right password."""
    user = accounts.find_user(body["email"])
    if user is None or not user.active or not user.password:
        raise Unauthenticated(WRONG)
    if not verify_password(body["password"], user.password):
        raise Unauthenticated(WRONG)
    if requires_confirmation(user):
        raise Forbidden(
            "Confirm your email address first: follow the link in the email we sent, or "
            "send its token to POST /api/v1/registrations/confirmation."
        )
    return user


class TokenInfo(Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime()
    last_used_at = fields.AwareDateTime(allow_none=True)
    revoked_at = fields.AwareDateTime(allow_none=True)


@blueprint.route("/tokens", methods=["POST"])
@blueprint.arguments(TokenRequest)
@blueprint.response(201, TokenSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema, description="wrong email, password or code")
@blueprint.alt_response(403, schema=ApiErrorSchema, description="email address not confirmed")
@blueprint.doc(security=[])
def create_token(body):
    """Exchange credentials for a token (shown once; only its hash is kept)."""
    user = _checked_credentials(body)
    if user.tf_primary_method or user.requires_two_factor():
        code = (body.get("code") or "").strip()
        if not user.tf_totp_secret or not code:
            raise Unauthenticated("Give the two-factor code of your authenticator app as code.")
        if not security.totp_factory.verify_totp(
            token=code, totp_secret=user.tf_totp_secret, user=user, window=1
        ):
            raise Unauthenticated(WRONG)
    token = accounts.issue_token(user, body["name"], body["days"])
    row = accounts.user_tokens(user)[0]
    db.session.flush()
    return {"token": token, "expires_at": row.expires_at}


@blueprint.route("/tokens", methods=["GET"])
@blueprint.response(200, TokenInfo(many=True))
def list_tokens():
    """The caller's tokens (never the secrets)."""
    authenticate()
    return accounts.user_tokens(g.api_user)


@blueprint.route("/tokens/<int:token_id>", methods=["DELETE"])
@blueprint.response(204)
def revoke_token(token_id: int):
    """Revoke one of the caller's tokens."""
    authenticate()
    accounts.revoke_token(g.api_user, token_id)
    db.session.flush()
