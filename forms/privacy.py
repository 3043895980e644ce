"""Forms of the personal-data pages: asking for one's data, anonymising a person."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField


class ExportForm(FlaskForm):
    """Asking for a copy of one's data: nothing to fill in but the CSRF token."""


class AnonymiseForm(FlaskForm):
    """The admin types the person's email: the service checks it matches."""

    confirmation = StringField(
        _l("Their email address, to confirm"),
        description=_l("Type the email address of this person exactly as shown above."),
    )
