"""Checking the bank details an association gives when it accepts a grant.

The grant is paid to whatever account is written down here, so a mistyped IBAN means money
sent to a stranger or bounced weeks later, and a swapped account is a classic way to divert
a payment. Everything an association types is therefore checked before it is stored:

* an IBAN (ISO 13616) must have a country that uses IBANs, that country's exact length and
  matching mod-97 check digits, which catch every single mistyped digit and all but about
  one in a hundred other typing mistakes;
* a SWIFT/BIC (ISO 9362) must have the right shape and a real country code;
* the BIC's country must be the IBAN's country, because a mismatch is either a mistake or
  a sign that someone is redirecting the payment;
* for countries without IBANs, a plain account number is at least checked for its size and
  characters.

Each ``*_problem`` function returns ``None`` when the value is fine, or one plain English
sentence that the volunteer filling in the form can act on. Everything here is a pure
function of its arguments, so forms, the API and imports can all share it.
"""

from __future__ import annotations

import re
import unicodedata

from workflows.sentences import CountryName, Sentence, _l

#: IBAN length per country, from the SWIFT IBAN registry (ISO 13616), 89 countries.
IBAN_REGISTRY_LENGTHS: dict[str, int] = {
    "AD": 24,  # Andorra
    "AE": 23,  # United Arab Emirates
    "AL": 28,  # Albania
    "AT": 20,  # Austria
    "AZ": 28,  # Azerbaijan
    "BA": 20,  # Bosnia and Herzegovina
    "BE": 16,  # Belgium
    "BG": 22,  # Bulgaria
    "BH": 22,  # Bahrain
    "BI": 27,  # Burundi
    "BR": 29,  # Brazil
    "BY": 28,  # Belarus
    "CH": 21,  # Switzerland
    "CR": 22,  # Costa Rica
    "CY": 28,  # Cyprus
    "CZ": 24,  # Czechia
    "DE": 22,  # Germany
    "DJ": 27,  # Djibouti
    "DK": 18,  # Denmark
    "DO": 28,  # Dominican Republic
    "EE": 20,  # Estonia
    "EG": 29,  # Egypt
    "ES": 24,  # Spain
    "FI": 18,  # Finland (and Åland)
    "FK": 18,  # Falkland Islands
    "FO": 18,  # Faroe Islands
    "FR": 27,  # France (and its overseas departments and territories)
    "GB": 22,  # United Kingdom (and Jersey, Guernsey, Isle of Man)
    "GE": 22,  # Georgia
    "GI": 23,  # Gibraltar
    "GL": 18,  # Greenland
    "GR": 27,  # Greece
    "GT": 28,  # Guatemala
    "HN": 28,  # Honduras
    "HR": 21,  # Croatia
    "HU": 28,  # Hungary
    "IE": 22,  # Ireland
    "IL": 23,  # Israel
    "IQ": 23,  # Iraq
    "IS": 26,  # Iceland
    "IT": 27,  # Italy
    "JO": 30,  # Jordan
    "KW": 30,  # Kuwait
    "KZ": 20,  # Kazakhstan
    "LB": 28,  # Lebanon
    "LC": 32,  # Saint Lucia
    "LI": 21,  # Liechtenstein
    "LT": 20,  # Lithuania
    "LU": 20,  # Luxembourg
    "LV": 21,  # Latvia
    "LY": 25,  # Libya
    "MC": 27,  # Monaco
    "MD": 24,  # Moldova
    "ME": 22,  # Montenegro
    "MK": 19,  # North Macedonia
    "MN": 20,  # Mongolia
    "MR": 27,  # Mauritania
    "MT": 31,  # Malta
    "MU": 30,  # Mauritius
    "NI": 28,  # Nicaragua
    "NL": 18,  # Netherlands
    "NO": 15,  # Norway
    "OM": 23,  # Oman
    "PK": 24,  # Pakistan
    "PL": 28,  # Poland
    "PS": 29,  # Palestine
    "PT": 25,  # Portugal
    "QA": 29,  # Qatar
    "RO": 24,  # Romania
    "RS": 22,  # Serbia
    "RU": 33,  # Russia
    "SA": 24,  # Saudi Arabia
    "SC": 31,  # Seychelles
    "SD": 18,  # Sudan
    "SE": 24,  # Sweden
    "SI": 19,  # Slovenia
    "SK": 24,  # Slovakia
    "SM": 27,  # San Marino
    "SO": 23,  # Somalia
    "ST": 25,  # São Tomé and Príncipe
    "SV": 28,  # El Salvador
    "TL": 23,  # Timor-Leste
    "TN": 24,  # Tunisia
    "TR": 26,  # Türkiye
    "UA": 29,  # Ukraine
    "VA": 22,  # Vatican City
    "VG": 24,  # British Virgin Islands
    "XK": 20,  # Kosovo
    "YE": 30,  # Yemen
}

#: Countries whose banks issue IBANs without being in the SWIFT registry (the "experimental"
#: list published by iban.com): most of francophone Africa, where many of our associations'
#: partners bank, plus Algeria, Angola, Cape Verde, Iran, Morocco and Mozambique.
NATIONAL_IBAN_LENGTHS: dict[str, int] = {
    "AO": 25,  # Angola
    "BF": 28,  # Burkina Faso
    "BJ": 28,  # Benin
    "CF": 27,  # Central African Republic
    "CG": 27,  # Republic of the Congo
    "CI": 28,  # Côte d'Ivoire
    "CM": 27,  # Cameroon
    "CV": 25,  # Cape Verde
    "DZ": 26,  # Algeria
    "GA": 27,  # Gabon
    "GQ": 27,  # Equatorial Guinea
    "GW": 25,  # Guinea-Bissau
    "IR": 26,  # Iran
    "KM": 27,  # Comoros
    "MA": 28,  # Morocco
    "MG": 27,  # Madagascar
    "ML": 28,  # Mali
    "MZ": 25,  # Mozambique
    "NE": 28,  # Niger
    "SN": 28,  # Senegal
    "TD": 27,  # Chad
    "TG": 28,  # Togo
}

#: Every country whose IBANs we accept, with their length.
IBAN_LENGTHS: dict[str, int] = {**IBAN_REGISTRY_LENGTHS, **NATIONAL_IBAN_LENGTHS}

#: Every current ISO 3166-1 alpha-2 country code (249), plus XK (Kosovo), which SWIFT uses.
COUNTRY_CODES: frozenset[str] = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
    BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
    CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
    DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET
    FI FJ FK FM FO FR
    GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
    HK HM HN HR HT HU
    ID IE IL IM IN IO IQ IR IS IT
    JE JM JO JP
    KE KG KH KI KM KN KP KR KW KY KZ
    LA LB LC LI LK LR LS LT LU LV LY
    MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
    NA NC NE NF NG NI NL NO NP NR NU NZ
    OM
    PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA
    RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
    TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ
    UA UG UM US UY UZ
    VA VC VE VG VI VN VU
    WF WS
    YE YT
    ZA ZM ZW
    XK
    """.split()
)

#: Territories with their own ISO code (so their banks' BICs carry it) whose accounts have
#: the IBAN of another country: French overseas departments and territories use FR, the
#: Crown Dependencies GB, Åland FI.
IBAN_COUNTRY_OF_TERRITORY: dict[str, str] = {
    **dict.fromkeys(("BL", "GF", "GP", "MF", "MQ", "NC", "PF", "PM", "RE", "TF", "WF", "YT"), "FR"),
    **dict.fromkeys(("GG", "IM", "JE"), "GB"),
    "AX": "FI",
}

ACCOUNT_NUMBER_MIN_LENGTH = 4
ACCOUNT_NUMBER_MAX_LENGTH = 34

_ALPHANUMERIC = re.compile(r"[A-Z0-9]+")
_LETTERS = re.compile(r"[A-Z]+")
_DIGITS = re.compile(r"[0-9]+")
#: What people put between groups of an IBAN: spaces of all kinds, hyphens and dashes, dots.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212.]+")
_ACCOUNT_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
_WHITESPACE = re.compile(r"\s+")


def _ascii_digits(text: str) -> str:
    """Replace digits from other scripts (e.g. Arabic-Indic ٣) by 0-9."""
    return "".join(str(unicodedata.digit(c)) if c.isdecimal() else c for c in text)


def _clean(raw: str, separators: re.Pattern[str]) -> str:
    """Fold compatibility forms (full-width letters), drop separators, uppercase.

    Normalising again at the end makes this idempotent: dropping a separator can bring a
    letter and an accent together, and they then compose (which ``iban_problem`` refuses).
    """
    text = separators.sub("", unicodedata.normalize("NFKC", raw or ""))
    text = unicodedata.normalize("NFKC", _ascii_digits(text).upper())
    return separators.sub("", text)


# --- IBAN -----------------------------------------------------------------------------------


def normalise_iban(raw: str) -> str:
    """The IBAN in electronic form: no spaces, hyphens or dots, uppercase."""
    return _clean(raw, _SEPARATORS)


def iban_mod97(iban: str) -> int:
    """ISO 7064 MOD 97-10 of a normalised IBAN; 1 when its check digits are right.

    The first four characters move to the end, letters become numbers (A=10 .. Z=35), and
    the resulting number is divided by 97.
    """
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97


def iban_problem(raw: str) -> Sentence | None:
    """None when ``raw`` is a valid IBAN, else one sentence saying what is wrong."""
    iban = normalise_iban(raw)
    if not iban:
        return _l("No IBAN was given.")
    if not _ALPHANUMERIC.fullmatch(iban):
        return _l("The IBAN may contain only letters and digits.")
    country = iban[:2]
    if len(country) < 2 or not _LETTERS.fullmatch(country):
        return _l("The IBAN must start with a two-letter country code.")
    if country not in IBAN_LENGTHS:
        return _l(
            "%(code)s is not a country that uses IBANs; give the account number instead.",
            code=country,
        )
    expected = IBAN_LENGTHS[country]
    if len(iban) != expected:
        return _l(
            "An IBAN from %(country)s has %(expected)s characters; this one has %(length)s.",
            country=CountryName(country),
            expected=expected,
            length=len(iban),
        )
    if not _DIGITS.fullmatch(iban[2:4]):
        return _l("The IBAN's 3rd and 4th characters must be digits (its check digits).")
    # 00, 01 and 99 are never issued: they are aliases of 97, 98 and 02.
    if iban_mod97(iban) != 1 or iban[2:4] in ("00", "01", "99"):
        return _l("The IBAN's check digits do not match: check for a typing mistake.")
    return None


def format_iban(raw: str) -> str:
    """The normalised IBAN in groups of four, for display: ``FR14 2004 1010 ...``."""
    iban = normalise_iban(raw)
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


# --- SWIFT/BIC ------------------------------------------------------------------------------


def normalise_bic(raw: str) -> str:
    """The BIC without spaces, uppercase."""
    return _clean(raw, _WHITESPACE)


def bic_problem(raw: str) -> Sentence | None:
    """None when ``raw`` is a well-formed SWIFT/BIC (ISO 9362), else one sentence.

    Layout: 4 letters for the bank, 2 letters for its country, 2 letters or digits for
    its location and, optionally, 3 letters or digits for the branch.
    """
    bic = normalise_bic(raw)
    if not bic:
        return _l("No SWIFT/BIC was given.")
    if not _ALPHANUMERIC.fullmatch(bic):
        return _l("The SWIFT/BIC may contain only letters and digits.")
    if len(bic) not in (8, 11):
        return _l("A SWIFT/BIC has 8 or 11 characters; this one has %(length)s.", length=len(bic))
    if not _LETTERS.fullmatch(bic[:4]):
        return _l("The SWIFT/BIC's first four characters (the bank's code) must be letters.")
    country = bic[4:6]
    if country not in COUNTRY_CODES:
        return _l(
            "The SWIFT/BIC's 5th and 6th characters must be a country code; %(code)s is not one.",
            code=country,
        )
    if bic[7] == "0":
        return _l("This SWIFT/BIC is a test code (its 8th character is 0), not a real bank's.")
    branch = bic[8:]
    if branch.startswith("X") and branch != "XXX":
        return _l(
            "The SWIFT/BIC's last three characters (the branch) may start with X only as XXX."
        )
    return None


def bic_matches_iban(bic: str, iban: str) -> Sentence | None:
    """None when the BIC's bank is in the IBAN's country, else one sentence.

    Only the countries are compared; when either value is too malformed to have one, this
    returns None and leaves the complaint to :func:`bic_problem` or :func:`iban_problem`.
    Banks in territories that use another country's IBANs (Réunion, Jersey...) match it.
    """
    bic_country = normalise_bic(bic)[4:6]
    iban_country = normalise_iban(iban)[:2]
    if bic_country not in COUNTRY_CODES or not _LETTERS.fullmatch(iban_country):
        return None
    if IBAN_COUNTRY_OF_TERRITORY.get(bic_country, bic_country) == iban_country:
        return None
    return _l(
        "The SWIFT/BIC is for a bank in %(bank_country)s (%(bank_code)s), "
        "the IBAN for an account in %(account_country)s (%(account_code)s).",
        bank_country=CountryName(bic_country),
        bank_code=bic_country,
        account_country=CountryName(iban_country),
        account_code=iban_country,
    )


# --- Account numbers without IBAN -----------------------------------------------------------


def normalise_account_number(raw: str) -> str:
    """The account number without spaces or hyphens, uppercase."""
    return _clean(raw, _ACCOUNT_SEPARATORS)


def account_number_problem(raw: str) -> Sentence | None:
    """None when ``raw`` is a plausible account number for a country without IBANs.

    Such numbers have no common format or check digits, so only the size (4 to 34
    characters, the IBAN maximum) and the characters (letters and digits) are checked.
    """
    number = normalise_account_number(raw)
    if not number:
        return _l("No account number was given.")
    if not _ALPHANUMERIC.fullmatch(number):
        return _l("The account number may contain only letters and digits.")
    if len(number) < ACCOUNT_NUMBER_MIN_LENGTH:
        return _l(
            "An account number has at least %(minimum)s characters; this one has %(length)s.",
            minimum=ACCOUNT_NUMBER_MIN_LENGTH,
            length=len(number),
        )
    if len(number) > ACCOUNT_NUMBER_MAX_LENGTH:
        return _l(
            "An account number has at most %(maximum)s characters; this one has %(length)s.",
            maximum=ACCOUNT_NUMBER_MAX_LENGTH,
            length=len(number),
        )
    return None


BANK_FIELDS = ("account_holder", "iban", "account_number", "bank_name", "bic")


def bank_details_problems(details: dict[str, str]) -> dict[str, list[Sentence]]:
    """Every problem with a set of bank details, by field; empty when they can be used.

    An IBAN or, where the country has none, an account number; the holder, the bank and
    a SWIFT/BIC consistent with the IBAN's country. ``details`` is normalised in place.
    """
    problems: dict[str, list[str]] = {}
    holder = (details.get("account_holder") or "").strip()
    bank = (details.get("bank_name") or "").strip()
    iban = normalise_iban(details.get("iban") or "")
    account = normalise_account_number(details.get("account_number") or "")
    bic = normalise_bic(details.get("bic") or "")
    if not holder:
        problems["account_holder"] = [_l("Give the name of the account holder.")]
    if not bank:
        problems["bank_name"] = [_l("Give the name of the bank.")]
    if iban:
        if problem := iban_problem(iban):
            problems["iban"] = [problem]
    elif account:
        if problem := account_number_problem(account):
            problems["account_number"] = [problem]
    else:
        problems["iban"] = [_l("Give the IBAN, or the account number where the country has none.")]
    if not bic:
        problems["bic"] = [_l("Give the bank's SWIFT/BIC.")]
    elif problem := bic_problem(bic):
        problems["bic"] = [problem]
    elif iban and "iban" not in problems and (problem := bic_matches_iban(bic, iban)):
        problems["bic"] = [problem]
    details.update(
        account_holder=holder, bank_name=bank, iban=iban, account_number=account, bic=bic
    )
    return problems
