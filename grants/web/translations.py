"""The page's translations, found once per request and locale instead of once per word.

A template calls ``_()`` hundreds of times (the ranking of a call over 800); through
Flask-Babel each call walks three context proxies twice, parses nothing but still
rebuilds the locale's cache key, about 8 µs a word. Here the translations object is
kept on Flask-Babel's own per-request state beside the locale it belongs to, so a
``force_locale`` block (an email in its recipient's language) still gets its own: the
cached pair is used only while the locale object is the very one it was found for.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.globals import _cv_app
from flask_babel import get_locale, get_translations
from jinja2 import pass_context
from markupsafe import Markup


def _babel_state() -> tuple[Any, Any]:
    """Flask-Babel's per-request state and the locale it has found, read from the
    application context directly (``(None, None)`` before the locale is known)."""
    context = _cv_app.get(None)
    state = context.g.__dict__.get("_flask_babel") if context is not None else None
    return state, (state.__dict__.get("babel_locale") if state is not None else None)


def request_translations() -> Any:
    """The translations of the current locale; outside a context, Flask-Babel's answer."""
    state, locale = _babel_state()
    if locale is None:
        return get_translations()  # the first word of a request finds and sets the locale
    kept = state.__dict__.get("request_translations")
    if kept is not None and kept[0] is locale:
        return kept[1]
    translations = get_translations()
    state.request_translations = (locale, translations)
    return translations


def locale_name() -> str:
    """The current locale's name ("fr"), as ``str(get_locale())`` without its proxies:
    a page formats an amount up to two hundred times."""
    state, locale = _babel_state()
    if locale is None:
        return str(get_locale())
    kept = state.__dict__.get("locale_name")
    if kept is not None and kept[0] is locale:
        return kept[1]
    name = str(locale)
    state.locale_name = (locale, name)
    return name


def install(app: Flask) -> None:
    """Replace the template callables Flask-Babel installed with the cached ones."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: request_translations().ugettext(s),
        ngettext=lambda s, p, n: request_translations().ungettext(s, p, n),
        pgettext=lambda c, s: request_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: request_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.globals.update(_=_template_gettext, gettext=_template_gettext)


@pass_context
def _template_gettext(context: Any, string: str, **variables: Any) -> str:
    """``_()`` in a template, as Jinja's own does it (escaped, then formatted with its
    variables) without its three indirections: a page asks for a hundred words. A text
    with no variable and no "%" is left as it is, which formatting would also do."""
    text = request_translations().ugettext(string)
    if context.eval_ctx.autoescape:
        text = Markup(text)
    if variables or "%" in text:
        return text % variables
    return text
