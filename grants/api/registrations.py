"""Sign-up over the API: the page's sign-up form (``forms.accounts.SignUpForm``) filled
from JSON and handed to Flask-Security, so the password strength, the email checks, the
applicant role and the confirmation email are the page's. The link in that email opens
the page; its token also confirms here, for clients that read it themselves.

No token is needed, and both routes are rate-limited like ``POST /tokens``.
"""

from __future__ import annotations

from flask import current_app
from flask_security.confirmable import (
    confirm_email_token_status,
    confirm_user,
    send_confirmation_instructions,
)
from flask_security.registerable import register_existing, register_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from werkzeug.datastructures import MultiDict

from forms.accounts import SignUpForm
from grants.api import flatten_errors
from grants.api.schemas import ApiErrorSchema
from grants.extensions import db, security
from grants.models.accounts import LOCALES
from grants.services import accounts
from grants.services.errors import Conflict, InvalidInput

blueprint = Blueprint("api_registrations", __name__, description="Sign-up")


class RegistrationRequest(Schema):
    email = fields.String(required=True, validate=validate.Length(min=1, max=255))
    password = fields.String(
        required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "at least 10 characters, not easy to guess"},
    )
    full_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    locale = fields.String(
        load_default="en",
        validate=validate.OneOf(LOCALES),
        metadata={"description": "the language of the interface and of the emails"},
    )


class RegistrationSchema(Schema):
    message = fields.String(required=True)
    confirmation_required = fields.Boolean(
        required=True,
        metadata={"description": "whether the emailed link must be followed before a token"},
    )


class ConfirmationRequest(Schema):
    token = fields.String(
        required=True,
        validate=validate.Length(min=1, max=1000),
        metadata={"description": "the last part of the link in the confirmation email"},
    )


class ConfirmationEmailRequest(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=255))


class ConfirmationSchema(Schema):
    email = fields.String(required=True)
    confirmed_at = fields.AwareDateTime(required=True)


ACCEPTED = (
    "Check your email: the link in it confirms the address. If the address already has an "
    "account, its owner is emailed instead."
)


@blueprint.route("/registrations", methods=["POST"])
@blueprint.arguments(RegistrationRequest)
@blueprint.response(202, RegistrationSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema, description="refused, field by field")
@blueprint.alt_response(429, schema=ApiErrorSchema)
@blueprint.doc(security=[])
def register(body):
    """Sign up as a member of an association (an applicant), as on the sign-up page.

    The answer is the same whether or not the address already has an account (its owner
    is told by email), as on the page: the API does not say who is registered."""
    form = SignUpForm(
        formdata=MultiDict({**body, "password_confirm": body["password"]}),
        meta={"csrf": False},
    )
    if form.validate():
        register_user(form)
        db.session.flush()
    elif not (current_app.config["SECURITY_RETURN_GENERIC_RESPONSES"] and register_existing(form)):
        errors = flatten_errors(form.errors)
        errors.pop("password_confirm", None)  # the same password, filled in above
        raise InvalidInput("The sign-up is not valid: see errors.", errors)
    confirmation = bool(security.confirmable)
    return {
        "message": ACCEPTED if confirmation else "You are registered; ask for a token.",
        "confirmation_required": confirmation,
    }


@blueprint.route("/registrations/confirmation", methods=["POST"])
@blueprint.arguments(ConfirmationRequest)
@blueprint.response(200, ConfirmationSchema)
@blueprint.alt_response(409, schema=ApiErrorSchema, description="already confirmed")
@blueprint.alt_response(422, schema=ApiErrorSchema, description="unknown or expired token")
@blueprint.alt_response(429, schema=ApiErrorSchema)
@blueprint.doc(security=[])
def confirm(body):
    """Confirm the email address with the token of the emailed link; then ask for a token."""
    expired, invalid, user = confirm_email_token_status(body["token"])
    if expired and user is not None:
        message = (
            "This confirmation link has expired; ask for a new one with "
            "POST /api/v1/registrations/confirmation-email."
        )
        raise InvalidInput(message, {"token": ["Expired."]})
    if invalid or user is None:
        message = "This confirmation link is not valid."
        raise InvalidInput(message, {"token": ["Not a confirmation token."]})
    if user.confirmed_at is not None:
        raise Conflict("This email address is already confirmed.")
    confirm_user(user)
    db.session.flush()
    return user


@blueprint.route("/registrations/confirmation-email", methods=["POST"])
@blueprint.arguments(ConfirmationEmailRequest)
@blueprint.response(202, RegistrationSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
@blueprint.alt_response(429, schema=ApiErrorSchema)
@blueprint.doc(security=[])
def send_confirmation(body):
    """Send the confirmation email again (a lost or expired link), as the page that
    offers it does. The answer is the same whether or not the address has an account
    waiting for confirmation."""
    person = accounts.find_user(body["email"])
    if person is not None and person.active and person.confirmed_at is None:
        send_confirmation_instructions(person)
    return {
        "message": "If this address waits for confirmation, a new link is on its way.",
        "confirmation_required": True,
    }
