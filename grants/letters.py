"""The award letter: a PDF in the association's language, right to left in Arabic.

The programme office sends each funded association a letter that states the grant, how
and when it is paid, which reports are due, and what accepting it commits the association
to. Associations keep and forward it (to their bank, their members, co-funders), so it is a
PDF rather than a web page, and it is written in their language, Arabic included.

fpdf2 writes the PDF with DejaVu Sans, one font with both Latin and Arabic glyphs, and
shapes the text with HarfBuzz (uharfbuzz) so Arabic letters join and run right to left.
Amounts are written with ISO currency codes ("USD 32,000.00"), which, unlike "$" or
"F CFA", cannot be mistaken for another currency. The creation date is taken from the
offer date, so the same letter always gives the same bytes.

The caller reads the award from the database into an :class:`AwardLetter` and calls
:func:`render_award_letter` inside a Flask app context (labels go through Flask-Babel).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from fpdf import FPDF, FontFace

from grants.i18n import RIGHT_TO_LEFT

# fpdf2's font subsetting logs a dozen INFO lines per letter: noise in every log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"
FONT_PACKAGE = "fonts-dejavu-core"
FONT = "DejaVuSans"

MARGIN = 20  # mm, left and right
TOP_MARGIN = 18
BOTTOM_MARGIN = 22  # room for the footer
BODY_SIZE = 10
LINE = 5.2  # mm per line of body text
GREY_TEXT = 90
RULE_GREY = 170
HEADING_FILL = (238, 240, 243)
GRID_PADDING = 1.4  # mm above and below the text of a table cell
KEEP_AT_MOST = 90  # mm: a longer table may start at the foot of a page


@dataclass(frozen=True)
class LetterTranche:
    position: int
    percentage: Decimal
    amount: Decimal
    condition: str | None  # None, "interim" or "final": paid once that report is accepted


@dataclass(frozen=True)
class LetterReport:
    kind: str  # "interim" or "final"
    due_date: date


@dataclass(frozen=True)
class AwardLetter:
    programme: str  # e.g. "Migration for Sustainable Development — Diaspora Grants"
    reference: str  # application reference, e.g. "SN-EMP-2027-0001"
    call_title: str  # already in the reader's language
    association_name: str
    association_country: str  # ISO 3166 alpha-2 of residence, e.g. "FR"
    amount: Decimal
    currency: str  # programme currency, e.g. "USD"
    budget_currency: str | None  # e.g. "XOF" when the budget is in another currency
    exchange_rate: Decimal | None  # units of budget_currency per 1 unit of currency
    exchange_rate_date: date | None
    conditions: str  # free text from the committee, may be ""
    offered_on: date
    start_date: date | None
    duration_months: int | None
    tranches: tuple[LetterTranche, ...]
    reports: tuple[LetterReport, ...]
    #: Where anyone holding the letter checks it against the programme's record.
    check_url: str = ""


def render_award_letter(letter: AwardLetter, locale: str) -> bytes:
    """The award letter as PDF bytes, in ``locale`` (en, fr, es or ar)."""
    _check_fonts()
    with force_locale(locale):
        # Laid out twice: the first pass counts the pages for "Page n of m". fpdf2's own
        # page-count alias is filled in after shaping, which misplaces it in Arabic.
        draft = _LetterWriter(letter, locale, total_pages=None)
        draft.write()
        writer = _LetterWriter(letter, locale, total_pages=draft.pdf.pages_count)
        writer.write()
        return bytes(writer.pdf.output())


def _check_fonts() -> None:
    """Fail with the remedy when the DejaVu fonts are not installed."""
    for path in (FONT_REGULAR, FONT_BOLD):
        if not Path(path).is_file():
            raise RuntimeError(
                f"The award letter needs the font {path}, which is missing: install the "
                f"Debian package {FONT_PACKAGE} (apt-get install {FONT_PACKAGE})."
            )


# Formatting ----------------------------------------------------------------------------------


def _money(amount: Decimal, currency: str, locale: str) -> str:
    """An amount with its ISO code, in the locale's pattern: "USD 32,000.00", "32 000,00 USD".

    The currency's own number of decimals applies (none for XOF)."""
    pattern = Locale.parse(locale).currency_formats["standard"].pattern.split(";")[0]
    pattern = pattern.replace("¤", "¤¤")
    pattern = pattern.replace("¤¤#", "¤¤\u00a0#").replace("0¤¤", "0\u00a0¤¤")
    return format_currency(amount, currency, format=pattern, locale=locale)


def _percent(percentage: Decimal, locale: str) -> str:
    """40 → "40%" (or "40 %"), keeping decimals that are there: 33.33 → "33.33%"."""
    return format_percent(
        (Decimal(percentage) / 100).normalize(), locale=locale, decimal_quantization=False
    )


def _long_date(day: date, locale: str) -> str:
    """A long date ("1 December 2027"), kept on one line by no-break spaces."""
    return format_date(day, "long", locale=locale).replace(" ", "\u00a0")


# Writing -------------------------------------------------------------------------------------


class _LetterPDF(FPDF):
    """An A4 page with the reference and "Page n of m" in the footer."""

    def __init__(self, reference: str, rtl: bool, total_pages: int | None) -> None:
        super().__init__(format="A4")
        self.reference = reference
        self.rtl = rtl
        self.total_pages = total_pages

    def footer(self) -> None:
        self.set_y(-15)
        y = self.get_y()
        self.set_draw_color(RULE_GREY)
        self.set_line_width(0.2)
        self.line(self.l_margin, y, self.w - self.r_margin, y)
        self.set_font(FONT, size=8)
        self.set_text_color(GREY_TEXT)
        page = _("Page %(page)s of %(pages)s", page=self.page_no(), pages=self.total_pages or "")
        start, end = ("R", "L") if self.rtl else ("L", "R")
        self.set_xy(self.l_margin, y + 1.5)
        self.cell(0, 5, self.reference, align=start)
        self.set_xy(self.l_margin, y + 1.5)
        self.cell(0, 5, page, align=end)
        self.set_text_color(0)


class _LetterWriter:
    """Lays out one letter: heading, addressee, grant, payments, reports, acceptance."""

    def __init__(self, letter: AwardLetter, locale: str, total_pages: int | None) -> None:
        self.letter = letter
        self.total_pages = total_pages
        self.locale = locale
        self.rtl = locale.split("_")[0] in RIGHT_TO_LEFT
        self.start = "R" if self.rtl else "L"
        self.pdf = self._new_pdf()

    def _new_pdf(self) -> _LetterPDF:
        letter = self.letter
        pdf = _LetterPDF(letter.reference, self.rtl, self.total_pages)
        pdf.add_font(FONT, "", str(FONT_REGULAR))
        pdf.add_font(FONT, "B", str(FONT_BOLD))
        # Paragraphs run right to left in Arabic. The script is left for HarfBuzz to guess
        # run by run: forcing "arab" would also shape the Latin names and amounts of the
        # letter as Arabic, and lose their kerning.
        pdf.set_text_shaping(use_shaping_engine=True, direction="rtl" if self.rtl else "ltr")
        pdf.set_margins(MARGIN, TOP_MARGIN, MARGIN)
        pdf.set_auto_page_break(True, margin=BOTTOM_MARGIN)
        pdf.set_creation_date(datetime.combine(letter.offered_on, time(), tzinfo=UTC))
        pdf.set_title(_("Award letter %(reference)s", reference=letter.reference))
        pdf.set_subject(letter.call_title)
        pdf.set_author(letter.programme)
        pdf.set_creator(letter.programme)
        pdf.set_lang(self.locale.replace("_", "-"))
        return pdf

    # Building blocks -------------------------------------------------------------------------

    def _font(self, size: float = BODY_SIZE, bold: bool = False) -> None:
        self.pdf.set_font(FONT, "B" if bold else "", size)

    def _paragraph(
        self, text: str, size: float = BODY_SIZE, bold: bool = False, free: bool = False
    ) -> None:
        """A paragraph aligned to the reading start. ``free`` text (written by people, in
        any language) runs in the direction of its first letter, not the letter's."""
        self._font(size, bold)
        shaping = self.pdf.text_shaping
        forced = shaping["direction"] if shaping else None
        if free and shaping:
            shaping["direction"] = None
        try:
            self.pdf.multi_cell(
                0, LINE * size / BODY_SIZE, text, align=self.start, new_x="LMARGIN", new_y="NEXT"
            )
        finally:
            if shaping:
                shaping["direction"] = forced

    def _section(self, title: str, keep: float = 3 * LINE) -> None:
        """A bold section title, on a new page unless ``keep`` mm of what follows fit too."""
        if self.pdf.will_page_break(3 * LINE + min(keep, KEEP_AT_MOST)):
            self.pdf.add_page()
        self.pdf.ln(3)
        self._paragraph(title, size=11, bold=True)
        self.pdf.ln(1)

    def _rule(self, width: float = 0.4, grey: int = 60) -> None:
        pdf = self.pdf
        pdf.set_draw_color(grey)
        pdf.set_line_width(width)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())

    def _ordered(self, items: Sequence) -> list:
        """Columns from the reading start: reversed on the page for right to left."""
        return list(reversed(items)) if self.rtl else list(items)

    def _key_values(self, rows: Sequence[tuple[str, str]], label_width: float = 48) -> None:
        """Bold labels beside their values, without borders."""
        pdf = self.pdf
        self._font()
        value_width = pdf.epw - label_width
        bold = FontFace(emphasis="BOLD")
        with pdf.table(
            col_widths=tuple(self._ordered((label_width, value_width))),
            width=pdf.epw,
            borders_layout="NONE",
            first_row_as_headings=False,
            text_align=self.start,
            v_align="TOP",
            line_height=LINE,
            padding=(0.8, 0),
            gutter_width=3,
        ) as table:
            for label, value in rows:
                row = table.row()
                for text, style in self._ordered(((label, bold), (value, None))):
                    row.cell(text, style=style, align=self.start)

    def _grid(
        self,
        title: str,
        headings: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[float],
        numeric: Sequence[bool],
    ) -> None:
        """A titled table with a shaded heading row and thin lines between rows, on one page
        when it is short enough."""
        pdf = self.pdf
        self._section(title, keep=(len(rows) + 1) * (LINE + 2 * GRID_PADDING))
        self._font()
        aligns = ["R" if self.rtl or is_number else "L" for is_number in numeric]
        pdf.set_draw_color(RULE_GREY)
        pdf.set_line_width(0.2)
        with pdf.table(
            col_widths=tuple(self._ordered(widths)),
            width=pdf.epw,
            borders_layout="HORIZONTAL_LINES",
            text_align=tuple(self._ordered(aligns)),
            headings_style=FontFace(emphasis="BOLD", fill_color=HEADING_FILL),
            line_height=LINE,
            padding=(GRID_PADDING, 2),
            v_align="MIDDLE",
        ) as table:
            for cells in (headings, *rows):
                row = table.row()
                for text in self._ordered(cells):
                    row.cell(text)

    # The letter --------------------------------------------------------------------------------

    def write(self) -> None:
        self.pdf.add_page()
        self._heading()
        self._addressee()
        self._grant()
        if self.letter.conditions.strip():
            self._section(_("Conditions set by the committee"))
            self._paragraph(self.letter.conditions.strip(), free=True)
        if self.letter.tranches:
            self._payments()
        if self.letter.reports:
            self._reports()
        self._acceptance()

    def _heading(self) -> None:
        self._paragraph(self.letter.programme, size=15, bold=True, free=True)
        self.pdf.ln(1.5)
        self._rule()
        self.pdf.ln(4)

    def _addressee(self) -> None:
        letter = self.letter
        country = Locale.parse(self.locale).territories.get(
            letter.association_country.upper(), letter.association_country
        )
        self._key_values(
            [
                (_("Date"), _long_date(letter.offered_on, self.locale)),
                (_("Reference"), letter.reference),
                (_("To"), f"{letter.association_name}\n{country}"),
            ]
        )
        self.pdf.ln(5)

    def _grant(self) -> None:
        letter = self.letter
        self._paragraph(_("Award letter"), size=12, bold=True)
        self.pdf.ln(1.5)
        self._paragraph(
            _(
                "We are pleased to inform you that the selection committee has awarded "
                "%(association)s a grant under the call “%(call)s”, on the terms set out "
                "in this letter.",
                association=letter.association_name,
                call=letter.call_title,
            )
        )
        self.pdf.ln(3)
        rows = [(_("Amount of the grant"), self._amount_text())]
        if letter.start_date is not None:
            rows.append((_("Start of the project"), _long_date(letter.start_date, self.locale)))
        if letter.duration_months is not None:
            rows.append(
                (
                    _("Duration"),
                    ngettext("%(num)d month", "%(num)d months", letter.duration_months),
                )
            )
        self._key_values(rows)

    def _amount_text(self) -> str:
        """The grant in the programme currency, and in the budget currency when it differs."""
        letter = self.letter
        amount = _money(letter.amount, letter.currency, self.locale)
        if (
            not letter.budget_currency
            or letter.budget_currency == letter.currency
            or letter.exchange_rate is None
        ):
            return amount
        values = {
            "amount": amount,
            "equivalent": _money(
                letter.amount * letter.exchange_rate, letter.budget_currency, self.locale
            ),
            "rate": format_decimal(
                letter.exchange_rate.normalize(), locale=self.locale, decimal_quantization=False
            ),
            "budget_currency": letter.budget_currency,
            "currency": letter.currency,
        }
        if letter.exchange_rate_date is None:
            return _(
                "%(amount)s, that is %(equivalent)s at %(rate)s %(budget_currency)s "
                "per %(currency)s",
                **values,
            )
        return _(
            "%(amount)s, that is %(equivalent)s at %(rate)s %(budget_currency)s "
            "per %(currency)s on %(rate_date)s",
            rate_date=_long_date(letter.exchange_rate_date, self.locale),
            **values,
        )

    def _payments(self) -> None:
        letter = self.letter
        when = {
            None: _("On signature of this letter"),
            "interim": _("After the interim report is accepted"),
            "final": _("After the final report is accepted"),
        }
        rows = [
            (
                str(tranche.position),
                _percent(tranche.percentage, self.locale),
                _money(tranche.amount, letter.currency, self.locale),
                when.get(tranche.condition, tranche.condition or ""),
            )
            for tranche in sorted(letter.tranches, key=lambda t: t.position)
        ]
        self._grid(
            _("Payment of the grant"),
            (_("Tranche"), _("Share"), _("Amount"), _("Paid")),
            rows,
            widths=(14, 14, 27, 45),
            numeric=(True, True, True, False),
        )

    def _reports(self) -> None:
        names = {"interim": _("Interim report"), "final": _("Final report")}
        rows = [
            (names.get(report.kind, report.kind), _long_date(report.due_date, self.locale))
            for report in sorted(self.letter.reports, key=lambda r: r.due_date)
        ]
        self._grid(
            _("Reports"),
            (_("Report"), _("Due date")),
            rows,
            widths=(55, 45),
            numeric=(False, False),
        )

    def _acceptance(self) -> None:
        self._section(_("Accepting the grant"), keep=8 * LINE)
        self._paragraph(
            _(
                "To accept the grant, confirm that you have read this letter and give the name "
                "and role of the person who signs for the association, and the association's "
                "bank details. The grant becomes active once you have accepted it. Every "
                "payment is made to the account you give; a change of bank details takes "
                "effect only once the programme office has approved it."
            )
        )
        if self.letter.check_url:
            self.pdf.ln(3)
            self._paragraph(
                _(
                    "This letter carries the programme's electronic signature. Anyone holding "
                    "it can check that the programme issued it, unaltered, at %(url)s.",
                    url=self.letter.check_url,
                )
            )
        self.pdf.ln(6)
        self._paragraph(_("The programme office"), bold=True)
        self._paragraph(self.letter.programme, free=True)
