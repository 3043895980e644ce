"""Locale and time zone of each request.

The locale comes from the signed-in user's preference, then the session (set by the
language switcher, also for anonymous visitors), then the browser's Accept-Language.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel import Locale, support
from babel.dates import format_datetime
from babel.lists import format_list
from babel.numbers import format_decimal
from flask import Flask, has_request_context, request, session
from flask_babel import get_locale, get_timezone, get_translations, gettext
from flask_security import current_user
from wtforms.i18n import messages_path

import workflows.sentences
from grants.extensions import babel
from grants.labels import ROLE_LABELS, state_label, transition_label
from grants.models.accounts import LOCALES
from grants.moments import moment_text, zoned_moment_text
from grants.reference import country_name

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


class ReaderWords:
    """The state machines' sentences and names in the current reader's language."""

    @staticmethod
    def _locale() -> Locale:
        return get_locale() or Locale("en")

    def translate(self, message: str) -> str:
        return gettext(message)

    def translate_plural(self, singular: str, plural: str, count: int) -> str:
        return get_translations().ngettext(singular, plural, count)

    def state(self, entity: str, value: str) -> str:
        return state_label(entity, value)

    def transition(self, entity: str, name: str) -> str:
        return transition_label(entity, name)

    def role(self, name: str) -> str:
        return str(ROLE_LABELS.get(name, name))

    def country(self, code: str) -> str:
        return country_name(code, str(self._locale()))

    def join(self, items: list[str]) -> str:
        locale = self._locale()
        if locale.language == "en" or not items:
            return ", ".join(items)  # the source text's own way
        return format_list(items, locale=locale)

    def number(self, value: Decimal, digits: int) -> str:
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self._locale())

    def moment(self, moment: datetime, zone: str) -> str:
        locale = self._locale()
        if locale.language == "en":
            return workflows.sentences.English().moment(moment, zone)
        written = format_datetime(moment, "d MMMM y, HH:mm", tzinfo=ZoneInfo(zone), locale=locale)
        return f"{written} ({zone})"


def reader_moment(moment: datetime | None, width: str = "medium") -> str:
    """A moment in the reader's locale and time zone, without seconds; the long widths
    name the zone. Pages use it as the ``datetimeformat`` filter."""
    if moment is None:
        return ""
    zone = str(get_timezone())
    if width in ("long", "full"):
        return zoned_moment_text(moment, get_locale() or "en", zone, width)
    return moment_text(moment, get_locale() or "en", zone, width)


class WtformsMessages:
    """WTForms' own messages ("Not a valid integer value.") in the reader's language, each
    language's catalog read once per process. Flask-WTF reads it from disk again on every
    request that translates one: a .mo file parsed and its plural rule compiled, about
    0.5 ms of each autosave. Flask-WTF looks for the catalog as
    ``request.wtforms_translations``; this object stands there for every request."""

    def __init__(self) -> None:
        self.catalogs: dict[str, support.Translations] = {}

    def _catalog(self) -> support.Translations:
        locale = str(get_locale() or "en")
        catalog = self.catalogs.get(locale)
        if catalog is None:
            catalog = support.Translations.load(messages_path(), [locale], domain="wtforms")
            self.catalogs[locale] = catalog
        return catalog

    def ugettext(self, string: str) -> str:
        return self._catalog().gettext(string)

    def ungettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalog().ngettext(singular, plural, n)


def init_app(app: Flask) -> None:
    workflows.sentences.install(ReaderWords())
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "en")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.filters["datetimeformat"] = reader_moment
    wtforms_messages = WtformsMessages()

    @app.before_request
    def _wtforms_messages() -> None:
        request.wtforms_translations = wtforms_messages

    @app.context_processor
    def _language_context():
        return {
            "current_locale": str(get_locale()),
            "text_direction": text_direction(),
            "language_names": LANGUAGE_NAMES,
        }
