"""A test client that fills in the CSRF token the way a browser's form would."""

from __future__ import annotations

import re
import secrets

from flask import current_app
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer


class AppClient(FlaskClient):
    def open(self, *args, **kwargs):  # type: ignore[override]
        """Each request in an application context of its own, as in production.

        Tests hold an application context open; without a fresh one per request, ``g``
        (where Flask-Login keeps the user) would leak from one request to the next.
        Afterwards the test's own session forgets what it loaded, so it sees the
        request's changes.
        """
        from grants.extensions import db

        db.session.flush()
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response

    def csrf_token(self) -> str:
        """The token a rendered form of this session would carry."""
        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", secrets.token_hex(20))
        serializer = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="wtf-csrf-token")
        return serializer.dumps(raw)

    def post(self, *args, csrf: bool = True, **kwargs):  # type: ignore[override]
        if csrf and "json" not in kwargs:
            data = dict(kwargs.get("data") or {})
            data.setdefault("csrf_token", self.csrf_token())
            kwargs["data"] = data
        return super().post(*args, **kwargs)

    def login(self, email: str, password: str, totp_secret: str | None = None):
        """Log in through the real form, answering the two-factor step when asked."""
        response = self.post("/login", data={"email": email, "password": password})
        if totp_secret and response.status_code == 302 and "/tf-" in response.location:
            from grants.extensions import security

            code = security.totp_factory.generate_totp_password(totp_secret)
            response = self.post("/tf-validate", data={"code": code})
        return response


def text_of(response) -> str:
    """The visible text of an HTML response, tags removed, spaces collapsed."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    html = html.replace("\u2068", "").replace("\u2069", "")  # isolates: invisible
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
