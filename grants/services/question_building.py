"""Building a call's own questions: sections and questions added, edited, ordered and
removed by programme officers, and the criteria that score them.

Once applications have been submitted on a version of the questions, a change that could
invalidate their answers makes a new version (``working_set``): the submitted
applications keep theirs, drafts move on with their answers.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _lazy
from sqlalchemy import exists, select

from grants.extensions import db
from grants.models.accounts import LOCALES, User
from grants.models.applications import Application
from grants.models.calls import Call
from grants.models.questions import (
    CHOICE_KINDS,
    QUESTION_KINDS,
    Question,
    QuestionSection,
    QuestionSet,
)
from grants.roles import PROGRAMME_OFFICER
from grants.services import audit
from grants.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from grants.services.questions import ANSWERING_STATES, YES_NO, latest_set
from grants.text_limits import TextLimit

LABEL = TextLimit(300, _lazy("The label"))
HELP = TextLimit(1000, _lazy("The help"))
OPTION = TextLimit(200, _lazy("An option"))
SECTION_TITLE = TextLimit(200, _lazy("The title"))
#: States of a call whose questions may still change.
BUILDING_STATES = ("draft", "open")


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
                            "identifying",
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
    question.identifying = bool(data.get("identifying"))
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
