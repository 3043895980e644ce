"""Fields shared by several forms, each with its own validation message."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import Field, Form, HiddenField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError
from wtforms.widgets import TextInput

from grants.minus_sign import minus_in_front
from grants.numbers import (
    AMOUNT_MAX,
    INTEGER_MAX,
    MACHINE,
    NumberRefused,
    as_typed,
    read_number,
    reader_locale,
)
from grants.reference import active_currencies, country_names, language_names
from grants.text_limits import TextLimit


class VersionField(HiddenField):
    """The version of a record the form was read at. Anything but a whole number in
    range reads as ``None``, which every version check treats as stale: the person is
    told the record changed (409), and a tampered field never crashes the save."""

    _WHOLE = re.compile(r"[0-9]{1,9}")

    def process_formdata(self, valuelist):
        raw = valuelist[0].strip() if valuelist else ""
        self.data = int(raw) if self._WHOLE.fullmatch(raw) else None

    def _value(self) -> str:
        return "" if self.data is None else str(self.data)


class CountryField(SelectField):
    """A country, stored as its ISO 3166-1 alpha-2 code, named in the reader's language.

    ``offer(codes)`` narrows the list to those countries (a call's); whether another
    country is acceptable is the service's to say, for the page and the API alike."""

    def __init__(self, label=None, validators=None, allow_blank: bool = False, **kwargs):
        super().__init__(label, validators, choices=[], **kwargs)
        self.allow_blank = allow_blank
        self.offered: list[str] = []

    def offer(self, codes) -> None:
        self.offered = [code for code in codes or [] if code]

    def _names(self) -> dict[str, str]:
        return country_names(str(get_locale() or "en"))

    def iter_choices(self):
        names = self._names()
        codes = [code for code in self.offered if code in names] or list(names)
        if self.data and self.data not in codes and self.data in names:
            codes.append(self.data)  # what was chosen stays visible, to be corrected
        self.choices = [SelectChoice("", _l("Choose a country"))] + [
            SelectChoice(code, names[code]) for code in codes
        ]
        return super().iter_choices()

    def pre_validate(self, form):
        if self.allow_blank and not self.data:
            return
        if self.data not in self._names():
            raise ValidationError(_l("Choose a country from the list."))


class CountryListField(SelectMultipleField):
    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, choices=[], **kwargs)

    def iter_choices(self):
        self.choices = [
            SelectChoice(code, name)
            for code, name in country_names(str(get_locale() or "en")).items()
        ]
        return super().iter_choices()

    def pre_validate(self, form):
        known = country_names("en")
        unknown = [code for code in self.data or [] if code not in known]
        if unknown:
            raise ValidationError(_l("Unknown country code: %(codes)s", codes=", ".join(unknown)))


class LanguageListField(SelectMultipleField):
    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, choices=[], **kwargs)

    def iter_choices(self):
        self.choices = [
            SelectChoice(code, name)
            for code, name in language_names(str(get_locale() or "en")).items()
        ]
        return super().iter_choices()

    def pre_validate(self, form):
        known = language_names("en")
        unknown = [code for code in self.data or [] if code not in known]
        if unknown:
            raise ValidationError(_l("Unknown language code: %(codes)s", codes=", ".join(unknown)))


class AmountField(Field):
    """An amount (or a share) typed as the reader writes numbers: 1,250.50 in English,
    1 250,50 in French, 1.250,50 in Spanish. What does not follow the reader's grammar,
    or could mean two numbers, is refused with the likely reading proposed; so are more
    than ``places`` decimals, values outside ``minimum``..``maximum``, NaN and Infinity.

    A form filled by the API (``meta={"machine_numbers": True}``) reads the machine
    grammar instead: digits and a point, whatever the caller's language.
    """

    widget = TextInput()
    input_mode = "decimal"

    def __init__(
        self,
        label=None,
        validators=None,
        places: int = 2,
        minimum: Decimal | int | None = 0,
        maximum: Decimal | int = AMOUNT_MAX,
        positive: bool = False,
        **kwargs,
    ):
        kwargs["render_kw"] = {"inputmode": self.input_mode, **(kwargs.get("render_kw") or {})}
        super().__init__(label, validators, **kwargs)
        self.limits: dict[str, Any] = dict(
            places=places, minimum=minimum, maximum=maximum, positive=positive
        )

    def _grammar(self):
        return MACHINE if getattr(self.meta, "machine_numbers", False) else reader_locale()

    def _read(self, raw: str) -> Any:
        return read_number(minus_in_front(raw), self._grammar(), **self.limits)

    def process_formdata(self, valuelist):
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        try:
            self.data = self._read(valuelist[0])
        except NumberRefused as refused:
            self.data = None
            raise ValueError(refused.message) from None

    @property
    def is_empty(self) -> bool:
        """Nothing typed: a row whose only number is refused is not a blank row."""
        return self.data is None and not (self.raw_data and str(self.raw_data[0]).strip())

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        if self.data is None:
            return ""
        if getattr(self.meta, "machine_numbers", False):
            return str(self.data)
        return as_typed(self.data)


class WholeNumberField(AmountField):
    """A whole number (a count of people, months, megabytes) within what its column
    holds, typed as the reader writes numbers (1,500 / 1 500 / 1.500)."""

    input_mode = "numeric"

    def __init__(
        self, label=None, validators=None, minimum: int = 0, maximum: int = INTEGER_MAX, **kwargs
    ):
        super().__init__(label, validators, places=0, minimum=minimum, maximum=maximum, **kwargs)

    def _read(self, raw: str) -> int:
        return int(super()._read(raw))


class CurrencyField(SelectField):
    """An ISO 4217 currency in use today: never XXX, a test code or a precious metal."""

    def __init__(self, label=None, validators=None, **kwargs):
        codes = sorted(active_currencies())
        super().__init__(label, validators, choices=[SelectChoice(c, c) for c in codes], **kwargs)

    def offer(self, codes) -> None:
        """Narrow the list shown to these currencies (and the one chosen); any currency
        in use is still accepted."""
        offered = [code for code in codes or [] if code in active_currencies()]
        if self.data and self.data not in offered and self.data in active_currencies():
            offered.append(self.data)
        if offered:
            self.choices = [SelectChoice(code, code) for code in offered]

    def pre_validate(self, form):
        if self.data not in active_currencies():
            raise ValidationError(_l("Choose a currency in use, such as USD, EUR or XOF."))


class Within:
    """A free text within its limit (``grants.text_limits``), refused with the
    sentence the service and the API use. The limit is a field flag, ``characters``,
    that the page shows beside the field and counts down as the person types; it is
    not the browser's ``maxlength``, which would cut a pasted text without a word."""

    def __init__(self, limit: TextLimit):
        self.limit = limit
        self.field_flags = {"characters": limit.limit}

    def __call__(self, form, field):
        problem = self.limit.problem(field.data)
        if problem:
            raise ValidationError(problem)


class Row(Form):
    """A row of a growing table: an empty row is ignored, not refused."""

    def is_blank(self) -> bool:
        raise NotImplementedError

    def validate(self, extra_validators=None) -> bool:
        return True if self.is_blank() else super().validate(extra_validators)


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]
