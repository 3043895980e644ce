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


#: The 17 Sustainable Development Goals: (short name, numbered targets, lettered targets).
SDG_GOALS: dict[int, tuple[str, int, str]] = {
    1: ("No poverty", 5, "ab"),
    2: ("Zero hunger", 5, "abc"),
    3: ("Good health and well-being", 9, "abcd"),
    4: ("Quality education", 7, "abc"),
    5: ("Gender equality", 6, "abc"),
    6: ("Clean water and sanitation", 6, "ab"),
    7: ("Affordable and clean energy", 3, "ab"),
    8: ("Decent work and economic growth", 10, "ab"),
    9: ("Industry, innovation and infrastructure", 5, "abc"),
    10: ("Reduced inequalities", 7, "abc"),
    11: ("Sustainable cities and communities", 7, "abc"),
    12: ("Responsible consumption and production", 8, "abc"),
    13: ("Climate action", 3, "ab"),
    14: ("Life below water", 7, "abc"),
    15: ("Life on land", 9, "abc"),
    16: ("Peace, justice and strong institutions", 10, "ab"),
    17: ("Partnerships for the goals", 19, ""),
}


def sdg_targets() -> dict[str, str]:
    """Every target code of the 2030 Agenda (169 of them), with the name of its goal."""
    targets: dict[str, str] = {}
    for goal, (name, numbered, lettered) in SDG_GOALS.items():
        for number in range(1, numbered + 1):
            targets[f"{goal}.{number}"] = name
        for letter in lettered:
            targets[f"{goal}.{letter}"] = name
    return targets


SDG_TARGETS = sdg_targets()
