"""The award letter PDF: the data in each language, Arabic right to left, stable bytes.

Labels stay English until the catalogs are translated, so the checks read only data:
numbers, names and dates, as Babel formats them for the locale.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader

from grants import letters
from grants.letters import AwardLetter, LetterReport, LetterTranche, render_award_letter

REFERENCE = "SN-EMP-2027-0001"
ASSOCIATION = "Association des Sénégalais de Lyon pour le Développement"
PROGRAMME = "Migration for Sustainable Development — Diaspora Grants"

LETTER = AwardLetter(
    programme=PROGRAMME,
    reference=REFERENCE,
    call_title="Youth employment in the regions of origin",
    association_name=ASSOCIATION,
    association_country="FR",
    amount=Decimal("32000.00"),
    currency="USD",
    budget_currency="XOF",
    exchange_rate=Decimal("600.000000"),
    exchange_rate_date=date(2027, 5, 10),
    conditions="Open a bank account dedicated to the project before the first payment.",
    offered_on=date(2027, 6, 14),
    start_date=date(2027, 7, 1),
    duration_months=12,
    tranches=(
        LetterTranche(1, Decimal("40.00"), Decimal("12800.00"), None),
        LetterTranche(2, Decimal("40.00"), Decimal("12800.00"), "interim"),
        LetterTranche(3, Decimal("20.00"), Decimal("6400.00"), "final"),
    ),
    reports=(
        LetterReport("interim", date(2027, 12, 1)),
        LetterReport("final", date(2028, 6, 1)),
    ),
)


@pytest.fixture
def render(app):
    """Render a letter inside an app context, as the web views and jobs do."""

    def _render(letter: AwardLetter, locale: str) -> bytes:
        with app.app_context():
            return render_award_letter(letter, locale)

    return _render


def _text(pdf: bytes) -> str:
    """The text of every page, with runs of whitespace (no-break ones too) as one space."""
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text)


def _fonts(pdf: bytes) -> set[str]:
    reader = PdfReader(io.BytesIO(pdf))
    return {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }


def _x_of(pdf: bytes, needle: str) -> float:
    """Where on the first page (in points from the left) the text ``needle`` starts."""
    positions: list[float] = []

    def visit(text, cm, tm, font_dict, font_size):
        if needle in text:
            positions.append(tm[4] * cm[0] + cm[4])

    PdfReader(io.BytesIO(pdf)).pages[0].extract_text(visitor_text=visit)
    assert positions, f"{needle!r} not found"
    return positions[0]


def test_english_letter_states_the_grant_payments_and_reports(render):
    pdf = render(LETTER, "en")

    assert pdf.startswith(b"%PDF")
    text = _text(pdf)
    assert REFERENCE in text
    assert ASSOCIATION in text
    assert "USD 32,000.00" in text
    assert "XOF 19,200,000" in text
    assert "December 1, 2027" in text or "1 December 2027" in text
    assert "June 1, 2028" in text or "1 June 2028" in text
    assert text.count("12,800.00") == 2
    assert "6,400.00" in text
    assert text.count("40%") == 2 and "20%" in text
    assert "Open a bank account dedicated to the project" in text


def test_french_letter_formats_amounts_and_dates_for_france(render):
    text = _text(render(LETTER, "fr"))

    assert "32 000,00" in text
    assert "19 200 000" in text
    assert "1 décembre 2027" in text
    assert "12 800,00" in text and "6 400,00" in text
    assert "France" in text


def test_arabic_letter_embeds_dejavu_and_runs_right_to_left(render):
    pdf = render(replace(LETTER, call_title="تشغيل الشباب في مناطق المنشأ"), "ar")

    assert pdf.startswith(b"%PDF")
    assert any("DejaVuSans" in font for font in _fonts(pdf))
    text = _text(pdf)
    assert REFERENCE in text
    assert "فرنسا" in text  # the country, named in Arabic
    assert "ديسمبر" in text  # the month of the interim report
    # The reference sits at the right of the page in Arabic, at the left in English.
    assert _x_of(pdf, REFERENCE) > 250
    assert _x_of(render(LETTER, "en"), REFERENCE) < 250


def test_metadata_names_the_programme_and_dates_the_offer(render):
    reader = PdfReader(io.BytesIO(render(LETTER, "en")))

    assert reader.metadata.author == PROGRAMME
    assert REFERENCE in reader.metadata.title
    assert reader.metadata.creation_date == datetime(2027, 6, 14, tzinfo=UTC)


@pytest.mark.parametrize("locale", ["en", "ar"])
def test_the_same_letter_gives_the_same_bytes(render, locale):
    assert render(LETTER, locale) == render(LETTER, locale)


def test_without_a_budget_currency_there_is_no_exchange_sentence(render):
    letter = replace(LETTER, budget_currency=None, exchange_rate=None, exchange_rate_date=None)

    text = _text(render(letter, "en"))

    assert "USD 32,000.00" in text
    assert "XOF" not in text
    assert "19,200,000" not in text
    assert "May 10, 2027" not in text and "10 May 2027" not in text


def test_optional_parts_are_left_out(render):
    letter = replace(LETTER, conditions="", start_date=None, duration_months=None)

    text = _text(render(letter, "en"))

    assert "July 1, 2027" not in text and "1 July 2027" not in text
    assert "Open a bank account" not in text
    assert "12,800.00" in text


def test_long_conditions_continue_on_a_second_page(render):
    conditions = "\n".join(
        f"{n}. The association keeps every receipt of the project." for n in range(60)
    )

    pdf = render(replace(LETTER, conditions=conditions), "fr")

    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 2
    text = _text(pdf)
    assert "59. The association keeps every receipt" in text
    assert "1 juin 2028" in text


def test_missing_font_names_the_package_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(letters, "FONT_REGULAR", tmp_path / "DejaVuSans.ttf")

    with pytest.raises(RuntimeError, match="fonts-dejavu-core"):
        render_award_letter(LETTER, "en")
