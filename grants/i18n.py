"""Locale and time zone of each request.

The locale comes from the signed-in user's preference, then the session (set by the
language switcher, also for anonymous visitors), then the browser's Accept-Language.
"""

from __future__ import annotations

from flask import Flask, has_request_context, request, session
from flask_babel import get_locale
from flask_security import current_user

from grants.extensions import babel
from grants.models.accounts import LOCALES

RIGHT_TO_LEFT = {"ar"}
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "es": "Español", "ar": "العربية"}


def select_locale() -> str:
    if not has_request_context():
        return "en"  # the CLI and scheduled jobs choose the recipient's locale themselves
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in LOCALES:
        return chosen
    return request.accept_languages.best_match(LOCALES) or "en"


def select_timezone() -> str:
    if not has_request_context():
        return "UTC"
    if current_user and current_user.is_authenticated and current_user.timezone:
        return current_user.timezone
    return "UTC"


def text_direction() -> str:
    return "rtl" if str(get_locale()) in RIGHT_TO_LEFT else "ltr"


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)

    @app.context_processor
    def _language_context():
        return {
            "current_locale": str(get_locale()),
            "text_direction": text_direction(),
            "language_names": LANGUAGE_NAMES,
        }
