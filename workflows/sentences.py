"""Sentences for people: written here in English, read in each person's language.

The machines import no Flask, so they cannot translate. A guard returns a ``Sentence``
that keeps its message id and its named values (``%(names)s``, so translators can
reorder) and becomes text only when it is shown: on a page, in a flash message, in an
API error. The application installs its ``Words`` (``grants.i18n``: Flask-Babel and
``grants.labels``); without them — a bare script — sentences read in English.

Values may be plain text, or ``StateName``, ``TransitionName``, ``RoleName``, ``Names``,
``Number``, ``Money``, ``Moment``, which are written in the reader's language too.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo


class Words(Protocol):
    """How sentences and names become text in the current reader's language."""

    def translate(self, message: str) -> str: ...

    def translate_plural(self, singular: str, plural: str, count: int) -> str: ...

    def state(self, entity: str, value: str) -> str: ...

    def transition(self, entity: str, name: str) -> str: ...

    def role(self, name: str) -> str: ...

    def country(self, code: str) -> str: ...

    def join(self, items: list[str]) -> str: ...

    def number(self, value: Decimal, digits: int) -> str: ...

    def moment(self, moment: datetime, zone: str) -> str: ...


class English:
    """The source text, for use without the application."""

    def translate(self, message: str) -> str:
        return message

    def translate_plural(self, singular: str, plural: str, count: int) -> str:
        return singular if count == 1 else plural

    def state(self, entity: str, value: str) -> str:
        return value.replace("_", " ")

    def transition(self, entity: str, name: str) -> str:
        return name.replace("_", " ")

    def role(self, name: str) -> str:
        return name.replace("_", " ")

    def country(self, code: str) -> str:
        from babel import Locale

        return Locale("en").territories.get(code, code)

    def join(self, items: list[str]) -> str:
        return ", ".join(items)

    def number(self, value: Decimal, digits: int) -> str:
        return f"{value:,.{digits}f}"

    def moment(self, moment: datetime, zone: str) -> str:
        return f"{moment.astimezone(ZoneInfo(zone)):%d %B %Y at %H:%M} ({zone})"


_words: Words = English()


def install(words: Words) -> None:
    """Called once by the application at start-up."""
    global _words
    _words = words


class _Lazy:
    """Text computed when shown; compares and hashes as that text."""

    def render(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.render()

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(self.render()))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (str, _Lazy)):
            return str(self) == str(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(str(self))

    def __contains__(self, item: str) -> bool:
        return item in str(self)

    def __add__(self, other: str) -> str:
        return str(self) + other

    def __radd__(self, other: str) -> str:
        return other + str(self)

    def __len__(self) -> int:
        return len(str(self))

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class Sentence(_Lazy):
    """A message id with named values, translated when shown."""

    def __init__(self, message: str, values: dict[str, Any]):
        self.message = message
        self.values = values

    def render(self) -> str:
        text = _words.translate(self.message)
        if not self.values:
            return text
        return text % {name: str(value) for name, value in self.values.items()}


def _l(message: str, **values: Any) -> Sentence:
    """Marks ``message`` for the catalogs (``-k _l``) and keeps it to translate later."""
    return Sentence(message, values)


class CountedSentence(Sentence):
    """A sentence about a number of things, in the plural form the reader's language
    uses for that number (Arabic has six); ``%(num)d`` is the number."""

    def __init__(self, singular: str, plural: str, count: int, values: dict[str, Any]):
        super().__init__(singular, values)
        self.plural, self.count = plural, count

    def render(self) -> str:
        text = _words.translate_plural(self.message, self.plural, self.count)
        return text % {
            "num": self.count,
            **{name: str(value) for name, value in self.values.items()},
        }


def ngettext(singular: str, plural: str, num: int, **values: Any) -> CountedSentence:
    """Marks a counted sentence for the catalogs and keeps it to translate later."""
    return CountedSentence(singular, plural, num, values)


class StateName(_Lazy):
    def __init__(self, entity: str, value: str):
        self.entity, self.value = entity, value

    def render(self) -> str:
        return _words.state(self.entity, self.value)


class TransitionName(_Lazy):
    def __init__(self, entity: str, name: str):
        self.entity, self.name = entity, name

    def render(self) -> str:
        return _words.transition(self.entity, self.name)


class RoleName(_Lazy):
    def __init__(self, name: str):
        self.name = name

    def render(self) -> str:
        return _words.role(self.name)


class CountryName(_Lazy):
    """A country, by its ISO 3166 code, named in the reader's language."""

    def __init__(self, code: str):
        self.code = code

    def render(self) -> str:
        return _words.country(self.code)


class Names(_Lazy):
    """A list read as a list in the reader's language ("a, b and c")."""

    def __init__(self, items: Iterable[Any]):
        self.items = list(items)

    def render(self) -> str:
        return _words.join([str(item) for item in self.items])


class Sentences(_Lazy):
    """Several sentences read one after the other."""

    def __init__(self, sentences: Iterable[Any]):
        self.sentences = list(sentences)

    def render(self) -> str:
        return " ".join(str(sentence) for sentence in self.sentences)


class Number(_Lazy):
    """A number written the reader's way (1,234.50 or 1 234,50)."""

    def __init__(self, value: Decimal, digits: int = 2):
        self.value, self.digits = value, digits

    def render(self) -> str:
        return _words.number(self.value, self.digits)


class Money(_Lazy):
    """An amount and its ISO 4217 currency: "1,234.50 XOF"."""

    def __init__(self, value: Decimal, currency: str):
        self.value, self.currency = value, currency

    def render(self) -> str:
        return f"{_words.number(self.value, 2)} {self.currency}"


class Moment(_Lazy):
    """A deadline as the call announces it: local date and time with the zone's name."""

    def __init__(self, moment: datetime, zone: str):
        self.moment, self.zone = moment, zone

    def render(self) -> str:
        return _words.moment(self.moment, self.zone)


__all__ = [
    "CountedSentence",
    "CountryName",
    "English",
    "Money",
    "Moment",
    "Names",
    "Number",
    "RoleName",
    "Sentence",
    "Sentences",
    "StateName",
    "TransitionName",
    "Words",
    "install",
    "ngettext",
    "_l",
]
