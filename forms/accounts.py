"""Forms about a person's own account."""

from __future__ import annotations

import zoneinfo

from flask import request
from flask_babel import lazy_gettext as _l
from flask_security import LoginForm as SecurityLoginForm
from flask_security import RegisterFormV2
from flask_security.utils import get_message
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, ValidationError

from forms.fields import LanguageListField
from grants.database import writes_from_now
from grants.extensions import db
from grants.i18n import LANGUAGE_NAMES
from grants.services import audit


def _locale_choices() -> list[SelectChoice]:
    return [SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]


class LoginForm(SecurityLoginForm):
    """Flask-Security's login, which tells a person who gave the right password that
    their address is not confirmed yet, so they can ask for the email again. Anyone who
    did not give the right password still gets the one generic answer, which says
    nothing about whether the address has an account."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.unconfirmed = False

    def validate(self, **kwargs) -> bool:
        valid = super().validate(**kwargs)
        if valid:
            # The slow password check is done: the login's writes (the time of this
            # login, a password hash brought up to date) happen under the write lock.
            rehashed = self.user.password if db.session.is_modified(self.user) else None
            writes_from_now()
            if rehashed:
                self.user.password = rehashed
            return True
        if self.user is None and self.email.data:
            # A refused login of a known address is audited through Flask-Security's
            # failed-authentication signal; an unknown one only here.
            typed = request.form.get("email", self.email.data)
            audit.append(None, "login.failed", note="unknown address", email=typed)
        # Flask-Security names this reason only after the password was verified.
        needed = get_message("CONFIRMATION_REQUIRED")[0]
        self.unconfirmed = (
            self.user_authenticated and self.ifield is not None and needed in self.ifield.errors
        )
        return False


class SignUpForm(RegisterFormV2):
    """Sign-up for association members; the association comes right after."""

    full_name = StringField(_l("Your full name"), validators=[DataRequired(), Length(max=200)])
    locale = SelectField(_l("Language"), choices=_locale_choices(), default="en")


class ProfileForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    locale = SelectField(_l("Language of the interface and emails"), choices=_locale_choices())
    timezone = StringField(
        _l("Time zone"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("For example Europe/Paris or Africa/Dakar."),
    )
    languages = LanguageListField(_l("Languages you read"))

    def validate_timezone(self, field):
        if field.data not in zoneinfo.available_timezones():
            raise ValidationError(_l("Unknown time zone; use a name such as Europe/Paris."))


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=_locale_choices())
    next = HiddenField()


class TokenForm(FlaskForm):
    name = StringField(
        _l("Token name"),
        validators=[DataRequired(), Length(max=100)],
        description=_l("What will use it, for example 'reporting script'."),
    )
    days = IntegerField(
        _l("Valid for (days)"), default=90, validators=[NumberRange(min=1, max=365)]
    )


DELIVERY_CHOICES = (
    SelectChoice("immediate", _l("An email for each")),
    SelectChoice("digest", _l("One email a day (digest)")),
    SelectChoice("in_app", _l("Only on the notifications page")),
)


def preferences_form(categories, current: dict[str, str], formdata=None) -> FlaskForm:
    """A radio group per optional category, preset to the person's current choice."""
    from wtforms import RadioField

    class PreferencesForm(FlaskForm):
        pass

    for category in categories:
        setattr(
            PreferencesForm,
            category.name,
            RadioField(
                _l(category.label),
                choices=list(DELIVERY_CHOICES),
                default=current.get(category.name, "immediate"),
            ),
        )
    return PreferencesForm(formdata=formdata) if formdata is not None else PreferencesForm()
