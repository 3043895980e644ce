"""The officers' forms for a call's own questions: a section, and one question with its
texts in each language, its limits, options and condition."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Optional

from forms.fields import AmountField, WholeNumberField, choices
from grants.i18n import LANGUAGE_NAMES

KIND_CHOICES = (
    ("short_text", _l("Short text")),
    ("long_text", _l("Long text, with a word limit")),
    ("whole_number", _l("Whole number")),
    ("amount", _l("Amount")),
    ("date", _l("Date")),
    ("one_choice", _l("One choice")),
    ("several_choices", _l("Several choices")),
    ("yes_no", _l("Yes or no")),
    ("country", _l("Country")),
    ("file", _l("File")),
)


def _per_language(form_class: type, name: str, label: Any, field: type, **kwargs: Any) -> None:
    for locale, language in LANGUAGE_NAMES.items():
        setattr(
            form_class,
            f"{name}_{locale}",
            field(_l("%(what)s in %(language)s", what=label, language=language), **kwargs),
        )


class SectionForm(FlaskForm):
    def texts(self, name: str = "title") -> dict[str, str]:
        return {locale: self[f"{name}_{locale}"].data or "" for locale in LANGUAGE_NAMES}


_per_language(SectionForm, "title", _l("Title"), StringField)


class QuestionForm(FlaskForm):
    kind = SelectField(_l("Kind of answer"), choices=choices(KIND_CHOICES))
    required = BooleanField(_l("An answer is required"))
    identifying = BooleanField(_l("Names the association (hidden in blind review)"))
    max_words = WholeNumberField(
        _l("Most words (long text)"), validators=[Optional()], minimum=1, maximum=100000
    )
    minimum = AmountField(_l("Smallest answer (numbers and amounts)"), validators=[Optional()])
    maximum = AmountField(_l("Largest answer (numbers and amounts)"), validators=[Optional()])
    condition = SelectField(
        _l("Asked only when"),
        choices=[],
        validate_choice=False,
        description=_l("An earlier yes/no or choice question, and the answer that shows it."),
    )

    criteria = SelectMultipleField(
        _l("Criteria that score it"),
        choices=[],
        coerce=int,
        description=_l("Evaluators read the answer beside these criteria."),
    )

    def offer_criteria(self, pairs: list[tuple[int, str]]) -> None:
        self.criteria.choices = pairs

    def offer_conditions(self, pairs: list[tuple[str, str]]) -> None:
        self.condition.choices = [("", _l("Always asked")), *pairs]

    def data_for_service(self) -> dict[str, Any]:
        def lines(text: str | None) -> list[str]:
            return [line.strip() for line in (text or "").splitlines() if line.strip()]

        key, _, value = (self.condition.data or "").partition("=")
        return {
            "kind": self.kind.data,
            "required": self.required.data,
            "identifying": self.identifying.data,
            "label": {locale: self[f"label_{locale}"].data or "" for locale in LANGUAGE_NAMES},
            "help": {locale: self[f"help_{locale}"].data or "" for locale in LANGUAGE_NAMES},
            "options": {locale: lines(self[f"options_{locale}"].data) for locale in LANGUAGE_NAMES},
            "max_words": self.max_words.data,
            "minimum": self.minimum.data,
            "maximum": self.maximum.data,
            "condition_key": key or None,
            "condition_value": value or None,
        }


_per_language(QuestionForm, "label", _l("Label"), StringField)
_per_language(QuestionForm, "help", _l("Help"), TextAreaField)
_per_language(
    QuestionForm,
    "options",
    _l("Options, one per line"),
    TextAreaField,
    description=_l("For one or several choices; the same order in every language."),
)
