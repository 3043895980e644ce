"""The application form script's sentences, as a script of their own per language.

The form's page used to carry them as attributes: eight sentences (about 300 compressed
bytes, 0.12 s at 20 kbit/s) sent with every part of the form, though only the script
reads them and most never show. They are now a small script, one per language, whose
address changes with its text: the browser keeps it for a year and fetches it ahead
(``rel=prefetch``) on the pages that lead to the form, as it does ``form.js``.
"""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, abort, request, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from grants.models.accounts import LOCALES

blueprint = Blueprint("form_words", __name__)


def _sentences() -> dict[str, str]:
    return {
        "offline": _(
            "No connection: your changes are kept on this phone or computer and are sent"
            " as soon as the connection returns."
        ),
        "expired": _(
            "You were signed out, so your changes could not be sent. They are kept on this"
            " phone or computer: sign in again and they are sent."
        ),
        "signIn": _("Sign in again"),
        "restored": _(
            "Changes typed here earlier had not been sent: they are back in the form and are"
            " being sent."
        ),
        "handedOver": _("Saving what you typed in the previous part…"),
        "openPart": _("Open that part"),
        "elsewhere": _("Not saved: something typed in another part of the form needs attention."),
        "filter": _("Find a goal or a target, such as 8.6 or education"),
    }


#: Per language: the script's text and its address's version (the text's digest).
_scripts: dict[str, tuple[bytes, str]] = {}


def _script(locale: str) -> tuple[bytes, str]:
    if locale not in _scripts:
        with force_locale(locale):
            words = json.dumps(_sentences(), ensure_ascii=False, separators=(",", ":"))
        body = f"window.formWords={words};\n".encode()
        _scripts[locale] = (body, hashlib.sha256(body).hexdigest()[:12])
    return _scripts[locale]


def form_words_url(locale: str) -> str:
    """The address of the sentences in ``locale``, versioned by their text."""
    return url_for("form_words.script", lang=locale, v=_script(locale)[1])


@blueprint.get("/form-words.js")
def script():
    locale = request.args.get("lang") or str(get_locale())  # without one: the reader's
    if locale not in LOCALES:
        abort(404)
    body, version = _script(locale)
    response = Response(body, mimetype="text/javascript")
    if request.args.get("v") == version:
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response.headers["Cache-Control"] = "no-cache"
    return response
