"""Forms of the grant pages: accepting an award, new bank details, tranche payments,
refunds, and the officer's review of a report."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from forms.fields import AmountField
from grants.banking import BANK_FIELDS, bank_details_problems


class BankDetails:
    """Holder, IBAN or account number, bank, SWIFT/BIC, checked by their rules, each
    problem shown on its field."""

    account_holder = StringField(_l("Account holder"), validators=[Length(max=200)])
    iban = StringField(
        _l("IBAN"),
        validators=[Length(max=60)],
        description=_l("Leave empty where the bank's country has no IBAN."),
    )
    account_number = StringField(
        _l("Account number"),
        validators=[Length(max=60)],
        description=_l("Only when there is no IBAN."),
    )
    bank_name = StringField(_l("Bank"), validators=[Length(max=200)])
    bic = StringField(_l("SWIFT/BIC"), validators=[Length(max=20)])

    def bank_details(self) -> dict[str, str]:
        return {name: self[name].data or "" for name in BANK_FIELDS}

    def check_bank_details(self) -> bool:
        details = self.bank_details()
        problems = bank_details_problems(details)
        for name, messages in problems.items():
            self[name].errors = list(self[name].errors) + messages
        return not problems


class AcceptForm(BankDetails, FlaskForm):
    letter_read = BooleanField(
        _l("I read the award letter and accept its terms for the association."),
        validators=[DataRequired(_l("Confirm that you read the award letter."))],
    )
    signatory_name = StringField(
        _l("Name of the person signing"), validators=[DataRequired(), Length(max=200)]
    )
    signatory_role = StringField(
        _l("Their role in the association"), validators=[DataRequired(), Length(max=200)]
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return self.check_bank_details() and valid


class BankChangeForm(BankDetails, FlaskForm):
    reason = TextAreaField(
        _l("Why the bank details change"), validators=[DataRequired(), Length(max=2000)]
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return self.check_bank_details() and valid


class PaymentForm(FlaskForm):
    payment_date = DateField(_l("Payment date"), validators=[InputRequired()])
    bank_reference = StringField(_l("Bank reference"), validators=[DataRequired(), Length(max=100)])
    amount = AmountField(
        _l("Amount paid"),
        validators=[InputRequired()],
        positive=True,
        description=_l("It must equal the approved amount."),
    )


class ReasonForm(FlaskForm):
    comment = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class RefundForm(FlaskForm):
    amount = AmountField(_l("Amount returned"), validators=[InputRequired()], positive=True)
    value_date = DateField(_l("Date received"), validators=[InputRequired()])
    reference = StringField(_l("Bank reference"), validators=[DataRequired(), Length(max=100)])


class ReportReviewForm(FlaskForm):
    """The officer's comments per section when asking for changes."""

    activities = TextAreaField(_l("Activities"), validators=[Optional(), Length(max=4000)])
    results = TextAreaField(_l("Results"), validators=[Optional(), Length(max=4000)])
    difficulties = TextAreaField(_l("Difficulties"), validators=[Optional(), Length(max=4000)])
    next_steps = TextAreaField(_l("Next steps"), validators=[Optional(), Length(max=4000)])
    spending = TextAreaField(_l("Spending"), validators=[Optional(), Length(max=4000)])
    indicators = TextAreaField(_l("Indicators"), validators=[Optional(), Length(max=4000)])
