"""Forms of the grant pages: accepting an award, new bank details, tranche payments,
refunds, and the officer's review of a report."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Optional

from forms.fields import AmountField, Within
from grants import text_limits as limits
from grants.banking import BANK_FIELDS, bank_details_problems


class BankDetails:
    """Holder, IBAN or account number, bank, SWIFT/BIC, checked by their rules, each
    problem shown on its field."""

    account_holder = StringField(_l("Account holder"), validators=[Within(limits.ACCOUNT_HOLDER)])
    iban = StringField(
        _l("IBAN"),
        validators=[Within(limits.IBAN)],
        description=_l("Leave empty where the bank's country has no IBAN."),
    )
    account_number = StringField(
        _l("Account number"),
        validators=[Within(limits.ACCOUNT_NUMBER)],
        description=_l("Only when there is no IBAN."),
    )
    bank_name = StringField(_l("Bank"), validators=[Within(limits.BANK_NAME)])
    bic = StringField(_l("SWIFT/BIC"), validators=[Within(limits.BIC)])

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
        _l("Name of the person signing"), validators=[DataRequired(), Within(limits.PERSON_NAME)]
    )
    signatory_role = StringField(
        _l("Their role in the association"),
        validators=[DataRequired(), Within(limits.PERSON_ROLE)],
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return self.check_bank_details() and valid


class BankChangeForm(BankDetails, FlaskForm):
    reason = TextAreaField(
        _l("Why the bank details change"), validators=[DataRequired(), Within(limits.REASON)]
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return self.check_bank_details() and valid


class PaymentForm(FlaskForm):
    payment_date = DateField(_l("Payment date"), validators=[InputRequired()])
    bank_reference = StringField(
        _l("Bank reference"), validators=[DataRequired(), Within(limits.BANK_REFERENCE)]
    )
    amount = AmountField(
        _l("Amount paid"),
        validators=[InputRequired()],
        positive=True,
        description=_l("It must equal the approved amount."),
    )


class ReasonForm(FlaskForm):
    comment = TextAreaField(_l("Reason"), validators=[DataRequired(), Within(limits.REASON)])


class RefundForm(FlaskForm):
    amount = AmountField(_l("Amount returned"), validators=[InputRequired()], positive=True)
    value_date = DateField(_l("Date received"), validators=[InputRequired()])
    reference = StringField(
        _l("Bank reference"), validators=[DataRequired(), Within(limits.BANK_REFERENCE)]
    )


class ReportReviewForm(FlaskForm):
    """The officer's comments per section when asking for changes."""

    activities = TextAreaField(
        _l("Activities"), validators=[Optional(), Within(limits.REVIEW_COMMENT)]
    )
    results = TextAreaField(_l("Results"), validators=[Optional(), Within(limits.REVIEW_COMMENT)])
    difficulties = TextAreaField(
        _l("Difficulties"), validators=[Optional(), Within(limits.REVIEW_COMMENT)]
    )
    next_steps = TextAreaField(
        _l("Next steps"), validators=[Optional(), Within(limits.REVIEW_COMMENT)]
    )
    spending = TextAreaField(_l("Spending"), validators=[Optional(), Within(limits.REVIEW_COMMENT)])
    indicators = TextAreaField(
        _l("Indicators"), validators=[Optional(), Within(limits.REVIEW_COMMENT)]
    )
