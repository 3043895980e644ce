"""Forms of the admin pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from grants.roles import ROLE_NAMES


class RoleForm(FlaskForm):
    role = SelectField(
        _l("Role"), choices=[SelectChoice(name, name.replace("_", " ")) for name in ROLE_NAMES]
    )


class ConfirmForm(FlaskForm):
    """An action with nothing to fill in but the CSRF token."""
