"""The application form: the project, its beneficiaries, budget and co-financing.

Rows of the budget and of co-financing are a fixed list that grows by one when the
applicant presses "add a line": the form works fully without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    FormField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from forms.fields import (
    AmountField,
    CountryField,
    CurrencyField,
    Row,
    VersionField,
    WholeNumberField,
    Within,
    choices,
)
from grants import text_limits as limits
from grants.i18n import LANGUAGE_NAMES
from grants.numbers import COUNT_MAX
from grants.reference import SDG_TARGETS
from grants.services.applications import DRAFT_FIELDS

BUDGET_CATEGORIES = (
    ("staff", _l("Staff")),
    ("equipment", _l("Equipment")),
    ("training", _l("Training")),
    ("travel", _l("Travel")),
    ("premises", _l("Premises")),
    ("services", _l("Services")),
    ("communication", _l("Communication")),
    ("other", _l("Other")),
)
COFINANCING_SOURCES = (
    ("association_cash", _l("The association's cash")),
    ("in_kind", _l("In kind (volunteer time, premises, goods)")),
    ("local_authority", _l("A local authority")),
    ("other_donor", _l("Other donors")),
)
#: What a budget line's ``Numeric(12, 2)`` quantity holds.
QUANTITY_MAX = Decimal("9999999999.99")
SECTOR_CHOICES = (
    ("employment", _l("Employment")),
    ("education", _l("Education")),
    ("health", _l("Health")),
    ("human_rights_social_security", _l("Human rights & social security")),
)


class BudgetLineForm(Row):
    category = SelectField(_l("Category"), choices=choices(BUDGET_CATEGORIES))
    description = StringField(
        _l("Description"), validators=[Within(limits.BUDGET_LINE_DESCRIPTION)]
    )
    quantity = AmountField(_l("Quantity"), validators=[Optional()], maximum=QUANTITY_MAX)
    unit_cost = AmountField(_l("Unit cost"), validators=[Optional()])

    def is_blank(self) -> bool:
        return (
            not (self.description.data or "").strip()
            and self.quantity.is_empty
            and self.unit_cost.is_empty
        )


class CoFinancingForm(Row):
    source = SelectField(_l("Source"), choices=choices(COFINANCING_SOURCES))
    description = StringField(
        _l("Description"), validators=[Within(limits.COFINANCING_DESCRIPTION)]
    )
    amount = AmountField(_l("Amount"), validators=[Optional()])

    def is_blank(self) -> bool:
        return not (self.description.data or "").strip() and self.amount.is_empty


class PartnerForm(Row):
    name = StringField(_l("Partner"), validators=[Within(limits.PARTNER_NAME)])
    country = CountryField(_l("Country"), allow_blank=True)
    role = StringField(_l("Role in the project"), validators=[Within(limits.PARTNER_ROLE)])

    def is_blank(self) -> bool:
        return not (self.name.data or "").strip()


class TeamMemberForm(Row):
    name = StringField(_l("Name"), validators=[Within(limits.TEAM_NAME)])
    role = StringField(_l("Role"), validators=[Within(limits.TEAM_ROLE)])

    def is_blank(self) -> bool:
        return not (self.name.data or "").strip()


def _sdg_choices() -> list[SelectChoice]:
    """The 169 targets in the reader's language, built once per language: translating
    them took a third of an autosave."""
    return list(_sdg_choices_in(str(get_locale())))


@lru_cache(maxsize=8)
def _sdg_choices_in(locale: str) -> tuple[SelectChoice, ...]:
    return tuple(SelectChoice(code, f"{code} — {goal}") for code, goal in SDG_TARGETS.items())


@dataclass(frozen=True)
class SdgGoal:
    number: int
    name: Any
    targets: tuple[str, ...]
    chosen: tuple[str, ...]


@lru_cache(maxsize=1)
def _goal_targets() -> dict[int, tuple[Any, tuple[str, ...]]]:
    goals: dict[int, tuple[Any, tuple[str, ...]]] = {}
    for code, name in SDG_TARGETS.items():
        number = int(code.split(".")[0])
        goals[number] = (name, (*goals.get(number, (name, ()))[1], code))
    return goals


class ApplicationForm(FlaskForm):
    version = VersionField()
    language = SelectField(
        _l("Language the application is written in"),
        choices=choices(LANGUAGE_NAMES.items()),
        description=_l("Evaluators who read this language are assigned to it."),
    )
    title = StringField(_l("Project title"), validators=[Within(limits.TITLE)])
    summary = TextAreaField(
        _l("Summary"),
        validators=[Within(limits.SUMMARY)],
        description=_l("What the project does, in a few sentences."),
    )
    objectives = TextAreaField(_l("Objectives"), validators=[Within(limits.OBJECTIVES)])
    sector = SelectField(_l("Sector"), choices=choices(SECTOR_CHOICES))
    country = CountryField(_l("Country where the project takes place"), allow_blank=True)
    locality = StringField(_l("Town or region"), validators=[Within(limits.LOCALITY)])
    start_date = DateField(_l("Start date"), validators=[Optional()])
    duration_months = WholeNumberField(
        _l("Duration in months"), validators=[Optional()], minimum=1, maximum=60
    )
    beneficiaries_count = WholeNumberField(
        _l("Number of beneficiaries"), validators=[Optional()], maximum=COUNT_MAX
    )
    beneficiaries_women = WholeNumberField(
        _l("of whom women"), validators=[Optional()], maximum=COUNT_MAX
    )
    beneficiaries_men = WholeNumberField(
        _l("of whom men"), validators=[Optional()], maximum=COUNT_MAX
    )
    beneficiaries_description = TextAreaField(
        _l("Who the beneficiaries are"), validators=[Within(limits.BENEFICIARIES_DESCRIPTION)]
    )
    sdg_targets = SelectMultipleField(
        _l("SDG targets the project serves"),
        choices=_sdg_choices,
        description=_l("Open a goal to tick its targets: 8.6 is a target of goal 8."),
    )
    budget_currency = CurrencyField(_l("Currency of the budget"))
    amount_requested = AmountField(
        _l("Amount requested from the programme"),
        validators=[Optional()],
        description=_l("In the call's currency."),
    )
    budget_lines = FieldList(FormField(BudgetLineForm), _l("Budget lines"), min_entries=1)
    cofinancing = FieldList(FormField(CoFinancingForm), _l("Co-financing"), min_entries=1)
    partners = FieldList(FormField(PartnerForm), _l("Partners"), min_entries=1)
    team = FieldList(FormField(TeamMemberForm), _l("The team"), min_entries=1)

    def sdg_goals(self) -> list[SdgGoal]:
        """The 17 goals with their targets, and those of them the project serves: the
        page shows one disclosure per goal, open where a target is chosen."""
        chosen = set(self.sdg_targets.data or [])
        return [
            SdgGoal(number, name, targets, tuple(t for t in targets if t in chosen))
            for number, (name, targets) in _goal_targets().items()
        ]

    def validate_start_date(self, field):
        if field.data and field.data < date.today():
            raise ValidationError(_l("The start date cannot be in the past."))

    def validate_beneficiaries_count(self, field):
        women, men = self.beneficiaries_women.data or 0, self.beneficiaries_men.data or 0
        if field.data is not None and women + men > field.data:
            raise ValidationError(_l("Women and men together cannot exceed the total."))

    def validate_budget_lines(self, field):
        incomplete = False
        for entry in field.entries:
            line = entry.form
            if line.is_blank():
                continue
            for cell in (line.quantity, line.unit_cost):
                if cell.data is None and not cell.errors:
                    cell.errors = [*cell.errors, _l("Required for this line.")]
                    incomplete = True
        if incomplete:
            raise ValidationError(_l("Each budget line needs a quantity and a unit cost."))

    def validate_cofinancing(self, field):
        incomplete = False
        for entry in field.entries:
            amount = entry.form.amount
            if not entry.form.is_blank() and amount.data is None and not amount.errors:
                amount.errors = [*amount.errors, _l("Required for this source.")]
                incomplete = True
        if incomplete:
            raise ValidationError(_l("Each co-financing source needs an amount."))

    def lines(self) -> list[dict]:
        return [
            {
                "category": e.form.category.data,
                "description": e.form.description.data,
                "quantity": e.form.quantity.data,
                "unit_cost": e.form.unit_cost.data,
            }
            for e in self.budget_lines.entries
            if not e.form.is_blank()
        ]

    def sources(self) -> list[dict]:
        return [
            {
                "source": e.form.source.data,
                "description": e.form.description.data,
                "amount": e.form.amount.data,
            }
            for e in self.cofinancing.entries
            if not e.form.is_blank()
        ]

    def partner_rows(self) -> list[dict]:
        return [
            {
                "name": e.form.name.data.strip(),
                "country": e.form.country.data or None,
                "role": (e.form.role.data or "").strip(),
            }
            for e in self.partners.entries
            if not e.form.is_blank()
        ]

    def team_rows(self) -> list[dict]:
        return [
            {"name": e.form.name.data.strip(), "role": (e.form.role.data or "").strip()}
            for e in self.team.entries
            if not e.form.is_blank()
        ]

    def draft_data(self) -> dict:
        """The draft's fields as the service takes them."""
        names = [name for name in DRAFT_FIELDS if name in self]
        data = {name: self[name].data for name in names}
        for name in ("title", "summary", "objectives", "locality", "beneficiaries_description"):
            data[name] = (data[name] or "").strip()
        if data["country"] == "":
            data["country"] = None
        return data


def line_total(line: dict) -> Decimal:
    return (Decimal(line["quantity"]) * Decimal(line["unit_cost"])).quantize(Decimal("0.01"))


#: The tables of the application form: rows a partial save sends whole, or not at all.
TABLES = ("budget_lines", "cofinancing", "partners", "team")


class DraftFieldsForm(ApplicationForm):
    """The application form without its tables: what an autosave that changed only the
    draft's own fields (the summary as a person types it) validates and saves, so that
    it neither loads nor compares rows it did not touch."""

    budget_lines = None
    cofinancing = None
    partners = None
    team = None
