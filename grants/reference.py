"""Reference lists: countries (ISO 3166-1 alpha-2), languages (ISO 639-1) and currencies
(ISO 4217), from Babel's CLDR data and named in the reader's language, so no list is
maintained by hand."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from babel import Locale
from flask_babel import lazy_gettext as _l

#: Codes CLDR lists as territories but which are not countries one can register in.
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB", "XK"}


@lru_cache(maxsize=8)
def country_names(locale: str = "en") -> dict[str, str]:
    territories = Locale.parse(locale).territories
    return dict(
        sorted(
            (
                (code, name)
                for code, name in territories.items()
                if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
            ),
            key=lambda item: item[1],
        )
    )


COUNTRY_CODES = frozenset(country_names("en"))

#: Languages offered for associations' working languages and evaluators' reading.
LANGUAGE_CODES = (
    "en",
    "fr",
    "es",
    "ar",
    "pt",
    "de",
    "it",
    "nl",
    "ne",
    "hi",
    "ur",
    "bn",
    "sw",
    "am",
    "so",
    "wo",
    "ff",
    "mg",
    "tl",
    "zh",
    "ru",
    "tr",
    "fa",
    "ht",
    "qu",
    "ber",
)


@lru_cache(maxsize=8)
def language_names(locale: str = "en") -> dict[str, str]:
    names = Locale.parse(locale).languages
    return {code: names.get(code, code) for code in LANGUAGE_CODES}


def country_name(code: str, locale: str = "en") -> str:
    return country_names(locale).get(code, code)


#: The 17 Sustainable Development Goals: (short name, in the reader's language when shown;
#: numbered targets; lettered targets).
SDG_GOALS: dict[int, tuple[Any, int, str]] = {
    1: (_l("No poverty"), 5, "ab"),
    2: (_l("Zero hunger"), 5, "abc"),
    3: (_l("Good health and well-being"), 9, "abcd"),
    4: (_l("Quality education"), 7, "abc"),
    5: (_l("Gender equality"), 6, "abc"),
    6: (_l("Clean water and sanitation"), 6, "ab"),
    7: (_l("Affordable and clean energy"), 3, "ab"),
    8: (_l("Decent work and economic growth"), 10, "ab"),
    9: (_l("Industry, innovation and infrastructure"), 5, "abc"),
    10: (_l("Reduced inequalities"), 7, "abc"),
    11: (_l("Sustainable cities and communities"), 7, "abc"),
    12: (_l("Responsible consumption and production"), 8, "abc"),
    13: (_l("Climate action"), 3, "ab"),
    14: (_l("Life below water"), 7, "abc"),
    15: (_l("Life on land"), 9, "abc"),
    16: (_l("Peace, justice and strong institutions"), 10, "ab"),
    17: (_l("Partnerships for the goals"), 19, ""),
}


def sdg_targets() -> dict[str, Any]:
    """Every target code of the 2030 Agenda (169 of them), with the name of its goal."""
    targets: dict[str, str] = {}
    for goal, (name, numbered, lettered) in SDG_GOALS.items():
        for number in range(1, numbered + 1):
            targets[f"{goal}.{number}"] = name
        for letter in lettered:
            targets[f"{goal}.{letter}"] = name
    return targets


SDG_TARGETS = sdg_targets()


@lru_cache(maxsize=2)
def _currencies_in_use(day: date) -> frozenset[str]:
    from babel.core import get_global
    from babel.numbers import get_territory_currencies

    return frozenset(
        code
        for territory in get_global("territory_currencies")
        for code in get_territory_currencies(territory, day, tender=True)
    )


@lru_cache(maxsize=256)
def country_currencies(country: str) -> tuple[str, ...]:
    """The currencies legal tender in a country today (XOF for SN, EUR for FR)."""
    from babel.numbers import get_territory_currencies

    return tuple(get_territory_currencies(country, date.today(), tender=True))


def active_currencies() -> frozenset[str]:
    """ISO 4217 currencies legal tender somewhere today (CLDR through Babel): no test code
    (XTS), no 'no currency' (XXX), no precious metal (XAU), none withdrawn (DEM)."""
    return _currencies_in_use(date.today())
