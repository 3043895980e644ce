"""``POST /api/v1/tokens``: email, password (and the two-factor code) for a bearer token;
``GET`` lists the caller's tokens and ``DELETE /tokens/<id>`` revokes one."""

from __future__ import annotations

from flask import g, request
from flask_security.utils import verify_password
from flask_smorest import Blueprint
from marshmallow import Schema, fields

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

blueprint = Blueprint("api_tokens", __name__, description="Bearer tokens")


@blueprint.before_request
def _authenticate_except_login():
    if request.endpoint != "api_tokens.create_token":
        authenticate()


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
@blueprint.doc(security=[])
def create_token(body):
    """Exchange credentials for a token (shown once; only its hash is kept)."""
    user = accounts.find_user(body["email"])
    wrong = "The email, password or two-factor code is not right."
    if user is None or not user.active or not user.password:
        raise Unauthenticated(wrong)
    if not verify_password(body["password"], user.password):
        raise Unauthenticated(wrong)
    if user.tf_primary_method or user.requires_two_factor():
        code = (body.get("code") or "").strip()
        if not user.tf_totp_secret or not code:
            raise Unauthenticated("Give the two-factor code of your authenticator app as code.")
        if not security.totp_factory.verify_totp(
            token=code, totp_secret=user.tf_totp_secret, user=user, window=1
        ):
            raise Unauthenticated(wrong)
    token = accounts.issue_token(user, body["name"], body["days"])
    row = accounts.user_tokens(user)[0]
    db.session.flush()
    return {"token": token, "expires_at": row.expires_at}


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
