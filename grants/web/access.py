"""Who may open a page: the one decorator every protected view uses."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_security import current_user
from flask_security.decorators import auth_required


def role_required(*roles: str) -> Callable:
    """Anonymous visitors go to the login page; signed-in people without a role get 403."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if roles and not current_user.role_names & set(roles):
                abort(403)
            return view(*args, **kwargs)

        return auth_required("session")(wrapper)

    return decorate


login_required = role_required()
