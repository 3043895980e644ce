"""Staff single sign-on: who may open an account with the organisation's OpenID Connect
sign-in. Only the programme's staff (their email at one of ``SSO_STAFF_DOMAINS``) whose
account exists, or who were invited, may; anyone else is refused with the reason and
nothing is created."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from grants.policy import STAFF
from grants.roles import EVALUATOR
from grants.services.accounts import find_user
from grants.services.errors import DomainError

#: Roles whose accounts may be opened with the organisation's sign-in: the staff and the
#: evaluation committee. Members of associations sign in with their own password.
SIGN_ON_ROLES = STAFF | {EVALUATOR}


class SignOnRefused(DomainError):
    status = 403


def staff_email(claims: Mapping[str, Any]) -> str:
    """The email of the account the identity provider's ``claims`` open, or
    ``SignOnRefused`` saying why not."""
    email = str(claims.get("email") or "").strip().lower()
    if not email or "@" not in email:
        raise SignOnRefused(
            _(
                "Your organisation's sign-in did not give an email address; ask its "
                "administrator, or log in with your email address and password."
            )
        )
    if claims.get("email_verified") is False:
        raise SignOnRefused(
            _("Your organisation has not verified the address %(email)s.", email=email)
        )
    domains = current_app.config["SSO_STAFF_DOMAINS"]
    if email.rpartition("@")[2] not in domains:
        raise SignOnRefused(
            _(
                "The organisation's sign-in is for the programme's staff (addresses at "
                "%(domains)s). Log in with your email address and password.",
                domains=", ".join(domains),
            )
        )
    person = find_user(email)
    if person is None:
        raise SignOnRefused(
            _(
                "No staff account has the address %(email)s: ask an administrator of the "
                "programme to invite you.",
                email=email,
            )
        )
    if not SIGN_ON_ROLES & person.role_names:
        raise SignOnRefused(
            _(
                "The account %(email)s is not a staff account: log in with your email "
                "address and password.",
                email=email,
            )
        )
    if person.confirmed_at is None:
        from grants.services.staff_invitations import accept_by_sign_on

        if not accept_by_sign_on(person):
            raise SignOnRefused(
                _(
                    "The invitation of %(email)s has expired or was withdrawn: ask an "
                    "administrator to invite you again.",
                    email=email,
                )
            )
    return email
