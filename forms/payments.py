"""Forms of the finance pages for payment files and bank statements."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from forms.fields import Within
from grants import text_limits as limits


class DebtorAccountForm(FlaskForm):
    """An account the programme pays from; the service checks the IBAN and BIC."""

    name = StringField(_l("Account name"), validators=[DataRequired(), Length(max=70)])
    iban = StringField(_l("IBAN"), validators=[DataRequired(), Length(max=60)])
    bic = StringField(_l("SWIFT/BIC"), validators=[DataRequired(), Length(max=20)])
    currency = StringField(_l("Currency"), validators=[DataRequired(), Length(max=3)])


class PaymentFileForm(FlaskForm):
    """The run's file: when the bank executes it; the accounts are chosen per currency."""

    execution_date = DateField(_l("Execution date"), validators=[InputRequired()])


class CancelFileForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Within(limits.REASON)])


class StatementForm(FlaskForm):
    statement = FileField(_l("Bank statement (camt.053)"))
