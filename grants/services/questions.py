"""Questions of each call's own: building them, their versions, and the answers.

The one place their rules live: the officers' builder, the application form, its
autosave, the submission guard and the API all validate through here. Once applications
have been submitted on a version of the questions, a change that could invalidate their
answers makes a new version; the submitted applications keep theirs, drafts move on.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _lazy
from sqlalchemy import exists, func, select

from grants.extensions import db
from grants.models.accounts import LOCALES, User
from grants.models.applications import Application
from grants.models.calls import Call
from grants.models.questions import (
    CHOICE_KINDS,
    QUESTION_KINDS,
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
from grants.roles import PROGRAMME_OFFICER
from grants.services import audit
from grants.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from grants.text_limits import TextLimit

LABEL = TextLimit(300, _lazy("The label"))
HELP = TextLimit(1000, _lazy("The help"))
OPTION = TextLimit(200, _lazy("An option"))
SECTION_TITLE = TextLimit(200, _lazy("The title"))
SHORT_TEXT = TextLimit(300, _lazy("The answer"))
LONG_TEXT = TextLimit(20000, _lazy("The answer"))
#: States of a call whose questions may still change.
BUILDING_STATES = ("draft", "open")
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


def condition_text(question: Question, by_key: Mapping[str, Question], locale: str) -> str:
    """The sentence that says when a conditional question is asked."""
    source = by_key[question.condition_key]
    return _(
        "Asked only when “%(question)s” is answered “%(answer)s”.",
        question=source.text("label", locale),
        answer=answer_text(source, question.condition_value, locale),
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


def answers_for_reading(application: Application, locale: str) -> list[dict[str, Any]]:
    """The sections with each asked question and its answer as text, for the
    application page, the review page and exports."""
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
                if shown(question, values, by_key)
            ],
        }
        for section in question_set.sections
    ]


# --- building ----------------------------------------------------------------------------


def check_may_build(actor: User, call: Call) -> None:
    if PROGRAMME_OFFICER not in actor.role_names:
        raise Forbidden(_("Only a programme officer changes the questions of a call."))
    if call.state not in BUILDING_STATES:
        raise Conflict(_("The questions of a closed call no longer change."))


def _answered(question_set: QuestionSet) -> bool:
    """Whether submitted applications answer this version (or answered nothing on it
    while it was the newest): then it no longer changes in a way that matters."""
    on_this = Application.question_set_id == question_set.id
    on_none = Application.question_set_id.is_(None) & (Application.call_id == question_set.call_id)
    return bool(
        db.session.scalar(
            select(exists().where(Application.submitted_at.is_not(None), on_this | on_none))
        )
    )


def _copy(question_set: QuestionSet) -> QuestionSet:
    """The next version, the same questions (keys kept), and drafts moved onto it."""
    copy = QuestionSet(call_id=question_set.call_id, number=question_set.number + 1)
    for section in question_set.sections:
        new_section = QuestionSection(position=section.position, title=dict(section.title))
        for question in section.questions:
            new_section.questions.append(
                Question(
                    **{
                        column: getattr(question, column)
                        for column in (
                            "position",
                            "key",
                            "kind",
                            "label",
                            "help",
                            "required",
                            "max_words",
                            "minimum",
                            "maximum",
                            "options",
                            "condition_key",
                            "condition_value",
                        )
                    }
                )
            )
        copy.sections.append(new_section)
    db.session.add(copy)
    db.session.flush()
    by_key = {question.key: question for question in copy.questions}
    drafts = db.session.scalars(
        select(Application).where(
            Application.question_set_id == question_set.id,
            Application.state.in_(ANSWERING_STATES),
        )
    )
    for application in drafts:
        for answer in list(application.answers):
            answer.question = by_key[answer.question.key]
        application.question_set_id = copy.id
    db.session.flush()
    return copy


def working_set(call: Call, invalidating: bool) -> QuestionSet:
    """The version a change applies to: the newest, or a new one when the change could
    invalidate answers already submitted on the newest."""
    current = latest_set(call)
    if current is None:
        current = QuestionSet(call_id=call.id, number=1)
        db.session.add(current)
        db.session.flush()
        return current
    if invalidating and _answered(current):
        return _copy(current)
    return current


def _section(question_set: QuestionSet, position: int) -> QuestionSection:
    for section in question_set.sections:
        if section.position == position:
            return section
    raise NotFound(_("This section is not one of the call's."))


def _question(question_set: QuestionSet, key: str) -> Question:
    for question in question_set.questions:
        if question.key == key:
            return question
    raise NotFound(_("This question is not one of the call's."))


def _renumber(items: list[Any]) -> None:
    for position, item in enumerate(items, start=1):
        item.position = position


def _texts(values: Mapping[str, str]) -> dict[str, str]:
    return {
        locale: values[locale].strip() for locale in LOCALES if (values.get(locale) or "").strip()
    }


def _audit(actor: User, call: Call, what: str, question_set: QuestionSet) -> None:
    audit.record(
        actor,
        "call.questions_edited",
        ("call", call.id),
        {"questions": [None, what], "version": [None, question_set.number]},
    )


def section_problems(title: Mapping[str, str]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for locale, text in title.items():
        if problem := SECTION_TITLE.problem(text):
            errors[f"title_{locale}"] = [problem]
    if not _texts(title):
        errors["title"] = [_("Give the section a title in at least one language.")]
    return errors


def add_section(actor: User, call: Call, title: Mapping[str, str]) -> QuestionSection:
    check_may_build(actor, call)
    if errors := section_problems(title):
        raise InvalidInput(_("The section was not added: some fields need attention."), errors)
    question_set = working_set(call, invalidating=False)
    section = QuestionSection(position=len(question_set.sections) + 1, title=_texts(title))
    question_set.sections.append(section)
    db.session.flush()
    _audit(actor, call, "section added", question_set)
    return section


def edit_section(actor: User, call: Call, position: int, title: Mapping[str, str]) -> None:
    check_may_build(actor, call)
    if errors := section_problems(title):
        raise InvalidInput(_("The section was not saved: some fields need attention."), errors)
    question_set = working_set(call, invalidating=False)
    _section(question_set, position).title = _texts(title)
    db.session.flush()
    _audit(actor, call, "section edited", question_set)


def remove_section(actor: User, call: Call, position: int) -> None:
    check_may_build(actor, call)
    current = latest_set(call)
    if current is None:
        raise NotFound(_("This section is not one of the call's."))
    invalidating = bool(_section(current, position).questions)
    question_set = working_set(call, invalidating=invalidating)
    section = _section(question_set, position)
    removed = {question.key for question in section.questions}
    if any(
        question.condition_key in removed
        for question in question_set.questions
        if question.key not in removed
    ):
        raise Conflict(_("Another question is asked depending on a question of this section."))
    question_set.sections.remove(section)
    _renumber(question_set.sections)
    db.session.flush()
    _audit(actor, call, "section removed", question_set)


def move_section(actor: User, call: Call, position: int, step: int) -> None:
    check_may_build(actor, call)
    question_set = working_set(call, invalidating=False)
    sections = list(question_set.sections)
    index = sections.index(_section(question_set, position))
    target = index + step
    if not 0 <= target < len(sections):
        return
    sections[index], sections[target] = sections[target], sections[index]
    order = [question.key for section in sections for question in section.questions]
    _check_conditions_in_order(question_set, order)
    _renumber(sections)
    db.session.flush()
    _audit(actor, call, "section moved", question_set)


def _check_conditions_in_order(question_set: QuestionSet, order: list[str]) -> None:
    by_key = {question.key: question for question in question_set.questions}
    for index, key in enumerate(order):
        condition = by_key[key].condition_key
        if condition and condition not in order[:index]:
            raise Conflict(
                _(
                    "“%(question)s” is asked depending on “%(source)s”: it must come after it.",
                    question=by_key[key].text("label", question_set.call.language),
                    source=by_key[condition].text("label", question_set.call.language),
                )
            )


def _option_values(
    labels: Mapping[str, list[str]], language: str, previous: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Options from their labels per language (line by line), keeping the value of an
    option whose label in the call's language is unchanged, so that answers keep it."""
    main = labels.get(language) or next((lines for lines in labels.values() if lines), [])
    kept = {(option.get("label") or {}).get(language, ""): option["value"] for option in previous}
    options = []
    for index, text in enumerate(main):
        label = {
            locale: lines[index].strip()
            for locale, lines in labels.items()
            if index < len(lines) and lines[index].strip()
        }
        options.append({"value": kept.get(text.strip()) or uuid.uuid4().hex[:8], "label": label})
    return options


def question_problems(
    call: Call, data: Mapping[str, Any], earlier: list[Question]
) -> dict[str, list[str]]:
    """What is wrong with a question as an officer describes it, by form field."""
    errors: dict[str, list[str]] = {}
    kind = data.get("kind")
    if kind not in QUESTION_KINDS:
        errors["kind"] = [_("Choose the kind of answer.")]
    for name, limit in (("label", LABEL), ("help", HELP)):
        for locale, text in (data.get(name) or {}).items():
            if problem := limit.problem(text):
                errors[f"{name}_{locale}"] = [problem]
    if not _texts(data.get("label") or {}):
        errors["label"] = [_("Give the question a label in at least one language.")]
    options = data.get("options") or {}
    if kind in CHOICE_KINDS:
        main = [line for line in options.get(call.language) or [] if line.strip()]
        for lines in options.values():
            main = main or [line for line in lines if line.strip()]
        if not main:
            errors["options"] = [_("Give the options to choose from, one per line.")]
        elif len({line.strip() for line in main}) < len(main):
            errors["options"] = [_("Each option must be different.")]
        for lines in options.values():
            for line in lines:
                if problem := OPTION.problem(line):
                    errors["options"] = [problem]
    minimum, maximum = data.get("minimum"), data.get("maximum")
    if minimum is not None and maximum is not None and minimum > maximum:
        errors["maximum"] = [_("The largest answer cannot be below the smallest.")]
    condition_key = data.get("condition_key")
    if condition_key:
        source = next((q for q in earlier if q.key == condition_key), None)
        if source is None:
            errors["condition"] = [_("A question can depend only on a question asked before it.")]
        elif source.kind == "yes_no":
            if data.get("condition_value") not in YES_NO:
                errors["condition"] = [_("Choose the answer that shows the question.")]
        elif source.kind in CHOICE_KINDS:
            if data.get("condition_value") not in {o["value"] for o in source.options}:
                errors["condition"] = [_("Choose the answer that shows the question.")]
        else:
            errors["condition"] = [_("A question can depend only on a yes/no or choice question.")]
    return errors


def _apply(question: Question, call: Call, data: Mapping[str, Any]) -> None:
    kind = data["kind"]
    question.kind = kind
    question.label = _texts(data.get("label") or {})
    question.help = _texts(data.get("help") or {})
    question.required = bool(data.get("required"))
    question.max_words = data.get("max_words") if kind == "long_text" else None
    numeric = kind in ("whole_number", "amount")
    question.minimum = data.get("minimum") if numeric else None
    question.maximum = data.get("maximum") if numeric else None
    question.options = (
        _option_values(data.get("options") or {}, call.language, question.options or [])
        if kind in CHOICE_KINDS
        else []
    )
    question.condition_key = data.get("condition_key") or None
    question.condition_value = data.get("condition_value") if question.condition_key else None


def _shape(question: Question) -> tuple:
    """What answers depend on: a change of any of it could invalidate them."""
    return (
        question.kind,
        question.required,
        question.max_words,
        question.minimum,
        question.maximum,
        [option["value"] for option in question.options or []],
        question.condition_key,
        question.condition_value,
    )


def add_question(
    actor: User, call: Call, section_position: int, data: Mapping[str, Any]
) -> Question:
    check_may_build(actor, call)
    current = latest_set(call)
    earlier = current.questions if current else []
    if errors := question_problems(call, data, earlier):
        raise InvalidInput(_("The question was not added: some fields need attention."), errors)
    question_set = working_set(call, invalidating=bool(data.get("required")))
    section = _section(question_set, section_position)
    question = Question(key=uuid.uuid4().hex[:12], position=len(section.questions) + 1, options=[])
    _apply(question, call, data)
    section.questions.append(question)
    db.session.flush()
    _audit(actor, call, "question added", question_set)
    return question


def edit_question(actor: User, call: Call, key: str, data: Mapping[str, Any]) -> Question:
    check_may_build(actor, call)
    current = latest_set(call)
    if current is None:
        raise NotFound(_("This question is not one of the call's."))
    original = _question(current, key)
    earlier = current.questions[: current.questions.index(original)]
    if errors := question_problems(call, data, earlier):
        raise InvalidInput(_("The question was not saved: some fields need attention."), errors)
    probe = Question(kind=original.kind, options=list(original.options or []))
    _apply(probe, call, data)
    question_set = working_set(call, invalidating=_shape(probe) != _shape(original))
    question = _question(question_set, key)
    _apply(question, call, data)
    db.session.flush()
    _audit(actor, call, "question edited", question_set)
    return question


def remove_question(actor: User, call: Call, key: str) -> None:
    check_may_build(actor, call)
    current = latest_set(call)
    if current is None:
        raise NotFound(_("This question is not one of the call's."))
    _question(current, key)
    if any(question.condition_key == key for question in current.questions):
        raise Conflict(_("Another question is asked depending on this one: change it first."))
    question_set = working_set(call, invalidating=True)
    question = _question(question_set, key)
    section = question.section
    section.questions.remove(question)
    _renumber(section.questions)
    db.session.flush()
    _audit(actor, call, "question removed", question_set)


def move_question(actor: User, call: Call, key: str, step: int) -> None:
    """Up or down by one; past the first or last of its section, into the section
    before or after it."""
    check_may_build(actor, call)
    question_set = working_set(call, invalidating=False)
    question = _question(question_set, key)
    section = question.section
    questions = list(section.questions)
    index = questions.index(question)
    target = index + step
    sections = list(question_set.sections)
    if 0 <= target < len(questions):
        questions[index], questions[target] = questions[target], questions[index]
        order_of = {section.id: questions}
    else:
        neighbour = sections.index(section) + step
        if not 0 <= neighbour < len(sections):
            return
        other = sections[neighbour]
        questions.remove(question)
        moved = [question, *other.questions] if step > 0 else [*other.questions, question]
        order_of = {section.id: questions, other.id: moved}
    order = [q.key for s in sections for q in order_of.get(s.id, s.questions)]
    _check_conditions_in_order(question_set, order)
    for section_id, items in order_of.items():
        target_section = next(s for s in sections if s.id == section_id)
        if question in items and question.section is not target_section:
            question.section = target_section
        _renumber(items)
    db.session.flush()
    _audit(actor, call, "question moved", question_set)


def question_count(call: Call) -> int:
    question_set = latest_set(call)
    if question_set is None:
        return 0
    return db.session.scalar(
        select(func.count(Question.id))
        .join(QuestionSection)
        .where(QuestionSection.question_set_id == question_set.id)
    )


def criteria_scoring(call: Call, key: str) -> list[int]:
    """The ids of the criteria that name the question ``key`` as one they score."""
    return [criterion.id for criterion in call.criteria if key in (criterion.question_keys or [])]


def set_criteria_scoring(actor: User, call: Call, key: str, criterion_ids: list[int]) -> None:
    """Name the criteria that score a question: evaluators read its answer beside them."""
    check_may_build(actor, call)
    known = {criterion.id for criterion in call.criteria}
    if set(criterion_ids) - known:
        raise InvalidInput(
            _("Choose among the call's criteria."),
            {"criteria": [_("Choose among the call's criteria.")]},
        )
    for criterion in call.criteria:
        keys = [k for k in criterion.question_keys or [] if k != key]
        if criterion.id in criterion_ids:
            keys.append(key)
        if keys != (criterion.question_keys or []):
            criterion.question_keys = keys
    db.session.flush()


def scored_questions(application: Application, locale: str) -> dict[int, list[dict[str, Any]]]:
    """For each criterion of the call, the questions it scores with their answers:
    what the evaluator reads beside the criterion."""
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
            if question is None:
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
