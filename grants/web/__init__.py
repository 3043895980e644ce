"""The HTML side: blueprints of thin views, template helpers and error pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_percent
from babel.units import format_unit
from flask import Flask, request, url_for
from flask_babel import (
    format_decimal,
    format_timedelta,
    get_locale,
    get_timezone,
)
from flask_babel import gettext as _
from markupsafe import Markup, escape

from grants.extensions import db
from grants.labels import (
    LEDGER_KIND_LABELS,
    RECOMMENDATION_LABELS,
    REPORT_KIND_LABELS,
    ROLE_LABELS,
    SECTION_LABELS,
    SECTOR_LABELS,
    state_label,
    transition_label,
)
from grants.moments import zoned_moment_text
from grants.numbers import as_typed, money_text
from grants.orm import utcnow
from grants.reference import country_name, language_names
from grants.web.compact import CompactHtml
from grants.web.translations import locale_name
from workflows.base import SYSTEM


def _person_name(user_id: int | None) -> str:
    if user_id is None:
        return ""
    from grants.models.accounts import User

    person = db.session.get(User, user_id)
    return person.display_name if person else ""


def money(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return "—"
    return _money_in(amount, currency, locale_name())


@lru_cache(maxsize=8192)
def _money_in(amount: Decimal, currency: str, locale: str) -> str:
    """Kept: Babel takes ~25 µs an amount, and a ranking page shows two hundred of them,
    the same for everyone who reads it. Amounts equal as numbers (1.5, 1.50) format alike:
    the currency's digits decide the places."""
    return money_text(amount, currency, locale)


def isolate(value: object) -> Markup:
    """A value given by a person or another system (a name, a reference, an email, an
    amount) set apart from the text around it, so that Latin text inside an Arabic
    sentence, or Arabic inside an English one, keeps its punctuation on its own side."""
    if value is None or value == "":
        return Markup("")
    return Markup(f"<bdi>{escape(value)}</bdi>")  # as ``% value`` does, at a third of its cost


def isolated(sentence: object, **values: object) -> Markup:
    """A translated sentence (``_l``) for a flash message, with the values people typed
    isolated as ``isolate`` does on pages: the sentence is escaped, then each value."""
    return Markup(escape(str(sentence))) % {name: isolate(value) for name, value in values.items()}


def file_size(size: int) -> str:
    """A document's size in the reader's units and digits: "1.2 MB", "1,2 Mo"."""
    kilobytes = Decimal(size) / 1024
    if kilobytes < 1024:
        return format_unit(kilobytes, "digital-kilobyte", "short", "#,##0.#", get_locale())
    return format_unit(kilobytes / 1024, "digital-megabyte", "short", "#,##0.#", get_locale())


def percent(share: Decimal | int | None) -> str:
    """A share given in percent (18.5) as the reader writes it: "18.5%", "18,5 %"."""
    if share is None:
        return "—"
    return _percent_in(share, locale_name())


@lru_cache(maxsize=4096)
def _percent_in(share: Decimal | int, locale: str) -> str:
    """Kept, as amounts are: Babel takes ~20 µs a share, and the screening list shows
    one a row. Shares equal as numbers (12.5, 12.50) read alike once normalised."""
    value = (Decimal(str(share)) / 100).normalize()
    return format_percent(value, locale=locale, decimal_quantization=False)


def _kept_words(words: Callable[..., object]) -> Callable[..., object]:
    """A label function of the pages (a state's or a sector's words), its answers kept
    per language: each is a lazy translation that costs ~15 µs to read, and a list
    shows one or two a row, the same words on every page."""

    @lru_cache(maxsize=4096)
    def kept(locale: str, *keys: object) -> object:
        label = words(*keys)
        return label if label is None or isinstance(label, str) else str(label)

    return lambda *keys: kept(locale_name(), *keys)


def time_left(moment: datetime | None) -> str:
    if moment is None:
        return ""
    delta = moment - utcnow()
    if delta.total_seconds() <= 0:
        return _("closed")
    return _("%(left)s left", left=format_timedelta(delta, threshold=1.1))


def deadline(call) -> str:
    """The deadline once, with its time zone named: in the reader's own zone when they
    chose one, else in the call's (where the deadline was set)."""
    if call.closes_at is None:
        return _("not set")
    zone = str(get_timezone())
    if zone == "UTC":
        zone = call.timezone
    return zoned_moment_text(call.closes_at, get_locale(), zone)


def _header_counts() -> tuple[int, int, int]:
    """The header's badges, asked in one statement: unread notifications, reviews to do
    (of evaluators only) and unread messages. Every page of a signed-in person shows
    them, and three round trips cost more than the counting."""
    from flask_security import current_user
    from sqlalchemy import literal, select

    from grants.roles import EVALUATOR
    from grants.services.conversations import unread_count_statement
    from grants.services.evaluation import reviews_to_do_statement
    from notifications.outbox import unread_statement

    if not current_user.is_authenticated:
        return 0, 0, 0
    person = current_user._get_current_object()
    to_do = (
        reviews_to_do_statement(person.id).scalar_subquery()
        if EVALUATOR in person.role_names
        else literal(0)
    )
    unread, reviews, messages = db.session.execute(
        select(
            unread_statement(person.id).scalar_subquery(),
            to_do,
            unread_count_statement(person).scalar_subquery(),
        )
    ).one()
    return unread or 0, reviews or 0, messages or 0


def page_url(page: int) -> str:
    args = {**(request.view_args or {}), **request.args.to_dict(), "page": page}
    return url_for(request.endpoint, **args)


role_label = _kept_words(lambda role: ROLE_LABELS.get(role, role))


def register_web(app: Flask) -> None:
    from grants.web import (
        account,
        admin,
        applications,
        assignments,
        associations,
        audit,
        awards,
        bulk_actions,
        calls,
        conversations,
        dashboards,
        duplicates,
        eligibility,
        exports,
        files,
        form_words,
        inbox,
        invitations,
        lifecycles,
        opendata,
        payments,
        privacy,
        public,
        reviews,
        search,
        transitions,
        webhooks,
    )

    modules = (
        public,
        account,
        associations,
        applications,
        calls,
        assignments,
        reviews,
        awards,
        conversations,
        admin,
        audit,
        bulk_actions,
        dashboards,
        eligibility,
        duplicates,
        exports,
        files,
        form_words,
        inbox,
        invitations,
        lifecycles,
        opendata,
        payments,
        privacy,
        search,
        transitions,
        webhooks,
    )
    for module in modules:
        app.register_blueprint(module.blueprint)
    app.register_blueprint(assignments.ranking_blueprint)
    from grants.web import letter_check

    app.register_blueprint(letter_check.blueprint)
    letter_check.limit_checks(app)
    from grants.web import questions

    app.register_blueprint(questions.blueprint)
    from grants.web import translations, weight
    from grants.web.forms import field_errors

    weight.init_app(app)
    translations.install(app)
    app.jinja_env.add_extension(CompactHtml)

    app.jinja_env.globals.update(
        money=money,
        time_left=time_left,
        deadline=deadline,
        page_url=page_url,
        state_label=_kept_words(state_label),
        transition_label=_kept_words(transition_label),
        recommendation_label=_kept_words(lambda value: RECOMMENDATION_LABELS.get(value, value)),
        sector_label=_kept_words(lambda sector: SECTOR_LABELS.get(sector, sector)),
        role_label=role_label,
        header_counts=_header_counts,
        report_kind_label=_kept_words(lambda kind: REPORT_KIND_LABELS.get(kind, kind)),
        ledger_kind_label=_kept_words(lambda kind: LEDGER_KIND_LABELS.get(kind, kind)),
        person_name=_person_name,
        waited=lambda moment: format_timedelta(utcnow() - moment, threshold=1.1),
        section_label=_kept_words(lambda section: SECTION_LABELS.get(section, section)),
        field_errors=field_errors,
        form_words_url=form_words.form_words_url,
    )
    from grants.banking import format_iban

    app.jinja_env.filters["iban"] = format_iban
    app.jinja_env.filters["isolate"] = isolate
    app.jinja_env.filters["file_size"] = file_size
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.filters["decimal"] = lambda value: format_decimal(value, format="#,##0.######")
    app.jinja_env.filters["country"] = lambda code: country_name(code, locale_name())
    app.jinja_env.filters["language"] = lambda code: language_names(str(get_locale())).get(
        code, code
    )
    app.jinja_env.filters["role_label"] = role_label
    # Timed transitions and ledger entries of no person are stored as "system".
    app.jinja_env.filters["actor"] = lambda label: _("the system") if label == SYSTEM else label
    app.jinja_env.filters["typed"] = as_typed
    app.jinja_env.filters["extension"] = lambda kind: "." + {"jpeg": "jpg"}.get(kind, kind)
    from grants import text_limits

    # How long each free text may be: the limits the services enforce, for the pages
    # whose fields are not a form's (a report's narrative, a transition's comment).
    app.jinja_env.globals["text_limits"] = text_limits

    from grants.web.errors import register_error_pages

    register_error_pages(app)
