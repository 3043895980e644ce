"""Forms of the admin pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from grants.roles import ROLE_NAMES
from grants.services.webhooks import EVENT_TYPES


class RoleForm(FlaskForm):
    role = SelectField(
        _l("Role"), choices=[SelectChoice(name, name.replace("_", " ")) for name in ROLE_NAMES]
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
