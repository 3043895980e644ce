"""Reading numbers: as the writer writes them on pages (strict, with the likely reading
proposed), in the machine grammar for the API, and never beyond what a column holds."""

from __future__ import annotations

from decimal import Decimal

import pytest

from grants.numbers import (
    AMOUNT_MAX,
    INTEGER_MAX,
    MACHINE,
    NumberRefused,
    as_typed,
    read_number,
    read_whole,
)
from grants.reference import active_currencies


@pytest.mark.parametrize(
    ("locale", "text", "value"),
    [
        ("es", "1.250", Decimal("1250")),
        ("es", "1.250,50", Decimal("1250.50")),
        ("es", "1 250,50", Decimal("1250.50")),
        ("es", "1,25", Decimal("1.25")),
        ("fr", "1 250,50", Decimal("1250.50")),
        ("fr", "1\u202f250,50", Decimal("1250.50")),
        ("fr", "1\u00a0250,5", Decimal("1250.5")),
        ("fr", "1250", Decimal("1250")),
        ("en", "1,250.50", Decimal("1250.50")),
        ("en", " 1250.50 ", Decimal("1250.50")),
        ("en", "1 250.50", Decimal("1250.50")),
        ("ar", "1,250.50", Decimal("1250.50")),
        ("ar", "١٬٢٥٠٫٥٠", Decimal("1250.50")),
        ("en", "999,999,999,999.99", AMOUNT_MAX),
    ],
)
def test_a_number_is_read_as_its_writer_writes_it(locale, text, value):
    assert read_number(text, locale) == value


@pytest.mark.parametrize(
    ("locale", "text", "message", "suggestions"),
    [
        # A point before three digits is a decimal mark in English, a thousands
        # separator in Spanish: ambiguous for money, so the likely reading is proposed.
        ("en", "1.250", "Did you mean 1,250.00?", [Decimal("1250")]),
        ("es", "1,250", "Did you mean 1.250,00?", [Decimal("1250")]),
        ("fr", "1.250", "Did you mean 1\u202f250,00?", [Decimal("1250")]),
        ("fr", "1250.50", "Did you mean 1\u202f250,50?", [Decimal("1250.50")]),
        ("en", "1.250,50", "Did you mean 1,250.50?", [Decimal("1250.50")]),
        ("en", "12,50", "Did you mean 12.50 or 1,250.00?", [Decimal("12.50"), Decimal("1250")]),
        ("en", "1,25", "Did you mean 1.25 or 125.00?", [Decimal("1.25"), Decimal("125")]),
        ("en", "NaN", "Give the amount as a number, such as 1,250.50.", []),
        ("en", "Infinity", "Give the amount as a number, such as 1,250.50.", []),
        ("en", "1e40", "Give the amount as a number, such as 1,250.50.", []),
        ("es", "lots", "Give the amount as a number, such as 1.250,50.", []),
        ("en", "-5", "Must not be negative.", []),
        ("fr", "1 250,505", "At most 2 decimals.", []),
        ("en", "1,000,000,000,000", "At most 999,999,999,999.99.", []),
        ("en", "   ", "Give a number.", []),
    ],
)
def test_a_number_that_does_not_follow_the_readers_grammar_is_refused(
    locale, text, message, suggestions
):
    with pytest.raises(NumberRefused) as refused:
        read_number(text, locale)
    assert refused.value.message == message
    assert list(refused.value.suggestions) == suggestions


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1250.50", Decimal("1250.50")),
        (1250.5, Decimal("1250.5")),
        (1250, Decimal("1250")),
        (Decimal("1250.50"), Decimal("1250.50")),
        ("-3", Decimal("-3")),
    ],
)
def test_the_machine_grammar_is_digits_and_a_point(raw, value):
    assert read_number(raw, MACHINE, minimum=None) == value


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1.250,50", "Give the number with digits and a point for decimals, such as 1250.50."),
        ("1,250.50", "Give the number with digits and a point for decimals, such as 1250.50."),
        ("1e3", "Give the number with digits and a point for decimals, such as 1250.50."),
        ("NaN", "Give the number with digits and a point for decimals, such as 1250.50."),
        (float("nan"), "Give the amount as a number, such as 1250.50."),
        (float("inf"), "Give the amount as a number, such as 1250.50."),
        (True, "Give the amount as a number, such as 1250.50."),
        (1e30, "At most 999999999999.99."),
        ("12.345", "At most 2 decimals."),
        (0, "Must be above zero."),
    ],
)
def test_the_machine_grammar_refuses_the_rest(raw, message):
    with pytest.raises(NumberRefused) as refused:
        read_number(raw, MACHINE, positive=True)
    assert refused.value.message == message


def test_whole_numbers_stay_within_their_column():
    assert read_whole("1.500", "es") == 1500
    assert read_whole("1,500", "en") == 1500
    with pytest.raises(NumberRefused, match="At most 2,147,483,647."):
        read_whole("99999999999999999999", "en")
    with pytest.raises(NumberRefused, match=r"At most 10000000\."):
        read_whole(10**12, MACHINE, maximum=10_000_000)
    with pytest.raises(NumberRefused, match="Give a whole number."):
        read_whole("12.5", MACHINE)
    assert INTEGER_MAX == 2**31 - 1


def test_a_stored_number_is_shown_as_its_reader_types_it():
    assert as_typed(Decimal("1250.50"), "es") == "1.250,50"
    assert as_typed("1250.5", "fr") == "1\u202f250,50"
    assert as_typed(Decimal("240000.00"), "en") == "240,000"
    assert as_typed("655.957", "en") == "655.957"
    assert read_number(as_typed(Decimal("1250.50"), "fr"), "fr") == Decimal("1250.50")


def test_only_currencies_in_use_are_currencies():
    currencies = active_currencies()
    assert {"USD", "EUR", "XOF", "XAF", "MAD"} <= currencies
    assert not {"XXX", "XTS", "XAU", "XDR", "DEM", "FRF"} & currencies
