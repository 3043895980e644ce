"""The eligibility check of a call: its settings, the public "Can we apply?" check, and
the answers a draft keeps.

The rules themselves are declared once, in ``workflows/eligibility.py``; the submission
guards are the same rules. Here: what an officer may set, what a visitor's answers or an
association's record make of them, and where the answers are kept.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from grants import policy
from grants.extensions import db
from grants.models.accounts import User
from grants.models.applications import Application
from grants.models.associations import Association
from grants.models.calls import Call
from grants.orm import utcnow
from grants.reference import country_names
from grants.roles import PROGRAMME_OFFICER
from grants.services import audit
from grants.services.applications import check_editable, country_problem, start_application
from grants.services.associations import is_member
from grants.services.calls import find_call
from grants.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from grants.text_limits import TextLimit
from workflows.eligibility import ANSWERS, Facts, reasons
from workflows.sentences import Sentence

QUESTION_TEXT = TextLimit(500, _l("The question"))
#: A call asks at most this many yes/no questions: the check must stay short on a phone.
MAX_QUESTIONS = 20


__all__ = [
    "CheckResult",
    "call_for_check",
    "check",
    "find_call",
    "save_answers",
    "save_settings",
    "start_from_check",
]


def today():
    """The programme's today (UTC), which overdue reports are counted against."""
    return utcnow().date()


def call_for_check(user: Any, code: str) -> Call:
    """A call anyone may check against: every call but drafts, which only the
    programme's staff see (``policy.CALLS``); 404 otherwise."""
    call = db.session.scalar(select(Call).where(Call.code == code))
    if call is None:
        raise NotFound(_("No such call."))
    signed_in = getattr(user, "is_authenticated", False)
    condition = policy.CALLS.condition(user) if signed_in else policy.CALLS.own(user)
    if condition is not None and (
        db.session.scalar(select(Call.id).where(Call.id == call.id, condition)) is None
    ):
        raise NotFound(_("No such call."))
    return call


# --- the officer's settings ------------------------------------------------------------


def settings_problems(call: Call, data: dict[str, Any]) -> dict[str, list[str]]:
    """What is wrong with eligibility settings, by field (a question's cell as
    ``questions-0-text_fr``, as the form names it)."""
    problems: dict[str, list[str]] = {}
    known = country_names("en")
    unknown = [code for code in data.get("registration_countries") or [] if code not in known]
    if unknown:
        problems["registration_countries"] = [
            _("Unknown country code: %(codes)s", codes=", ".join(unknown))
        ]
    questions = data.get("questions") or []
    if len(questions) > MAX_QUESTIONS:
        problems["questions"] = [
            _("A call asks at most %(count)s eligibility questions.", count=MAX_QUESTIONS)
        ]
    for index, question in enumerate(questions):
        texts = {k: (v or "").strip() for k, v in (question.get("text") or {}).items()}
        if not any(texts.values()):
            problems.setdefault(f"questions-{index}-text_{call.language}", []).append(
                _("Give the question a text.")
            )
        elif not texts.get(call.language):
            problems.setdefault(f"questions-{index}-text_{call.language}", []).append(
                _("Give the question a text in the call's main language.")
            )
        for language, text in texts.items():
            problem = QUESTION_TEXT.problem(text)
            if problem:
                problems.setdefault(f"questions-{index}-text_{language}", []).append(problem)
        if question.get("excludes") not in ANSWERS:
            problems[f"questions-{index}-excludes"] = [
                _("Choose the answer that excludes an association.")
            ]
    return problems


def errors_on_rows(error: InvalidInput, positions: list[int]) -> InvalidInput:
    """The service's errors on the questions kept, renamed for the form's rows (the
    blank and removed rows are not sent, so the numbers differ)."""
    renamed: dict[str, list[str]] = {}
    for name, messages in error.errors.items():
        table, _sep, rest = name.partition("-")
        number, _sep, cell = rest.partition("-")
        if table == "questions" and number.isdigit() and int(number) < len(positions):
            name = f"questions-{positions[int(number)]}-{cell}"
        renamed[name] = messages
    return InvalidInput(error.message, renamed)


def save_settings(actor: User, call: Call, version: int | None, data: dict[str, Any]) -> None:
    """Change a draft call's eligibility rules, all or nothing, with an audit row.
    ``data``: registration_countries, no_overdue_reports, questions
    ([{"key"?, "text": {lang: text}, "excludes": "yes"|"no"}])."""
    if PROGRAMME_OFFICER not in actor.role_names:
        raise Forbidden(_("Only a programme officer sets a call's eligibility rules."))
    if call.state != "draft":
        raise Conflict(
            _("Only a draft call's eligibility rules can be changed: applicants rely on them.")
        )
    if version != call.version:
        raise Conflict(
            _(
                "Someone else saved this call since you opened it; your changes "
                "are kept on this page."
            )
        )
    problems = settings_problems(call, data)
    if problems:
        raise InvalidInput(_("The eligibility rules are not saved: see the fields."), problems)
    keys = {question["key"] for question in call.eligibility_questions or []}
    questions = [
        {
            # A question keeps its key while its words change, so answers stay with it.
            "key": question["key"] if question.get("key") in keys else uuid.uuid4().hex[:12],
            "text": {k: v.strip() for k, v in question["text"].items() if (v or "").strip()},
            "excludes": question["excludes"],
        }
        for question in data.get("questions") or []
    ]
    before = _audited(call)
    call.registration_countries = list(dict.fromkeys(data.get("registration_countries") or []))
    call.no_overdue_reports = bool(data.get("no_overdue_reports"))
    call.eligibility_questions = questions
    call.updated_at = utcnow()
    db.session.flush()
    after = _audited(call)
    changes = {name: [before[name], after[name]] for name in before if before[name] != after[name]}
    if changes:
        audit.record(actor, "call.eligibility_edited", ("call", call.id), changes)


def _audited(call: Call) -> dict[str, Any]:
    return {
        "registration_countries": list(call.registration_countries or []),
        "no_overdue_reports": call.no_overdue_reports,
        "eligibility_questions": [dict(q) for q in call.eligibility_questions or []],
    }


# --- the check -------------------------------------------------------------------------


@dataclass
class CheckResult:
    """The outcome of a check: every reason, and what it could not judge."""

    reasons: list[Sentence]
    #: Rules that need the association's record, for a visitor who is not signed in.
    unchecked: list[str] = field(default_factory=list)

    @property
    def eligible(self) -> bool:
        return not self.reasons


def member_associations(user: Any) -> list[Association]:
    """The associations a signed-in person may check for (none for a visitor)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [membership.association for membership in user.memberships]


def record_facts(association: Association, today) -> dict[str, Any]:
    """What the association's record says: where it is registered, whether it is
    verified, and its reports overdue on earlier grants."""
    return {
        "registration_country": association.registration_country,
        "verified": association.state == "verified",
        "overdue_reports": association.overdue_reports(today),
    }


def answer_problems(call: Call, answers: dict[str, Any]) -> dict[str, list[str]]:
    """Each question of the call answered yes or no, named as the API names it."""
    return {
        f"eligibility_answers.{question['key']}": [_("Answer yes or no.")]
        for question in call.eligibility_questions or []
        if answers.get(question["key"]) not in ANSWERS
    }


def check(
    call: Call,
    project_country: str | None,
    amount: Decimal | None,
    cofinancing_share: Decimal | None,
    answers: dict[str, str],
    association: Association | None = None,
    registration_country: str | None = None,
) -> CheckResult:
    """Judge the visitor's answers with the call's rules. With an association of the
    signed-in member, its record stands in for what a visitor would say."""
    locale = str(get_locale() or "en")
    known = {"registration_country": registration_country}
    if association is not None:
        known = record_facts(association, today())
    facts = Facts(
        project_country=project_country,
        amount=amount,
        cofinancing_share=cofinancing_share,
        answers={q["key"]: answers.get(q["key"]) for q in call.eligibility_questions or []},
        locale=locale,
        **known,
    )
    unchecked = []
    if association is None:
        if call.require_verified_association:
            unchecked.append(_("The association must be verified by the programme."))
        if call.no_overdue_reports:
            unchecked.append(_("No report may be overdue on an earlier grant."))
    return CheckResult(reasons(call, facts), unchecked)


# --- answers kept on the draft -----------------------------------------------------------


def _clean_answers(call: Call, answers: dict[str, Any]) -> dict[str, str]:
    problems = answer_problems(call, answers)
    if problems:
        raise InvalidInput(_("Answer every eligibility question, yes or no."), problems)
    return {q["key"]: answers[q["key"]] for q in call.eligibility_questions or []}


def save_answers(
    actor: User, application: Application, version: int | None, answers: dict[str, Any]
) -> None:
    """Keep the draft's answers to the call's eligibility questions; the submission's
    guard judges them."""
    check_editable(actor, application)
    if version != application.version:
        raise Conflict(
            _(
                "Someone else saved this application since you opened it. Your text is kept "
                "on this page: compare it with theirs, then save again."
            )
        )
    application.eligibility_answers = _clean_answers(application.call, answers)
    application.updated_at = utcnow()
    db.session.flush()


def start_from_check(
    actor: User,
    call: Call,
    association_id: int | None,
    answers: dict[str, Any],
    project_country: str | None = None,
    amount: Decimal | None = None,
) -> Application:
    """A new draft that keeps what the member said at the check: the answers to the
    eligibility questions, and the project's country and amount when the call takes
    them."""
    association = next(
        (a for a in member_associations(actor) if a.id == association_id),
        None,
    )
    if association is None or not is_member(actor, association):
        raise NotFound(_("No such association."))
    kept = _clean_answers(call, answers)
    application = start_application(actor, call, association)
    application.eligibility_answers = kept
    if project_country and country_problem(call, project_country) is None:
        application.country = project_country
    if amount is not None and amount >= 0:
        application.amount_requested = amount
    db.session.flush()
    return application
