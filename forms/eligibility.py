"""Eligibility forms: the officer's rules of a call, the public "Can we apply?" check,
and a draft's answers to the call's yes/no questions."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional, ValidationError

from forms.fields import (
    AmountField,
    CountryField,
    CountryListField,
    Row,
    VersionField,
    Within,
    choices,
)
from grants.i18n import LANGUAGE_NAMES
from grants.services.eligibility import QUESTION_TEXT
from workflows.eligibility import question_text

LOCALES = tuple(LANGUAGE_NAMES)
YES_NO = (("yes", _l("Yes")), ("no", _l("No")))


class QuestionForm(Row):
    key = HiddenField()
    for _locale in LOCALES:
        locals()[f"text_{_locale}"] = StringField(
            _l("Question (%(language)s)", language=LANGUAGE_NAMES[_locale]),
            validators=[Within(QUESTION_TEXT)],
        )
    del _locale
    excludes = SelectField(
        _l("The answer that excludes"),
        choices=choices((("", _l("Choose")),) + YES_NO),
    )
    remove = BooleanField(_l("Remove"))

    def texts(self) -> dict[str, str]:
        return {
            locale: (self[f"text_{locale}"].data or "").strip()
            for locale in LOCALES
            if (self[f"text_{locale}"].data or "").strip()
        }

    def is_blank(self) -> bool:
        return self.remove.data or not (self.texts() or self.excludes.data)


class EligibilitySettingsForm(FlaskForm):
    version = VersionField()
    registration_countries = CountryListField(
        _l("Countries where the association must be registered"),
        description=_l("None chosen: associations registered anywhere may apply."),
    )
    no_overdue_reports = BooleanField(
        _l("Refuse associations with a report overdue on an earlier grant"), default=True
    )
    questions = FieldList(FormField(QuestionForm), _l("Eligibility questions"), min_entries=1)

    def question_rows(self) -> tuple[list[dict[str, Any]], list[int]]:
        """The questions kept, as the service takes them, and the row each came from
        (to put the service's errors on the right row)."""
        rows, positions = [], []
        for position, entry in enumerate(self.questions.entries):
            row = entry.form
            if row.is_blank():
                continue
            rows.append({"key": row.key.data, "text": row.texts(), "excludes": row.excludes.data})
            positions.append(position)
        return rows, positions


def settings_data(form: EligibilitySettingsForm) -> tuple[dict[str, Any], list[int]]:
    rows, positions = form.question_rows()
    data = {
        "registration_countries": form.registration_countries.data or [],
        "no_overdue_reports": form.no_overdue_reports.data,
        "questions": rows,
    }
    return data, positions


def fill_settings(form: EligibilitySettingsForm, call: Any) -> None:
    """A saved call's rules in the form, with one blank question more to add one."""
    form.version.data = call.version
    form.registration_countries.data = list(call.registration_countries or [])
    form.no_overdue_reports.data = call.no_overdue_reports
    questions = call.eligibility_questions or []
    while len(form.questions) < len(questions) + 1:
        form.questions.append_entry()
    for entry, question in zip(form.questions.entries, questions, strict=False):
        entry.form.process(
            None,
            data={
                "key": question["key"],
                "excludes": question["excludes"],
                **{f"text_{k}": v for k, v in question["text"].items() if k in LOCALES},
            },
        )


class _CheckBase(FlaskForm):
    """The visitor's answers; sent by GET (reading writes nothing), so no CSRF token."""

    class Meta:
        csrf = False

    project_country = CountryField(_l("Country where the project takes place"))
    registration_country = CountryField(
        _l("Country where the association is registered"), allow_blank=True
    )
    amount = AmountField(_l("Amount you would ask for"), validators=[Optional()])
    cofinancing_share = AmountField(
        _l("Co-financing the association brings, as a share of the project (%)"),
        validators=[Optional()],
        maximum=100,
    )

    #: Set for each call and person by ``check_form``.
    _question_fields: list[str] = []
    _member = False
    _cofinancing_required = False

    def validate_registration_country(self, field):
        if not field.data and not self._member:
            raise ValidationError(_l("Choose the country where the association is registered."))

    def validate_cofinancing_share(self, field):
        if field.data is None and not field.errors and self._cofinancing_required:
            raise ValidationError(_l("Give the share of the project the association brings."))

    def validate_amount(self, field):
        if field.data is None and not field.errors:
            raise ValidationError(_l("Give the amount you would ask for."))

    def answers(self) -> dict[str, str]:
        return {
            name.removeprefix("question_"): self[name].data
            for name in self._question_fields
            if self[name].data
        }


def _ask_questions(form_class: type, call: Any, locale: str) -> list[str]:
    """A yes/no field on ``form_class`` for each of the call's eligibility questions;
    their names, in the call's order."""
    names = []
    for question in call.eligibility_questions or []:
        name = f"question_{question['key']}"
        setattr(
            form_class,
            name,
            RadioField(
                question_text(call, question, locale),
                choices=choices(YES_NO),
                validators=[InputRequired(message=_l("Answer yes or no."))],
            ),
        )
        names.append(name)
    return names


def check_form(call: Any, locale: str, associations: list[Any], formdata=None) -> FlaskForm:
    """The check's form for ``call``: one yes/no field per eligibility question, and the
    association to check for when the person is a member of one or more."""

    class CheckForm(_CheckBase):
        pass

    CheckForm._question_fields = _ask_questions(CheckForm, call, locale)
    CheckForm._member = bool(associations)
    CheckForm._cofinancing_required = bool(call.min_cofinancing_share)
    if associations:
        CheckForm.association_id = SelectField(
            _l("Association"),
            coerce=int,
            choices=[SelectChoice(a.id, a.name) for a in associations],
        )
    form = CheckForm(formdata=formdata)
    form.project_country.offer([code for code in call.countries or [] if code])
    return form


def answers_form(call: Any, locale: str, application: Any, formdata=None) -> FlaskForm:
    """A draft's answers to the call's questions, posted with the draft's version."""

    class AnswersForm(FlaskForm):
        version = VersionField()

    names = _ask_questions(AnswersForm, call, locale)
    form = AnswersForm(formdata=formdata)
    if formdata is None:
        form.version.data = application.version
        for question in call.eligibility_questions or []:
            form[f"question_{question['key']}"].data = (application.eligibility_answers or {}).get(
                question["key"]
            )
    form.question_names = names
    return form


def posted_answers(form: FlaskForm) -> dict[str, str]:
    return {
        name.removeprefix("question_"): form[name].data
        for name in form.question_names
        if form[name].data
    }
