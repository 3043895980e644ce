"""Forms for associations and their members."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, StringField, TextAreaField
from wtforms.validators import URL, DataRequired, Email, Length, Optional, ValidationError

from forms.fields import CountryField, CountryListField, LanguageListField, Within
from grants.text_limits import ASSOCIATION


class AssociationForm(FlaskForm):
    name = StringField(
        _l("Name of the association"), validators=[DataRequired(), Within(ASSOCIATION["name"])]
    )
    registration_number = StringField(
        _l("Legal registration number"),
        validators=[DataRequired(), Within(ASSOCIATION["registration_number"])],
    )
    registration_country = CountryField(_l("Country of registration"))
    residence_country = CountryField(_l("Country where the members live"))
    countries_of_work = CountryListField(
        _l("Countries where the association works"),
        validators=[DataRequired(message=_l("Choose at least one country."))],
    )
    founded_on = DateField(_l("Founding date"), validators=[Optional()])
    contact_name = StringField(
        _l("Contact person"), validators=[DataRequired(), Within(ASSOCIATION["contact_name"])]
    )
    contact_email = EmailField(
        _l("Contact email"), validators=[DataRequired(), Email(), Length(max=255)]
    )
    contact_phone = StringField(
        _l("Contact phone"), validators=[Optional(), Within(ASSOCIATION["contact_phone"])]
    )
    website = StringField(
        _l("Website"),
        validators=[
            Optional(),
            URL(message=_l("Enter a full address such as https://example.org.")),
            Within(ASSOCIATION["website"]),
        ],
    )
    description = TextAreaField(
        _l("What the association does"),
        validators=[DataRequired(), Within(ASSOCIATION["description"])],
    )
    working_languages = LanguageListField(
        _l("Working languages"),
        validators=[DataRequired(message=_l("Choose at least one language."))],
    )

    def validate_founded_on(self, field):
        if field.data and field.data > date.today():
            raise ValidationError(_l("The founding date cannot be in the future."))


class InvitationForm(FlaskForm):
    email = EmailField(
        _l("Email of the person to invite"), validators=[DataRequired(), Email(), Length(max=255)]
    )
