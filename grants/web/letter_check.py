"""The public page where anyone holding an award letter checks it against the record: a
bank, a co-funder or a member, without an account and without JavaScript."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, render_template, request
from flask_babel import gettext as _

from grants.services import award_letters

blueprint = Blueprint("letter_check", __name__)

MB = 1024 * 1024


@blueprint.get(award_letters.CHECK_PATH)
def form():
    return _page()


@blueprint.post(award_letters.CHECK_PATH)
def check():
    """Reads the uploaded file (at most ``CHECK_LIMIT_MB``) and says what it is; stores
    nothing."""
    file = request.files.get("letter")
    if file is None or not file.filename:
        return _refused(_("Choose the PDF of the award letter to check."))
    limit = award_letters.CHECK_LIMIT_MB * MB
    data = file.stream.read(limit + 1)
    if len(data) > limit:
        return _refused(
            _(
                "This file is larger than %(mb)s MB: an award letter is far smaller. Choose "
                "the PDF of the letter.",
                mb=award_letters.CHECK_LIMIT_MB,
            )
        )
    if not data:
        return _refused(_("This file is empty. Choose the PDF of the award letter."))
    verdict = award_letters.check(data)
    return _page(verdict=verdict)


def _page(verdict: award_letters.Verdict | None = None, error: str | None = None):
    return render_template(
        "public/letter_check.html",
        verdict=verdict,
        error=error,
        limit_mb=award_letters.CHECK_LIMIT_MB,
    )


def _refused(message: str):
    return _page(error=message), 422


def limit_checks(app: Flask) -> None:
    """Checks per client address are limited as sign-in attempts are: each one reads a
    whole PDF and validates a signature."""
    limiter = app.extensions["rate_limiter"]
    endpoint = "letter_check.check"
    app.view_functions[endpoint] = limiter.limit(
        lambda: current_app.config["LETTER_CHECK_RATE_LIMIT"], scope="letter_check"
    )(app.view_functions[endpoint])
