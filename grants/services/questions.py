"""Questions of each call's own: reading them, and the answers.

The one place the answers' rules live: the application form, its autosave, the
submission guard and the API all validate through here. Building the questions is in
``question_building``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _lazy
from sqlalchemy import func, select

from grants.extensions import db
from grants.models.accounts import User
from grants.models.applications import Application
from grants.models.calls import Call
from grants.models.questions import (
    Answer,
    Question,
    QuestionSection,
    QuestionSet,
)
from grants.numbers import (
    AMOUNT_MAX,
    INTEGER_MAX,
    MACHINE,
    NumberRefused,
    read_number,
    reader_locale,
)
from grants.reference import country_names
from grants.services.errors import InvalidInput
from grants.text_limits import TextLimit

SHORT_TEXT = TextLimit(300, _lazy("The answer"))
LONG_TEXT = TextLimit(20000, _lazy("The answer"))
#: States in which applicants change their answers (as ``applications.EDITABLE_STATES``).
ANSWERING_STATES = ("draft", "proposal_draft")
YES_NO = ("yes", "no")


# --- reading ---------------------------------------------------------------------------


def latest_set(call: Call) -> QuestionSet | None:
    """The newest version of the call's questions; None when it asks none of its own."""
    return db.session.scalar(
        select(QuestionSet)
        .where(QuestionSet.call_id == call.id)
        .order_by(QuestionSet.number.desc())
        .limit(1)
    )


def set_of(application: Application) -> QuestionSet | None:
    """The version the application answers: its own once it has answered, the newest
    while it is a draft that has not."""
    if application.question_set_id is not None:
        return db.session.get(QuestionSet, application.question_set_id)
    if application.state in ANSWERING_STATES:
        return latest_set(application.call)
    return None


def questions_of(application: Application) -> list[Question]:
    question_set = set_of(application)
    return question_set.questions if question_set else []


def saved_values(application: Application) -> dict[str, Any]:
    """The application's answers by question key."""
    return {answer.question.key: answer.value for answer in application.answers}


def file_answers(application: Application) -> dict[str, Any]:
    """The current document answering each file question, by question key."""
    return {
        document.purpose.removeprefix("question-"): document
        for document in application.current_documents
        if document.purpose.startswith("question-")
    }


def shown(question: Question, values: Mapping[str, Any], by_key: Mapping[str, Question]) -> bool:
    """Whether the question is asked, given the answers: its condition holds, and the
    question the condition names is itself asked."""
    if not question.condition_key:
        return True
    source = by_key.get(question.condition_key)
    if source is None:
        return True
    answer = values.get(question.condition_key)
    matches = (
        question.condition_value in answer
        if isinstance(answer, list)
        else answer == question.condition_value
    )
    return matches and shown(source, values, by_key)


#: Unicode's first-strong isolate and its end: a label quoted in a sentence of the other
#: direction (a French label in an Arabic hint) keeps its punctuation on its own side.
#: Plain text, so that the sentence reads the same in a page, an error and an email.
FIRST_STRONG_ISOLATE, POP_ISOLATE = "\u2068", "\u2069"


def isolated_text(value: str) -> str:
    return f"{FIRST_STRONG_ISOLATE}{value}{POP_ISOLATE}" if value else value


def condition_text(question: Question, by_key: Mapping[str, Question], locale: str) -> str:
    """The sentence that says when a conditional question is asked."""
    source = by_key[question.condition_key]
    return _(
        "Asked only when “%(question)s” is answered “%(answer)s”.",
        question=isolated_text(source.text("label", locale)),
        answer=isolated_text(answer_text(source, question.condition_value, locale)),
    )


def answer_text(question: Question, value: Any, locale: str) -> str:
    """An answer as a reader reads it (pages, exports)."""
    if value is None or value == "" or value == []:
        return ""
    if question.kind == "yes_no":
        return _("Yes") if value == "yes" else _("No")
    if question.kind == "one_choice":
        return question.option_label(value, locale)
    if question.kind == "several_choices":
        return "; ".join(question.option_label(item, locale) for item in value)
    if question.kind == "country":
        return country_names(locale).get(value, value)
    return str(value)


# --- answering ---------------------------------------------------------------------------


def _words(text: str) -> int:
    return len(text.split())


def parse_answer(question: Question, raw: Any, typed: bool = True) -> Any:
    """The value of one answer, or ``ValueError`` with the reason. ``typed``: as a person
    types numbers in their language (a page); otherwise the API's plain notation."""
    if question.kind == "several_choices":
        items = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
        items = [str(item) for item in items if str(item).strip()]
        values = {option["value"] for option in question.options or []}
        if any(item not in values for item in items):
            raise ValueError(_("Choose among the options given."))
        return [option["value"] for option in question.options if option["value"] in items] or None
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    if raw is None:
        return None
    text = str(raw).strip()
    if not text:
        return None
    kind = question.kind
    if kind == "short_text":
        if problem := SHORT_TEXT.problem(text):
            raise ValueError(problem)
        return text
    if kind == "long_text":
        if problem := LONG_TEXT.problem(text):
            raise ValueError(problem)
        if question.max_words and _words(text) > question.max_words:
            raise ValueError(
                _(
                    "At most %(limit)s words; the answer has %(count)s.",
                    limit=question.max_words,
                    count=_words(text),
                )
            )
        return text
    if kind in ("whole_number", "amount"):
        places = 0 if kind == "whole_number" else 2
        locale = reader_locale() if typed and isinstance(raw, str) else MACHINE
        try:
            number = read_number(
                raw,
                locale,
                places=places,
                minimum=question.minimum if question.minimum is not None else None,
                maximum=question.maximum
                if question.maximum is not None
                else (INTEGER_MAX if places == 0 else AMOUNT_MAX),
            )
        except NumberRefused as refused:
            raise ValueError(str(refused)) from None
        return str(int(number)) if places == 0 else str(number.quantize(Decimal("0.01")))
    if kind == "date":
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError(_("Give a date, such as 2027-06-01.")) from None
    if kind == "one_choice":
        if text not in {option["value"] for option in question.options or []}:
            raise ValueError(_("Choose among the options given."))
        return text
    if kind == "yes_no":
        if text not in YES_NO:
            raise ValueError(_("Answer yes or no."))
        return text
    if kind == "country":
        if text.upper() not in country_names("en"):
            raise ValueError(_("Not a country code, such as SN."))
        return text.upper()
    raise ValueError(_("Upload the file with its own button."))


def validate_answers(
    application: Application, raw: Mapping[str, Any], typed: bool = True
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The answers ``raw`` gives (by question key) judged against the version the
    application answers, on top of its saved answers: the values to store (None
    removes one) and the errors by form field name. An answer to a question its
    condition hides is refused; a saved one that its condition now hides is removed."""
    questions = questions_of(application)
    by_key = {question.key: question for question in questions}
    values = saved_values(application)
    changes: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key in raw:
        if key not in by_key:
            errors[f"q_{key}"] = [_("This call asks no such question.")]
    for question in questions:
        if question.key not in raw or question.kind == "file":
            continue
        try:
            changes[question.key] = parse_answer(question, raw[question.key], typed)
        except ValueError as refused:
            errors[question.field_name] = [str(refused)]
    values.update({key: value for key, value in changes.items() if key not in errors})
    locale = reader_locale().language
    for question in questions:
        if shown(question, values, by_key):
            continue
        if changes.get(question.key) is not None:
            errors[question.field_name] = [
                _(
                    "%(condition)s Leave it empty.",
                    condition=condition_text(question, by_key, locale),
                )
            ]
        elif values.get(question.key) is not None:
            changes[question.key] = None
    return changes, errors


def store_answers(application: Application, changes: Mapping[str, Any]) -> None:
    """Write validated answers (see ``validate_answers``); the application now answers
    the version they belong to."""
    if not changes:
        return
    with db.session.no_autoflush:
        question_set = set_of(application)
    if question_set is None:
        return
    application.question_set_id = question_set.id
    by_key = {question.key: question for question in question_set.questions}
    existing = {answer.question.key: answer for answer in application.answers}
    for key, value in changes.items():
        answer = existing.get(key)
        if value is None:
            if answer is not None:
                application.answers.remove(answer)
        elif answer is None:
            application.answers.append(Answer(question=by_key[key], value=value))
        elif answer.value != value:
            answer.value = value


def save_answers(
    actor: User, application: Application, raw: Mapping[str, Any], typed: bool
) -> None:
    """Validate and store answers, or refuse them all with the reasons (nothing saved)."""
    changes, errors = validate_answers(application, raw, typed)
    if errors:
        raise InvalidInput(_("The answers were not saved: some need attention."), errors)
    store_answers(application, changes)
    db.session.flush()


def missing_answers(application: Application, cached: Any = None) -> list[str]:
    """Labels of the questions asked and required that have no answer yet: what the
    submission guard and the checklist name. ``cached(key, compute)`` shares the
    version of the questions among the applications of one page."""
    if cached is None:
        question_set = set_of(application)
    else:
        key = (
            "question_set",
            application.call_id,
            application.question_set_id,
            application.state in ANSWERING_STATES,
        )
        question_set = cached(key, lambda: set_of(application))
    questions = question_set.questions if question_set else []
    if not questions:
        return []
    by_key = {question.key: question for question in questions}
    values = saved_values(application)
    files = file_answers(application) if any(q.kind == "file" for q in questions) else {}
    return [
        question.text("label", application.language)
        for question in questions
        if question.required
        and shown(question, values, by_key)
        and (files.get(question.key) if question.kind == "file" else values.get(question.key))
        in (None, "", [])
    ]


def answers_for_reading(
    application: Application, locale: str, blind: bool = False
) -> list[dict[str, Any]]:
    """The sections with each asked question and its answer as text, for the
    application page, the review page and exports. ``blind`` (an evaluator of a blind
    call) leaves out the questions whose answer could name the association."""
    question_set = set_of(application)
    if question_set is None:
        return []
    values = saved_values(application)
    files = file_answers(application)
    by_key = {question.key: question for question in question_set.questions}
    return [
        {
            "title": section.text("title", locale),
            "questions": [
                {
                    "question": question,
                    "label": question.text("label", locale),
                    "text": answer_text(question, values.get(question.key), locale),
                    "document": files.get(question.key),
                }
                for question in section.questions
                if shown(question, values, by_key) and not (blind and question.identifying)
            ],
        }
        for section in question_set.sections
    ]


def question_count(call: Call) -> int:
    question_set = latest_set(call)
    if question_set is None:
        return 0
    return db.session.scalar(
        select(func.count(Question.id))
        .join(QuestionSection)
        .where(QuestionSection.question_set_id == question_set.id)
    )


def scored_questions(
    application: Application, locale: str, blind: bool = False
) -> dict[int, list[dict[str, Any]]]:
    """For each criterion of the call, the questions it scores with their answers:
    what the evaluator reads beside the criterion (never, in a blind call, an answer
    that could name the association)."""
    question_set = set_of(application)
    if question_set is None:
        return {}
    values = saved_values(application)
    files = file_answers(application)
    by_key = {question.key: question for question in question_set.questions}
    scored: dict[int, list[dict[str, Any]]] = {}
    for criterion in application.call.criteria:
        for key in criterion.question_keys or []:
            question = by_key.get(key)
            if question is None or (blind and question.identifying):
                continue
            document = files.get(key)
            scored.setdefault(criterion.id, []).append(
                {
                    "label": question.text("label", locale),
                    "text": document.filename
                    if document is not None
                    else answer_text(question, values.get(key), locale),
                }
            )
    return scored
