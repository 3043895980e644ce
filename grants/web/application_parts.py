"""The application form in parts, each a page of its own and saved on its own.

A volunteer on a slow phone loads and sends one part at a time: the project, then
beneficiaries and goals, partners and team, the budget, the call's own questions. The
draft's overview (its page without a part) lists the parts with what each still needs,
and holds the documents, the checklist and the submission. The whole form is still one
page at ``?part=all`` for those who prefer it (and to print), and a POST that names no
part saves the whole form, as the API and older pages send it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, url_for
from flask_babel import lazy_gettext as _l

from grants.models.applications import Application
from grants.services import questions as question_service
from workflows.application import CONCEPT_FIELDS, REQUIRED_FIELDS, missing_fields

#: The whole form on one page.
ALL = "all"


@dataclass(frozen=True)
class Part:
    """One page of the form: the fields and tables it carries (``groups``, as an autosave
    names them in ``changed``) and the checklist anchors that point into it."""

    name: str
    title: object
    groups: tuple[str, ...]
    anchors: tuple[str, ...] = ()


CONCEPT = Part(
    "concept",
    _l("Concept note"),
    ("language", "title", "summary", "sector", "country", "amount_requested", "budget_currency"),
    ("project",),
)
PROPOSAL = (
    Part(
        "project",
        _l("The project"),
        (
            "language",
            "title",
            "summary",
            "objectives",
            "sector",
            "country",
            "locality",
            "start_date",
            "duration_months",
        ),
        ("project",),
    ),
    Part(
        "goals",
        _l("Beneficiaries and goals"),
        (
            "beneficiaries_count",
            "beneficiaries_women",
            "beneficiaries_men",
            "beneficiaries_description",
            "sdg_targets",
        ),
        ("beneficiaries",),
    ),
    Part("people", _l("Partners and team"), ("partners", "team"), ("partners", "team")),
    Part(
        "budget",
        _l("Budget and co-financing"),
        ("budget_currency", "budget_lines", "amount_requested", "cofinancing"),
        ("budget", "cofinancing"),
    ),
)
QUESTIONS_TITLE = _l("The call's questions")


def is_concept(application: Application) -> bool:
    return application.call.two_stage and application.state == "draft"


def parts_of(application: Application) -> list[Part]:
    """The parts of this draft's form, in order: a concept note is one part; a full
    proposal has four, and a fifth when the call asks questions of its own."""
    if is_concept(application):
        return [CONCEPT]
    parts = list(PROPOSAL)
    questions = [
        q.field_name for q in question_service.questions_of(application) if q.kind != "file"
    ]
    if questions:
        parts.append(Part("questions", QUESTIONS_TITLE, tuple(questions), ("questions",)))
    return parts


def chosen(application: Application, name: str | None) -> Part | str | None:
    """The part a page shows: None for the overview, ``ALL`` for the whole form. An
    unknown part is a page that does not exist."""
    if name is None or name == ALL:
        return name
    part = next((part for part in parts_of(application) if part.name == name), None)
    if part is None:
        abort(404)
    return part


def shown(application: Application, part: Part | str | None) -> list[Part]:
    """The parts whose fields the page carries."""
    if part == ALL:
        return parts_of(application)
    return [part] if isinstance(part, Part) else []


def after(application: Application, part: Part) -> str:
    """Where "Save and continue" leads: the next part, or the overview after the last."""
    parts = parts_of(application)
    following = parts[parts.index(part) + 1 :] if part in parts else []
    if following:
        return url_for("applications.show", application_id=application.id, part=following[0].name)
    return url_for("applications.show", application_id=application.id, _anchor="checklist")


def part_with(application: Application, field_names: list[str]) -> Part | None:
    """The first part carrying one of these fields (the fields a refused save names)."""
    groups = {name.split("-")[0] for name in field_names}
    return next((part for part in parts_of(application) if groups & set(part.groups)), None)


def link_to_part_with(application: Application, field_names: list[str]) -> str | None:
    """The page of the part holding the first of these fields, to fix a refused save."""
    part = part_with(application, field_names)
    if part is None:
        return None
    return url_for("applications.show", application_id=application.id, part=part.name)


def to_complete(application: Application, checklist: list) -> set[str]:
    """The parts that still miss something the submission needs: a required field left
    empty, or a checklist item pointing into the part."""
    required = CONCEPT_FIELDS if is_concept(application) else REQUIRED_FIELDS
    missing = set(missing_fields(application, required))
    if not is_concept(application) and not application.budget_lines:
        missing.add("budget_lines")
    # The "project" anchor is the required-fields item's, which names fields of every
    # part: each part is judged by its own empty fields instead.
    anchors = {item.anchor for item in checklist} - {"project"}
    return {
        part.name
        for part in parts_of(application)
        if set(part.groups) & missing or set(part.anchors) & anchors
    }


def checklist_links(application: Application) -> dict[str, str]:
    """Where each checklist anchor leads: into the part that holds it, or the overview."""
    links = {}
    for part in parts_of(application):
        for anchor in part.anchors:
            links.setdefault(
                anchor,
                url_for(
                    "applications.show",
                    application_id=application.id,
                    part=part.name,
                    _anchor=anchor if anchor != "project" else None,
                ),
            )
    return links
