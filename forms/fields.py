"""Fields shared by several forms, each with its own validation message."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import Form, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from grants.reference import country_names, language_names


class CountryField(SelectField):
    """A country, stored as its ISO 3166-1 alpha-2 code, named in the reader's language."""

    def __init__(self, label=None, validators=None, allow_blank: bool = False, **kwargs):
        super().__init__(label, validators, choices=[], **kwargs)
        self.allow_blank = allow_blank

    def _names(self) -> dict[str, str]:
        return country_names(str(get_locale() or "en"))

    def iter_choices(self):
        self.choices = [SelectChoice("", _l("Choose a country"))] + [
            SelectChoice(code, name) for code, name in self._names().items()
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


class Row(Form):
    """A row of a growing table: an empty row is ignored, not refused."""

    def is_blank(self) -> bool:
        raise NotImplementedError

    def validate(self, extra_validators=None) -> bool:
        return True if self.is_blank() else super().validate(extra_validators)


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def not_negative(form, field) -> None:
    if field.data is not None and field.data < 0:
        raise ValidationError(_l("Must not be negative."))
