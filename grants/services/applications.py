"""Applications: starting one, saving the draft safely, the checklist, submitting.

Two members may edit the same draft from two pages; every save carries the version the
page was loaded with, and a stale one is refused (the page keeps the text to merge).
Submitting goes through the application machine, whose guards are also the checklist.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel.lists import format_list
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, load_only

from grants import policy
from grants import text_limits as limits
from grants.extensions import db
from grants.labels import state_label
from grants.models.accounts import LOCALES, User
from grants.models.applications import (
    Application,
    BudgetLine,
    CoFinancing,
    Partner,
    TeamMember,
)
from grants.models.associations import Association
from grants.models.calls import Call, DocumentType
from grants.orm import utcnow
from grants.reference import country_currencies, country_names
from grants.services import questions
from grants.services.associations import is_member
from grants.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from grants.services.workflow import context, fire
from workflows.application import ApplicationLifecycle

#: States in which the applicants may change their application.
EDITABLE_STATES = ("draft", "proposal_draft")
DRAFT_FIELDS = (
    "language",
    "title",
    "summary",
    "objectives",
    "sector",
    "country",
    "locality",
    "start_date",
    "duration_months",
    "beneficiaries_count",
    "beneficiaries_women",
    "beneficiaries_men",
    "beneficiaries_description",
    "sdg_targets",
    "budget_currency",
    "amount_requested",
)


@dataclass(frozen=True)
class ChecklistItem:
    """One thing missing before the application can be submitted, and where to fix it."""

    text: str
    anchor: str


def visible_application(user: User, application_id: int, *options: Any) -> Application:
    """An application the person may see (``policy.APPLICATIONS``), else 404.
    ``options`` shape what is loaded with it (see ``SAVING``)."""
    return policy.APPLICATIONS.get(user, application_id, *options)


#: What saving a draft reads: the application with its call and association, not the
#: call's rubric and document types (two statements fewer on every autosave).
SAVING = (joinedload(Application.call).lazyload("*"),)


def _next_reference(call: Call, skip: int = 0) -> str:
    """The call's code and the next free number: one above the highest given so far."""
    references = db.session.scalars(
        select(Application.reference).where(
            Application.call_id == call.id, Application.reference.is_not(None)
        )
    )
    highest = 0
    for reference in references:
        suffix = reference.rsplit("-", 1)[-1]
        if suffix.isdigit():
            highest = max(highest, int(suffix))
    return f"{call.code}-{highest + 1 + skip:04d}"


def start_application(
    actor: User, call: Call, association: Association, start_key: str | None = None
) -> Application:
    """A new draft for ``association``; its reference (e.g. SN-EMP-2027-0007) is fixed now.

    ``start_key`` is the one-time key of the call page's "Start an application": the same
    key sent again (a second tap on a slow phone, a reload of the answer) gives the draft
    it already started rather than a second one."""
    if not is_member(actor, association):
        raise NotFound(_("No such association."))
    if start_key is not None and (started := _started_with(actor, start_key)) is not None:
        return started
    if call.state != "open" or (call.closes_at and call.closes_at <= utcnow()):
        raise Conflict(_("This call is not open for applications."))
    application = Application(
        call_id=call.id,
        association_id=association.id,
        # Written in the language its author works in, unless they say otherwise: the
        # evaluators who read that language are the ones proposed for it.
        language=actor.locale if actor.locale in LOCALES else call.language,
        sector=call.sector,
        country=(call.countries or [None])[0],
        budget_currency=call.currency,
        state=ApplicationLifecycle.initial_value(),
        created_by_id=actor.id,
    )
    if (question_set := questions.latest_set(call)) is not None:
        application.question_set_id = question_set.id
    application.start_key = start_key
    for attempt in range(5):
        application.reference = _next_reference(call, skip=attempt)
        try:
            with db.session.begin_nested():
                db.session.add(application)
        except IntegrityError:
            if start_key is not None and (started := _started_with(actor, start_key)):
                return started  # the same tap, twice at the same moment
            continue  # another member started one at the same moment; take the next number
        return application
    raise Conflict(_("Could not number the application; please try again."))


def _started_with(actor: User, start_key: str) -> Application | None:
    """The draft ``actor`` started with this key, if any. A key someone else used is
    refused: keys are random, so that is a forged or copied form, not a second tap."""
    started = db.session.scalars(
        select(Application).where(Application.start_key == start_key)
    ).one_or_none()
    if started is None:
        return None
    if started.created_by_id != actor.id:
        raise Conflict(_("This start of an application was already used. Open the call again."))
    return started


#: Applications a member's home page lists at a time, newest first.
HOME_PAGE_SIZE = 10


def applications_of(user: User, page: int = 1):
    """The applications of the person's associations, newest first, a page at a time:
    an association that has applied for years must not make its home page slow. Only
    what the page shows is loaded: the texts of the applications and of their calls are
    not, and each call comes in the same statement rather than one query per call."""
    ids = [m.association_id for m in user.memberships] or [-1]
    statement = (
        select(Application)
        .where(Application.association_id.in_(ids))
        .order_by(Application.created_at.desc(), Application.id.desc())
        .options(
            load_only(
                Application.reference, Application.title, Application.state, Application.call_id
            ),
            joinedload(Application.call).load_only(Call.closes_at, Call.timezone),
        )
    )
    return db.paginate(statement, page=page, per_page=HOME_PAGE_SIZE, error_out=False)


def check_editable(actor: User, application: Application) -> None:
    if not is_member(actor, application.association):
        raise Forbidden(_("Only members of the applying association can edit it."))
    if application.state not in EDITABLE_STATES:
        raise Conflict(
            _(
                "This application is %(state)s: it can be read but not changed.",
                state=state_label("application", application.state),
            )
        )


def document_type_of(application: Application, document_type_id: int) -> DocumentType:
    """One of the document types the application's call asks for; else 404."""
    document_type = db.session.get(DocumentType, document_type_id)
    if document_type is None or document_type.call_id != application.call_id:
        raise NotFound(_("This document type is not one of the call's."))
    return document_type


def project_countries(call: Call) -> list[str]:
    """The countries a call funds projects in; empty when it names none (any country)."""
    return [code for code in call.countries or [] if code]


def partner_countries(application: Application) -> list[str]:
    """The countries the form offers for a partner: where the project may take place
    and where the association is (its partners are local organisations or ones of its
    country of residence), then those partners already have. Any country is accepted
    (the API sends others); the list is short so that the form stays light on a phone."""
    association = application.association
    codes = [
        *project_countries(application.call),
        application.country,
        association.residence_country,
        association.registration_country,
        *(partner.country for partner in application.partners),
    ]
    return list(dict.fromkeys(code for code in codes if code))


def budget_currencies(application: Application) -> list[str]:
    """The currencies the form offers for the budget: the call's, the programme's and
    those of the countries of the project and of the association, then the one the
    budget has. Any currency in use is accepted; the list is short to stay light."""
    call, association = application.call, application.association
    countries = [
        *project_countries(call),
        application.country,
        association.residence_country,
        association.registration_country,
    ]
    codes = [call.currency, current_app.config["PROGRAMME_CURRENCY"]]
    codes += [code for country in countries if country for code in country_currencies(country)]
    codes.append(application.budget_currency)
    return list(dict.fromkeys(code for code in codes if code))


def country_problem(call: Call, country: str | None) -> str | None:
    """Why ``country`` cannot be the project's, in the reader's language; None when it
    can (no country yet, or one of the call's, or any country when the call names none).
    The form offers only these countries; this check is what the page and the API obey."""
    if not country:
        return None
    locale = str(get_locale() or "en")
    names = country_names(locale)
    if country not in names:
        return _("Not a country code, such as SN.")
    allowed = project_countries(call)
    if not allowed or country in allowed:
        return None
    return _(
        "This call funds projects in %(countries)s only; %(country)s is not one of them.",
        countries=format_list([names.get(code, code) for code in allowed], locale=locale),
        country=names[country],
    )


#: The texts of each kind of row, and the limit each is held to.
_ROW_LIMITS = {
    "budget_lines": {"description": limits.BUDGET_LINE_DESCRIPTION},
    "cofinancing": {"description": limits.COFINANCING_DESCRIPTION},
    "partners": {"name": limits.PARTNER_NAME, "role": limits.PARTNER_ROLE},
    "team": {"name": limits.TEAM_NAME, "role": limits.TEAM_ROLE},
}


def draft_problems(
    call: Call,
    data: dict[str, Any],
    budget_lines: list[dict[str, Any]] | None,
    cofinancing: list[dict[str, Any]] | None,
    partners: list[dict[str, Any]] | None = None,
    team: list[dict[str, Any]] | None = None,
) -> dict[str, list[str]]:
    """What is wrong with a draft's content, by field (a row's cell as
    ``budget_lines-0-description``, as the form names it): texts too long, a country
    outside the call's. The rules every save obeys, from the page or the API."""
    errors = limits.problems(data, limits.APPLICATION)
    if "country" in data:
        problem = country_problem(call, data.get("country"))
        if problem:
            errors["country"] = [problem]
    for name, rows in (
        ("budget_lines", budget_lines or []),
        ("cofinancing", cofinancing or []),
        ("partners", partners or []),
        ("team", team or []),
    ):
        for index, row in enumerate(rows):
            for key, problem in limits.problems(row, _ROW_LIMITS[name]).items():
                errors[f"{name}-{index}-{key}"] = problem
    return errors


def save_draft(
    actor: User,
    application: Application,
    version: int,
    data: dict[str, Any],
    budget_lines: list[dict[str, Any]] | None,
    cofinancing: list[dict[str, Any]] | None,
    partners: list[dict[str, Any]] | None = None,
    team: list[dict[str, Any]] | None = None,
    answers: dict[str, Any] | None = None,
    typed: bool = True,
) -> None:
    """Save the draft, or refuse if someone saved it since ``version`` was loaded. A
    table given as None is left as it is (a partial save that did not touch it), and so
    are the answers to the call's own questions not in ``answers`` (by question key;
    ``typed``: numbers as a person types them, else the API's notation)."""
    check_editable(actor, application)
    if version != application.version:
        raise Conflict(
            _(
                "Someone else saved this application since you opened it. Your text is kept "
                "on this page: compare it with theirs, then save again."
            )
        )
    errors = draft_problems(application.call, data, budget_lines, cofinancing, partners, team)
    changes: dict[str, Any] = {}
    if answers:
        changes, answer_errors = questions.validate_answers(application, answers, typed)
        errors.update(answer_errors)
    if errors:
        raise InvalidInput(_("The draft was not saved: some fields need attention."), errors)
    # First, while nothing is changed yet: loading the answers flushes nothing.
    questions.store_answers(application, changes)
    for name in DRAFT_FIELDS:
        if name in data:
            setattr(application, name, data[name])
    if budget_lines is not None:
        _replace_rows(
            application,
            "budget_lines",
            [
                BudgetLine(
                    position=index,
                    category=line["category"],
                    description=line.get("description") or "",
                    quantity=Decimal(line["quantity"]),
                    unit_cost=Decimal(line["unit_cost"]),
                )
                for index, line in enumerate(budget_lines, start=1)
            ],
            ("position", "category", "description", "quantity", "unit_cost"),
        )
    if cofinancing is not None:
        _replace_rows(
            application,
            "cofinancing",
            [
                CoFinancing(
                    source=item["source"],
                    description=item.get("description") or "",
                    amount=Decimal(item["amount"]),
                )
                for item in cofinancing
            ],
            ("source", "description", "amount"),
        )
    if partners is not None:
        _save_partners(application, partners)
    if team is not None:
        _replace_rows(
            application,
            "team",
            [
                TeamMember(position=index, name=row["name"], role=row.get("role") or "")
                for index, row in enumerate(team, start=1)
            ],
            ("position", "name", "role"),
        )
    application.updated_at = utcnow()
    db.session.flush()


def _replace_rows(application: Application, name: str, rows: list[Any], columns: tuple) -> None:
    """Replace a draft's rows of ``name`` by ``rows``, unless they say the same: most
    saves (an autosave while a person types the summary) change none of them, and
    deleting and inserting them again would cost four statements each time."""

    def values(row: Any) -> tuple:
        return tuple(getattr(row, column) for column in columns)

    if [values(row) for row in getattr(application, name)] != [values(row) for row in rows]:
        setattr(application, name, rows)


def _save_partners(application: Application, rows: list[dict[str, Any]]) -> None:
    """Partners keep their position, so each letter of commitment stays with its partner."""
    existing = {partner.position: partner for partner in application.partners}
    for index, row in enumerate(rows, start=1):
        partner = existing.pop(index, None) or Partner(position=index)
        partner.name, partner.country, partner.role = row["name"], row["country"], row["role"]
        if partner not in application.partners:
            application.partners.append(partner)
    for partner in existing.values():
        application.partners.remove(partner)


#: Which form section fixes which guard.
_ANCHORS = {
    "required_fields_present": "project",
    "concept_fields_present": "project",
    "required_documents_present": "documents",
    "required_answers_present": "questions",
    "amount_within_limits": "budget",
    "cofinancing_share_reached": "cofinancing",
    "association_may_submit": "association",
    "registration_country_allowed": "association",
    "no_overdue_report": "association",
    "project_country_allowed": "project",
    "eligibility_questions_answered": "eligibility",
    "deadline_not_passed": "deadline",
    "call_is_open": "deadline",
    "proposal_deadline_not_passed": "deadline",
}


def submission_event(application: Application) -> str:
    if application.state == "proposal_draft":
        return "submit_proposal"
    return "submit_concept" if application.call.two_stage else "submit"


def checklist(actor: User, application: Application) -> list[ChecklistItem]:
    """What is missing to submit, from the same guards that will judge the submission."""
    if application.state not in EDITABLE_STATES:
        return []
    event = submission_event(application)
    ctx = context(actor)
    items = []
    for guard in ApplicationLifecycle.rules[event].guards:
        problem = guard(application, ctx)
        if problem:
            items.append(ChecklistItem(problem, _ANCHORS.get(guard.__name__, "project")))
    return items


def submit(actor: User, application: Application, version: int | None) -> bool:
    """Submit once. Returns False when the same submission already went through (a double
    click), so the page can show the confirmation instead of an error."""
    if not is_member(actor, application.association):
        raise Forbidden(_("Only members of the applying association can submit it."))
    if version is None:
        raise InvalidInput(_("The form is incomplete; reload the page and submit again."))
    if application.state not in EDITABLE_STATES and application.submitted_at is not None:
        return False
    if version != application.version:
        raise Conflict(_("This application changed since you opened it; review it, then submit."))
    fire(application, submission_event(application), actor)
    return True
