"""Forms of the admin pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length
from wtforms.widgets import CheckboxInput, ListWidget

from grants.roles import ROLE_NAMES
from grants.services.webhooks import EVENT_TYPES


class RoleForm(FlaskForm):
    role = SelectField(
        _l("Role"), choices=[SelectChoice(name, name.replace("_", " ")) for name in ROLE_NAMES]
    )


class InvitationForm(FlaskForm):
    """An admin's invitation of a member of staff; the rules are the service's."""

    email = StringField(_l("Email address"), validators=[DataRequired(), Length(max=255)])
    full_name = StringField(_l("Full name"), validators=[Length(max=200)])
    locale = SelectField(_l("Language of the invitation"), choices=[])
    roles = SelectMultipleField(
        _l("Roles"),
        choices=[],
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )

    def __init__(self, *args, **kwargs):
        from grants.i18n import LANGUAGE_NAMES
        from grants.labels import ROLE_LABELS
        from grants.services.staff_invitations import INVITABLE_ROLES

        super().__init__(*args, **kwargs)
        self.locale.choices = [SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]
        self.roles.choices = [
            SelectChoice(role, ROLE_LABELS.get(role, role))
            for role in ROLE_NAMES
            if role in INVITABLE_ROLES
        ]


class AcceptInvitationForm(FlaskForm):
    full_name = StringField(_l("Your full name"), validators=[DataRequired(), Length(max=200)])
    password = PasswordField(
        _l("Choose a password"),
        validators=[DataRequired(), Length(max=500)],
        description=_l("At least 10 characters; a few unrelated words are easy to remember."),
    )
    password_confirm = PasswordField(
        _l("Type the password again"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
    )


class ConfirmForm(FlaskForm):
    """An action with nothing to fill in but the CSRF token."""


class WebhookEndpointForm(FlaskForm):
    """An integration's endpoint. Every rule on the values (the address, the events) is
    the service's, so the form only reads them."""

    url = StringField(
        _l("Address (URL)"),
        description=_l("Where the webhooks are sent, by POST: an https:// address."),
    )
    description = StringField(
        _l("Description"), description=_l("What this integration is, for the admins after you.")
    )
    event_types = SelectMultipleField(
        _l("Events"),
        choices=[SelectChoice(name, label) for name, label in EVENT_TYPES.items()],
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
