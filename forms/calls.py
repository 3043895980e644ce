"""The call form of programme officers: texts in several languages, money, dates in the
call's time zone, the rubric, required documents, indicators and the schedules."""

from __future__ import annotations

import zoneinfo
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    FormField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from forms.applications import SECTOR_CHOICES
from forms.fields import (
    AmountField,
    CountryListField,
    CurrencyField,
    Row,
    VersionField,
    WholeNumberField,
    Within,
    choices,
)
from grants import text_limits as limits
from grants.filetypes import DEFAULT_KINDS
from grants.i18n import LANGUAGE_NAMES
from grants.reference import SDG_TARGETS
from grants.services.calls import title_problems

LOCALES = tuple(LANGUAGE_NAMES)
#: The highest score a rubric's scale may have.
SCORE_MAX = 100


class CriterionForm(Row):
    name = StringField(_l("Criterion"), validators=[Within(limits.CRITERION_NAME)])
    description = StringField(
        _l("What evaluators look at"), validators=[Within(limits.CRITERION_DESCRIPTION)]
    )
    weight = AmountField(_l("Weight (%)"), validators=[Optional()], maximum=100, positive=True)
    scale_min = WholeNumberField(
        _l("Lowest score"), default=0, validators=[Optional()], maximum=SCORE_MAX
    )
    scale_max = WholeNumberField(
        _l("Highest score"), default=5, validators=[Optional()], maximum=SCORE_MAX
    )

    def is_blank(self) -> bool:
        return not (self.name.data or "").strip()


class DocumentTypeForm(Row):
    name = StringField(_l("Document"), validators=[Within(limits.DOCUMENT_NAME)])
    help = StringField(_l("Help for applicants"), validators=[Within(limits.DOCUMENT_HELP)])
    required = BooleanField(_l("Required"), default=True)
    identifying = BooleanField(_l("Names the association (hidden in blind review)"))
    max_size_mb = WholeNumberField(
        _l("Largest size (MB)"), default=10, validators=[Optional()], minimum=1, maximum=25
    )
    allowed_kinds = SelectMultipleField(
        _l("Accepted formats"),
        choices=[SelectChoice(k, k.upper()) for k in DEFAULT_KINDS],
        default=list(DEFAULT_KINDS),
    )

    def is_blank(self) -> bool:
        return not (self.name.data or "").strip()


class IndicatorForm(Row):
    name = StringField(_l("Indicator"), validators=[Within(limits.INDICATOR_NAME)])
    unit = StringField(_l("Unit"), validators=[Within(limits.INDICATOR_UNIT)])
    by_sex = BooleanField(_l("Reported by sex"))

    def is_blank(self) -> bool:
        return not (self.name.data or "").strip()


REPORT_KINDS = (("interim", _l("Interim report")), ("final", _l("Final report")))


class TrancheForm(Row):
    percentage = AmountField(
        _l("Share of the award (%)"), validators=[Optional()], maximum=100, positive=True
    )
    after_report = SelectField(
        _l("Paid after"), choices=choices((("", _l("signature of the award")),) + REPORT_KINDS)
    )

    def is_blank(self) -> bool:
        return self.percentage.is_empty


class ReportForm(Row):
    kind = SelectField(_l("Report"), choices=choices(REPORT_KINDS))
    months = WholeNumberField(
        _l("Due, months after the start"), validators=[Optional()], minimum=1, maximum=120
    )

    def is_blank(self) -> bool:
        return self.months.is_empty


class CallForm(FlaskForm):
    version = VersionField()
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(),
            Length(max=30),
            Regexp(
                r"^[A-Z0-9]+(-[A-Z0-9]+)*$",
                message=_l("Capital letters, digits and dashes, such as SN-EMP-2027."),
            ),
        ],
        description=_l("Starts every application reference, e.g. SN-EMP-2027-0007."),
    )
    language = SelectField(_l("Main language"), choices=choices(LANGUAGE_NAMES.items()))
    for _locale in LOCALES:
        locals()[f"title_{_locale}"] = StringField(
            _l("Title (%(language)s)", language=LANGUAGE_NAMES[_locale]),
            validators=[Within(limits.CALL_TITLE)],
        )
        locals()[f"description_{_locale}"] = TextAreaField(
            _l("Description (%(language)s)", language=LANGUAGE_NAMES[_locale]),
            validators=[Within(limits.CALL_DESCRIPTION)],
        )
    del _locale
    sector = SelectField(_l("Sector"), choices=choices(SECTOR_CHOICES))
    countries = CountryListField(
        _l("Countries"), validators=[DataRequired(message=_l("Choose at least one."))]
    )
    sdg_targets = StringField(
        _l("SDG targets"), description=_l("Target codes separated by commas, e.g. 8.6, 4.4, 10.c.")
    )
    currency = CurrencyField(_l("Currency"), default="USD")
    envelope = AmountField(_l("Envelope"), validators=[Optional()])
    min_grant = AmountField(_l("Smallest grant"), validators=[Optional()])
    max_grant = AmountField(_l("Largest grant"), validators=[Optional()])
    min_cofinancing_share = AmountField(
        _l("Minimum co-financing, as a share of the project (%)"),
        default=Decimal("0"),
        validators=[Optional()],
        maximum=100,
    )
    timezone = SelectField(
        _l("Time zone of the deadline"),
        default="UTC",
        choices=[
            SelectChoice(z, z)
            for z in sorted(zoneinfo.available_timezones())
            if "/" in z or z == "UTC"
        ],
    )
    opens_at = DateTimeLocalField(_l("Opens"), validators=[Optional()])
    closes_at = DateTimeLocalField(_l("Closes (deadline)"), validators=[Optional()])
    two_stage = BooleanField(_l("Two stages: a concept note, then invited full proposals"))
    proposal_closes_at = DateTimeLocalField(
        _l("Deadline of full proposals"), validators=[Optional()]
    )
    require_verified_association = BooleanField(
        _l("Only verified associations may submit"), default=True
    )
    criteria = FieldList(FormField(CriterionForm), _l("Rubric"), min_entries=1)
    document_types = FieldList(FormField(DocumentTypeForm), _l("Documents required"), min_entries=1)
    indicators = FieldList(FormField(IndicatorForm), _l("Indicators"), min_entries=1)
    tranches = FieldList(FormField(TrancheForm), _l("Tranches"), min_entries=1)
    reports = FieldList(FormField(ReportForm), _l("Reports"), min_entries=1)

    def validate_sdg_targets(self, field):
        codes = [code.strip() for code in (field.data or "").split(",") if code.strip()]
        unknown = [code for code in codes if code not in SDG_TARGETS]
        if unknown:
            raise ValidationError(_l("Not SDG targets: %(codes)s.", codes=", ".join(unknown)))

    def validate_criteria(self, field):
        problems = []
        for entry in field.entries:
            row = entry.form
            if row.is_blank() or row.errors:
                continue
            if row.weight.data is None:
                row.weight.errors = [_l("Give the criterion a weight.")]
                problems.append(_l("Each criterion needs a weight."))
            elif (row.scale_min.data or 0) >= (row.scale_max.data or 5):
                row.scale_max.errors = [_l("Must be above the lowest score.")]
                problems.append(_l("A criterion's lowest score must be below its highest."))
        if problems:
            distinct = list(dict.fromkeys(problems))
            field.errors.extend(distinct[:-1])
            raise ValidationError(distinct[-1])

    def validate_closes_at(self, field):
        if field.data and self.opens_at.data and field.data <= self.opens_at.data:
            raise ValidationError(_l("The call must close after it opens."))

    def validate_tranches(self, field):
        shares = [e.form.percentage.data for e in field.entries if not e.form.is_blank()]
        if None in shares:
            return  # a share that is not a number is refused in its own cell
        if shares and sum(shares) != 100:
            raise ValidationError(
                _l("The tranches add up to %(total)s %%, not 100 %%.", total=f"{sum(shares):g}")
            )

    def validate(self, extra_validators=None) -> bool:
        """The service's rule on the title is reported with every other problem."""
        valid = super().validate(extra_validators)
        data = {"language": self.language.data, "title": self.texts("title")}
        for name, messages in title_problems(data).items():
            if name in self:
                self[name].errors = [*self[name].errors, *messages]
                valid = False
        return valid

    def rows(self, name: str) -> list[dict]:
        return [entry.form.data for entry in self[name].entries if not entry.form.is_blank()]

    def texts(self, field: str) -> dict[str, str]:
        return {
            locale: self[f"{field}_{locale}"].data.strip()
            for locale in LOCALES
            if (self[f"{field}_{locale}"].data or "").strip()
        }


class ExtendDeadlineForm(FlaskForm):
    closes_at = DateTimeLocalField(_l("New deadline"), validators=[DataRequired()])


CALL_ROWS = ("criteria", "document_types", "indicators", "tranches", "reports")


def call_data(form: CallForm) -> dict:
    """The form as the calls service takes it (the API fills the same form)."""
    return {
        "code": form.code.data.strip(),
        "language": form.language.data,
        "title": form.texts("title"),
        "description": form.texts("description"),
        "sector": form.sector.data,
        "countries": form.countries.data,
        "sdg_targets": [c.strip() for c in (form.sdg_targets.data or "").split(",") if c.strip()],
        "currency": form.currency.data,
        "envelope": form.envelope.data,
        "min_grant": form.min_grant.data,
        "max_grant": form.max_grant.data,
        "min_cofinancing_share": form.min_cofinancing_share.data,
        "timezone": form.timezone.data,
        "opens_at": form.opens_at.data,
        "closes_at": form.closes_at.data,
        "proposal_closes_at": form.proposal_closes_at.data,
        "two_stage": form.two_stage.data,
        "require_verified_association": form.require_verified_association.data,
        **{name: form.rows(name) for name in CALL_ROWS},
    }
