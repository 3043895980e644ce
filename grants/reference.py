"""Reference lists: countries (ISO 3166-1 alpha-2) and languages (ISO 639-1), named in
the reader's language through Babel's CLDR data, so no list is maintained by hand."""

from __future__ import annotations

from functools import lru_cache

from babel import Locale

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
