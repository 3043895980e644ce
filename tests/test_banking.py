"""Bank details given when an association accepts a grant: IBAN, SWIFT/BIC, account number.

Pure functions: no app, no database.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grants.banking import (
    COUNTRY_CODES,
    IBAN_LENGTHS,
    IBAN_REGISTRY_LENGTHS,
    NATIONAL_IBAN_LENGTHS,
    account_number_problem,
    bic_matches_iban,
    bic_problem,
    format_iban,
    iban_problem,
    normalise_bic,
    normalise_iban,
)

#: Example IBANs published in the SWIFT IBAN registry and by national banking associations.
PUBLISHED_IBANS = [
    "GB82WEST12345698765432",
    "GB29NWBK60161331926819",
    "DE89370400440532013000",
    "FR1420041010050500013M02606",
    "BE68539007547034",
    "NL91ABNA0417164300",
    "ES9121000418450200051332",
    "IT60X0542811101000000123456",
    "CH9300762011623852957",
    "AT611904300234573201",
    "PT50000201231234567890154",
    "LU280019400644750000",
    "IE29AIBK93115212345678",
    "NO9386011117947",
    "PL61109010140000071219812874",
    "MT84MALT011000012345MTLCAST001S",
    "MU17BOMM0101101030300200000MUR",
    "TN5910006035183598478831",
    "TR330006100519786457841326",
    "SA0380000000608010167519",
    "LC55HEMM000100010012001200023015",
    "SC18SSCB11010000000000001497USD",
    "XK051212012345678906",
    # Countries outside the SWIFT registry that issue IBANs nationally (iban.com examples).
    "SN08SN0100152000048500003035",
    "MA64011519000001205000534921",
    "MG4600005030071289421016045",
    "CI93CI0080111301134291200589",
    "CM2110002000300277976315008",
    "DZ580002100001113000000570",
]


def mod97(text: str) -> int:
    """Independent of the module: the number spelt by ``text`` (A=10..Z=35) modulo 97."""
    return int("".join(str(int(c, 36)) for c in text)) % 97


def with_check_digits(country: str, bban: str) -> str:
    """A valid IBAN for ``bban``: check digits are 98 minus (BBAN + country + 00) mod 97."""
    return f"{country}{98 - mod97(bban + country + '00'):02d}{bban}"


# --- The registry ---------------------------------------------------------------------------


def test_registry_has_every_swift_country_with_its_length() -> None:
    assert len(IBAN_REGISTRY_LENGTHS) == 89
    assert set(IBAN_LENGTHS) == set(IBAN_REGISTRY_LENGTHS) | set(NATIONAL_IBAN_LENGTHS)
    assert set(IBAN_LENGTHS) <= COUNTRY_CODES
    assert all(15 <= length <= 34 for length in IBAN_LENGTHS.values())
    expected = {
        "FR": 27, "DE": 22, "BE": 16, "ES": 24, "GB": 22, "IT": 27, "NL": 18, "CH": 21,
        "NO": 15, "LC": 32, "RU": 33, "MT": 31, "TN": 24, "SN": 28, "MA": 28, "MG": 27,
    }  # fmt: skip
    assert {code: IBAN_LENGTHS[code] for code in expected} == expected


def test_country_codes_are_iso_3166_plus_kosovo() -> None:
    assert len(COUNTRY_CODES) == 250
    assert {"FR", "SN", "MA", "XK", "SS", "BQ", "CW", "SX"} <= COUNTRY_CODES
    assert not {"ZZ", "UK", "EU", "YU", "AN"} & COUNTRY_CODES


# --- IBAN -----------------------------------------------------------------------------------


@pytest.mark.parametrize("iban", PUBLISHED_IBANS)
def test_published_ibans_are_valid(iban: str) -> None:
    assert iban_problem(iban) is None
    assert len(iban) == IBAN_LENGTHS[iban[:2]]


def test_senegal_and_morocco_check_digits_are_computed_not_copied() -> None:
    assert with_check_digits("SN", "SN0100152000048500003035") == "SN08SN0100152000048500003035"
    assert with_check_digits("MA", "011519000001205000534921") == "MA64011519000001205000534921"
    assert mod97("SN0100152000048500003035SN08") == 1
    assert mod97("011519000001205000534921MA64") == 1


def test_lowercase_spaces_hyphens_and_dots_are_accepted() -> None:
    assert normalise_iban(" fr14 2004-1010.0505 0001 3m02 606 ") == "FR1420041010050500013M02606"
    assert iban_problem("fr14 2004 1010 0505 0001 3m02 606") is None
    assert iban_problem("be68-5390-0754-7034") is None
    assert iban_problem("DE89\u00a03704\t0044 0532 0130 00") is None


def test_digits_from_other_scripts_and_full_width_letters_are_folded() -> None:
    assert normalise_iban("BE٦٨٥٣٩٠٠٧٥٤٧٠٣٤") == "BE68539007547034"
    assert normalise_iban("ＢＥ６８５３９００７５４７０３４") == "BE68539007547034"


def test_empty_iban() -> None:
    assert iban_problem("") == "No IBAN was given."
    assert iban_problem("  - . ") == "No IBAN was given."


def test_wrong_length_names_the_country_and_both_lengths() -> None:
    assert iban_problem("FR14200410100505000132606") == (
        "An IBAN from France has 27 characters; this one has 25."
    )
    assert iban_problem("DE8937040044053201300") == (
        "An IBAN from Germany has 22 characters; this one has 21."
    )
    assert iban_problem("IT60X05428111010000001234567") == (
        "An IBAN from Italy has 27 characters; this one has 28."
    )
    assert iban_problem("SN08SN010015200004850000303") == (
        "An IBAN from Senegal has 28 characters; this one has 27."
    )
    assert iban_problem("FR") == "An IBAN from France has 27 characters; this one has 2."


def test_one_changed_digit_breaks_the_check_digits() -> None:
    message = "The IBAN's check digits do not match: check for a typing mistake."
    assert iban_problem("GB82WEST12345698765433") == message
    assert iban_problem("DE89370400440532013001") == message
    assert iban_problem("DE88370400440532013000") == message
    assert iban_problem("BE68539007547043") == message  # two neighbouring digits swapped


def test_never_issued_check_digits_are_refused() -> None:
    # 00, 01 and 99 pass mod 97 wherever 97, 98 and 02 do, but are never issued.
    for issued, alias in [("97", "00"), ("98", "01"), ("02", "99")]:
        iban = next(
            iban
            for n in range(10_000)
            if (iban := with_check_digits("BE", f"{n:012d}"))[2:4] == issued
        )
        aliased = iban[:2] + alias + iban[4:]
        assert iban_problem(iban) is None
        assert mod97(aliased[4:] + aliased[:4]) == 1
        assert iban_problem(aliased) == (
            "The IBAN's check digits do not match: check for a typing mistake."
        )


def test_unknown_country() -> None:
    assert iban_problem("US12345678901234567890") == (
        "US is not a country that uses IBANs; give the account number instead."
    )
    assert iban_problem("XX82WEST12345698765432") == (
        "XX is not a country that uses IBANs; give the account number instead."
    )


def test_must_start_with_a_country_code() -> None:
    message = "The IBAN must start with a two-letter country code."
    assert iban_problem("1234567890") == message
    assert iban_problem("F1") == message
    assert iban_problem("F") == message


def test_only_letters_and_digits() -> None:
    message = "The IBAN may contain only letters and digits."
    assert iban_problem("FR14/2004/1010/0505/0001/3M02/606") == message
    assert iban_problem("FR14 2004 1010 0505 0001 3M02 60é") == message


def test_check_digits_must_be_digits() -> None:
    assert iban_problem("BEAB539007547034") == (
        "The IBAN's 3rd and 4th characters must be digits (its check digits)."
    )


def test_format_iban_groups_by_four() -> None:
    assert format_iban("fr1420041010050500013m02606") == "FR14 2004 1010 0505 0001 3M02 606"
    assert format_iban("BE68 5390-0754.7034") == "BE68 5390 0754 7034"
    assert format_iban("NO9386011117947") == "NO93 8601 1117 947"
    assert format_iban("") == ""


# --- Properties -----------------------------------------------------------------------------


@st.composite
def valid_ibans(draw: st.DrawFn) -> str:
    """An IBAN with the right length and check digits, for any country we accept."""
    country = draw(st.sampled_from(sorted(IBAN_LENGTHS)))
    bban = draw(
        st.text(
            alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            min_size=IBAN_LENGTHS[country] - 4,
            max_size=IBAN_LENGTHS[country] - 4,
        )
    )
    return with_check_digits(country, bban)


@given(valid_ibans(), st.data())
def test_any_single_digit_substitution_is_detected(iban: str, data: st.DataObject) -> None:
    assert iban_problem(iban) is None
    positions = [i for i in range(2, len(iban)) if iban[i].isdigit()]
    position = data.draw(st.sampled_from(positions), label="position")
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != iban[position]]))
    changed = iban[:position] + digit + iban[position + 1 :]
    assert iban_problem(changed) is not None


@given(valid_ibans())
def test_format_iban_round_trips_through_normalise(iban: str) -> None:
    formatted = format_iban(iban)
    assert normalise_iban(formatted) == iban
    assert format_iban(formatted) == formatted
    assert all(len(group) == 4 for group in formatted.split(" ")[:-1])
    assert iban_problem(formatted) is None
    assert iban_problem(formatted.lower()) is None


@given(st.text())
def test_format_iban_round_trips_for_any_text(text: str) -> None:
    assert normalise_iban(format_iban(text)) == normalise_iban(text)


@settings(max_examples=2000)
@given(st.text())
def test_normalising_twice_changes_nothing(text: str) -> None:
    assert normalise_iban(normalise_iban(text)) == normalise_iban(text)
    assert normalise_bic(normalise_bic(text)) == normalise_bic(text)


@given(st.text())
def test_iban_problem_never_crashes(text: str) -> None:
    problem = iban_problem(text)
    assert problem is None or str(problem).endswith(".")


# --- SWIFT/BIC ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bic", ["DEUTDEFF", "DEUTDEFF500", "CRLYFRPP", "BNPAFRPPXXX", "NWBKGB2L", "CBAOSNDA"]
)
def test_valid_bics(bic: str) -> None:
    assert bic_problem(bic) is None


def test_bic_is_normalised() -> None:
    assert normalise_bic(" deut de ff 500 ") == "DEUTDEFF500"
    assert bic_problem(" bnpa fr pp xxx ") is None


@pytest.mark.parametrize(
    ("bic", "length"), [("DEUTDEF", 7), ("DEUTDEFF5", 9), ("DEUTDEFF50", 10), ("DEUTDEFF5000", 12)]
)
def test_bic_wrong_length(bic: str, length: int) -> None:
    assert bic_problem(bic) == f"A SWIFT/BIC has 8 or 11 characters; this one has {length}."


def test_bic_bad_country() -> None:
    assert bic_problem("DEUTZZFF") == (
        "The SWIFT/BIC's 5th and 6th characters must be a country code; ZZ is not one."
    )
    assert bic_problem("DEUT12FF") == (
        "The SWIFT/BIC's 5th and 6th characters must be a country code; 12 is not one."
    )
    assert bic_problem("DEUTUKFF") is not None  # the United Kingdom is GB
    assert bic_problem("RBKOXKPR") is None  # Kosovo


def test_bic_bad_characters() -> None:
    assert bic_problem("DEUT-DE-FF") == "The SWIFT/BIC may contain only letters and digits."
    assert bic_problem("DEUTDEFF.") == "The SWIFT/BIC may contain only letters and digits."
    assert bic_problem("DEU1DEFF") == (
        "The SWIFT/BIC's first four characters (the bank's code) must be letters."
    )


def test_bic_test_codes_and_reserved_branches() -> None:
    assert bic_problem("DEUTDEF0") == (
        "This SWIFT/BIC is a test code (its 8th character is 0), not a real bank's."
    )
    assert bic_problem("DEUTDEFFXYZ") == (
        "The SWIFT/BIC's last three characters (the branch) may start with X only as XXX."
    )


def test_empty_bic() -> None:
    assert bic_problem("   ") == "No SWIFT/BIC was given."


# --- BIC and IBAN together ------------------------------------------------------------------


def test_bic_matches_iban_of_same_country() -> None:
    assert bic_matches_iban("BNPAFRPPXXX", "FR1420041010050500013M02606") is None
    assert bic_matches_iban("deut de ff", "de89 3704 0044 0532 0130 00") is None
    assert bic_matches_iban("CBAOSNDA", "SN08SN0100152000048500003035") is None


def test_bic_of_other_country_is_reported() -> None:
    assert bic_matches_iban("GEBABEBB", "FR1420041010050500013M02606") == (
        "The SWIFT/BIC is for a bank in Belgium (BE), the IBAN for an account in France (FR)."
    )
    assert bic_matches_iban("NWBKGB2L", "NL91ABNA0417164300") == (
        "The SWIFT/BIC is for a bank in United Kingdom (GB), "
        "the IBAN for an account in Netherlands (NL)."
    )
    assert bic_matches_iban("CHASUS33", "DE89370400440532013000") == (
        "The SWIFT/BIC is for a bank in United States (US), "
        "the IBAN for an account in Germany (DE)."
    )


def test_territories_using_another_countrys_iban_match_it() -> None:
    assert bic_matches_iban("BNPARERX", "FR1420041010050500013M02606") is None  # Réunion
    assert bic_matches_iban("AGRIGPGX", "FR1420041010050500013M02606") is None  # Guadeloupe
    assert bic_matches_iban("RBOSJESH", "GB82WEST12345698765432") is None  # Jersey
    assert bic_matches_iban("BNPARERX", "BE68539007547034") is not None


def test_bic_matches_iban_leaves_malformed_values_to_their_own_checks() -> None:
    assert bic_matches_iban("", "FR1420041010050500013M02606") is None
    assert bic_matches_iban("DEUT", "FR1420041010050500013M02606") is None
    assert bic_matches_iban("DEUTDEFF", "12") is None
    assert bic_matches_iban("DEUTZZFF", "FR1420041010050500013M02606") is None


# --- Account numbers without IBAN -----------------------------------------------------------


def test_valid_account_numbers() -> None:
    assert account_number_problem("0012-3456 7890") is None
    assert account_number_problem("1234") is None
    assert account_number_problem("A" * 34) is None
    assert account_number_problem("gb 123 abc") is None


def test_account_number_problems() -> None:
    assert account_number_problem("") == "No account number was given."
    assert account_number_problem(" - ") == "No account number was given."
    assert account_number_problem("123") == (
        "An account number has at least 4 characters; this one has 3."
    )
    assert account_number_problem("1" * 35) == (
        "An account number has at most 34 characters; this one has 35."
    )
    assert account_number_problem("1234/5678") == (
        "The account number may contain only letters and digits."
    )
    assert account_number_problem("1234.5678") == (
        "The account number may contain only letters and digits."
    )
