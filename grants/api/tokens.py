"""``POST /api/v1/tokens``: email, password (and the two-factor code) for a bearer token;
``GET`` lists the caller's tokens and ``DELETE /tokens/<id>`` revokes one. As on the login
page, an address must be confirmed before it gets a token. ``POST /tokens/two-factor``
sets up an authenticator app for people whose role needs one, without the browser."""

from __future__ import annotations

from flask import g, request
from flask_security.confirmable import requires_confirmation
from flask_security.utils import verify_password
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from grants.api.auth import Unauthenticated, authenticate
from grants.api.schemas import (
    ApiErrorSchema,
    PageArgs,
    TokenRequest,
    TokenSchema,
    page_of,
    page_schema,
)
from grants.extensions import db, security
from grants.services import accounts
from grants.services.errors import Forbidden

blueprint = Blueprint("api_tokens", __name__, description="Bearer tokens")


@blueprint.before_request
def _authenticate_except_login():
    if request.endpoint not in ("api_tokens.create_token", "api_tokens.start_two_factor"):
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


class TwoFactorRequest(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, validate=validate.Length(min=1, max=500))


class TwoFactorSetupSchema(Schema):
    secret = fields.String(
        required=True, metadata={"description": "the key to type into the authenticator app"}
    )
    otpauth_uri = fields.String(
        required=True, metadata={"description": "the same key as an otpauth:// address"}
    )


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
    accounts.pass_second_factor(user, body.get("code"), WRONG)
    token = accounts.issue_token(user, user, body["name"], body["days"])
    row = accounts.user_tokens(user)[0]
    db.session.flush()
    return {"token": token, "expires_at": row.expires_at}


@blueprint.route("/tokens/two-factor", methods=["POST"])
@blueprint.arguments(TwoFactorRequest)
@blueprint.response(201, TwoFactorSetupSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema, description="wrong email or password")
@blueprint.alt_response(403, schema=ApiErrorSchema, description="email address not confirmed")
@blueprint.alt_response(409, schema=ApiErrorSchema, description="a second factor is set up")
@blueprint.alt_response(422, schema=ApiErrorSchema)
@blueprint.alt_response(429, schema=ApiErrorSchema)
@blueprint.doc(security=[])
def start_two_factor(body):
    """Set up an authenticator app without the browser: the answer is a new secret (and
    its otpauth:// address, for a QR code). It is used once a code from it is sent with
    ``POST /tokens``, which then gives the token; until then nothing changes."""
    user = _checked_credentials(body)
    secret = accounts.start_two_factor(user)
    totp = security.totp_factory
    return {
        "secret": totp.get_totp_b32_key(secret),
        "otpauth_uri": totp.get_totp_uri(user.email, secret),
    }


@blueprint.route("/tokens", methods=["GET"])
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, page_schema(TokenInfo))
def list_tokens(args):
    """The caller's tokens, newest first (never the secrets)."""
    authenticate()
    return page_of(accounts.user_tokens(g.api_user), args)


@blueprint.route("/tokens/<int:token_id>", methods=["DELETE"])
@blueprint.response(204)
def revoke_token(token_id: int):
    """Revoke one of the caller's tokens."""
    authenticate()
    accounts.revoke_token(g.api_user, token_id)
    db.session.flush()
