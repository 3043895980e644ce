"""Reading numbers as their writer wrote them, and amounts from the database as money.

People type amounts in their own grammar: 1,250.50 in English, 1 250,50 in French,
1.250,50 in Spanish. Pages read them with the reader's locale, strictly (Babel's
``parse_decimal(strict=True)``): what does not follow it, or could mean two numbers
(1.250 in English: 1.25 or 1250?), is refused with the likely reading proposed, never
guessed. The API reads the machine grammar only: JSON numbers, or strings of digits
with a point (``1250.50``).

Every reading also refuses what the database cannot hold: more decimals than the
column keeps, values beyond ``Numeric(14, 2)``, non-finite values (NaN, Infinity).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Any

from babel import Locale
from babel.numbers import (
    NumberFormatError,
    format_currency,
    format_decimal,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    parse_decimal,
)
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

#: The largest amount a ``Numeric(14, 2)`` column holds.
AMOUNT_MAX = Decimal("999999999999.99")
#: What an ``Integer`` column holds (PostgreSQL's 32-bit integer).
INTEGER_MAX = 2**31 - 1
#: A sensible bound for counts of people (beneficiaries): well within ``INTEGER_MAX``.
COUNT_MAX = 10_000_000

#: The API's grammar: digits with a point, whatever the reader's language.
MACHINE = None

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007]+")
_MACHINE_TEXT = re.compile(r"-?\d+(\.\d+)?")
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_MINUS = str.maketrans({"\u2212": "-", "\u2012": "-", "\u2013": "-"})


class NumberRefused(ValueError):
    """Why a number is refused, in the reader's language, with the likely readings."""

    def __init__(self, message: str, suggestions: tuple[Decimal, ...] = ()):
        super().__init__(message)
        self.message = message
        self.suggestions = suggestions


def reader_locale() -> Locale:
    """The locale of the person reading the page (the one who typed the number)."""
    return get_locale() or Locale("en")


def written(value: Decimal | int, locale: Locale | str | None, places: int = 2) -> str:
    """``value`` as the reader writes it (1,250.00 / 1 250,00 / 1.250,00)."""
    if locale is MACHINE:
        return f"{Decimal(value):.{places}f}"
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(value, format=pattern, locale=locale)


def as_typed(value: Any, locale: Locale | str | None = None) -> str:
    """A stored number as the reader types it, to fill a form's input (the reader's
    locale when none is given): 1250.5 becomes 1,250.50 / 1 250,50 / 1.250,50."""
    if value is None or value == "":
        return ""
    number = Decimal(str(value))
    places = 0 if number == number.to_integral_value() else max(2, -number.as_tuple().exponent)
    return written(number, reader_locale() if locale is None else locale, places)


def _example(locale: Locale | str | None, places: int) -> str:
    return written(Decimal("1250.50") if places else Decimal(1250), locale, places)


def _not_a_number(locale: Locale | str | None, places: int) -> NumberRefused:
    if places == 0:
        return NumberRefused(
            _("Give a whole number, such as %(example)s.", example=_example(locale, 0))
        )
    return NumberRefused(
        _("Give the amount as a number, such as %(example)s.", example=_example(locale, places))
    )


def _did_you_mean(values: list[Decimal], locale: Locale | str | None, places: int) -> NumberRefused:
    readings = [written(value, locale, places) for value in values]
    if len(readings) == 1:
        message = _("Did you mean %(reading)s?", reading=readings[0])
    else:
        message = _("Did you mean %(first)s or %(second)s?", first=readings[0], second=readings[1])
    return NumberRefused(message, tuple(values))


def _readings(text: str, places: int) -> list[Decimal]:
    """What a person probably meant by ``text`` whatever their grammar: every mark groups
    thousands, or the last point or comma is the decimal mark and the others group."""
    sign, body = ("-", text[1:]) if text.startswith("-") else ("", text)
    parts = re.split(r"([.,\s])", body)
    numbers, marks = parts[0::2], parts[1::2]
    if not all(number.isdigit() for number in numbers):
        return []
    readings = []
    if all(len(group) == 3 for group in numbers[1:]):
        readings.append(Decimal(sign + "".join(numbers)))
    if marks and marks[-1] in ".," and 1 <= len(numbers[-1]) <= places:
        if all(len(group) == 3 for group in numbers[1:-1]):
            readings.append(Decimal(f"{sign}{''.join(numbers[:-1])}.{numbers[-1]}"))
    return readings


def _read_typed(text: str, locale: Locale | str, places: int) -> Decimal:
    """A number typed by a person in ``locale``: strict, with suggestions when it is not."""
    locale = Locale.parse(locale)
    decimal_mark, group_mark = get_decimal_symbol(locale), get_group_symbol(locale)
    text = text.translate(_ARABIC_DIGITS).translate(_MINUS)
    text = text.replace("\u066b", decimal_mark).replace("\u066c", group_mark)
    text = _SPACES.sub(" ", text)
    if not re.fullmatch(r"-?[0-9][0-9., ]*", text.replace(group_mark, " ")):
        raise _not_a_number(locale, places)
    # Any kind of space groups digits, whatever the locale's own grouping mark; a point
    # or comma that is neither of the locale's marks does not follow its grammar.
    local = text.replace(" ", group_mark)
    foreign = {".", ","} - {decimal_mark, group_mark}
    try:
        if foreign & set(local):
            raise NumberFormatError(text)
        value = parse_decimal(local, locale=locale, strict=True)
    except NumberFormatError as refused:
        readings = _readings(text, places)
        for suggestion in refused.suggestions or []:
            try:
                reading = parse_decimal(suggestion, locale=locale)
            except NumberFormatError:
                continue
            if -reading.as_tuple().exponent <= places:
                readings.append(reading)
        readings = list(dict.fromkeys(readings))[:2]
        if readings:
            raise _did_you_mean(readings, locale, places) from None
        raise _not_a_number(locale, places) from None
    whole, mark, fraction = local.partition(decimal_mark)
    if places < 3 and mark and len(fraction) == 3 and group_mark not in whole:
        # 1.250 in English, 1,250 in Spanish: a thousands separator in another grammar?
        raise _did_you_mean([Decimal(whole + fraction)], locale, places)
    return value


def _read_machine(raw: Any, places: int) -> Decimal:
    if isinstance(raw, bool):
        raise _not_a_number(MACHINE, places)
    if isinstance(raw, Decimal | int):
        return Decimal(raw)
    if isinstance(raw, float):
        return Decimal(repr(raw))
    text = str(raw).strip()
    if not _MACHINE_TEXT.fullmatch(text):
        raise NumberRefused(
            _(
                "Give the number with digits and a point for decimals, such as %(example)s.",
                example=_example(MACHINE, places),
            )
        )
    return Decimal(text)


def read_number(
    raw: Any,
    locale: Locale | str | None = MACHINE,
    *,
    places: int = 2,
    minimum: Decimal | int | None = 0,
    maximum: Decimal | int = AMOUNT_MAX,
    positive: bool = False,
) -> Decimal:
    """The number in ``raw``, written in ``locale`` (``MACHINE``: the API's grammar).

    Refused, with a message that says why (``NumberRefused``): an empty value, a text
    that does not follow the grammar or could mean two numbers, more than ``places``
    decimals, below ``minimum`` (or zero when ``positive``), above ``maximum``, NaN
    and Infinity.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise NumberRefused(_("Give a number."))
    if locale is MACHINE or not isinstance(raw, str):
        value = _read_machine(raw, places)
    else:
        value = _read_typed(raw.strip(), locale, places)
    if not value.is_finite():
        raise _not_a_number(locale, places)
    shown = locale if isinstance(raw, str) else MACHINE
    if value > maximum:
        raise NumberRefused(_("At most %(maximum)s.", maximum=written(maximum, shown, places)))
    if positive and value <= 0:
        raise NumberRefused(_("Must be above zero."))
    if minimum is not None and value < minimum:
        if minimum == 0:
            raise NumberRefused(_("Must not be negative."))
        raise NumberRefused(_("At least %(minimum)s.", minimum=written(minimum, shown, places)))
    if value.as_tuple().exponent < -places:
        if places == 0:
            raise NumberRefused(_("Give a whole number."))
        raise NumberRefused(
            ngettext("At most %(num)d decimal.", "At most %(num)d decimals.", places)
        )
    return value


def read_typed(raw: Any, **limits: Any) -> Decimal:
    """A number typed on a page, in the reader's locale (see ``read_number``)."""
    return read_number(raw, reader_locale(), **limits)


def read_whole(
    raw: Any,
    locale: Locale | str | None = MACHINE,
    *,
    minimum: int = 0,
    maximum: int = INTEGER_MAX,
) -> int:
    """A whole number (a count, a number of months) within what its column holds."""
    return int(read_number(raw, locale, places=0, minimum=minimum, maximum=maximum))


def money_value(value: Any) -> Decimal:
    """A sum from the database (None, float on SQLite, Decimal) as money, to the cent."""
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def money_text(amount: Decimal | int, currency: str, locale: Locale | str) -> str:
    """``amount`` in ``currency`` as a reader of ``locale`` expects it: Babel's pattern
    for the locale, and the spacing CLDR asks for between a symbol made of letters and
    the digits ("F CFA 18,000,000", "MAD 120.00"; "$120.00" stays close), which Babel
    leaves out. The currency's own digits decide the places (none for XOF)."""
    text = format_currency(amount, currency, locale=locale)
    symbol = get_currency_symbol(currency, locale=locale)
    at = text.find(symbol) if symbol else -1
    if at < 0:
        return text
    end = at + len(symbol)
    if end < len(text) and text[end].isdigit() and _spaced(symbol[-1]):
        text = text[:end] + "\u00a0" + text[end:]
    if at > 0 and text[at - 1].isdigit() and _spaced(symbol[0]):
        text = text[:at] + "\u00a0" + text[at:]
    return text


def _spaced(mark: str) -> bool:
    """CLDR's currency spacing: a symbol's edge that is neither a symbol nor a space."""
    return not unicodedata.category(mark).startswith(("S", "Z"))
