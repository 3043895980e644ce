"""The lifecycles as data: each machine's states and transitions, who fires them and what
they need. The lifecycle pages draw them and the API lists them, from this one reading of
``workflows``; those who run calls and evaluations read them."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from grants.labels import COMMENT_LABELS, state_label, transition_label
from grants.models.accounts import User
from grants.policy import PROGRAMME
from grants.services.errors import Forbidden, NotFound
from workflows import MACHINES, Lifecycle
from workflows.base import required_sentence, roles_sentence
from workflows.diagram import who

#: Who reads the lifecycles: the pages' ``role_required`` and the API ask the same.
READERS = PROGRAMME


@dataclass(frozen=True)
class Transition:
    """One edge of a machine, as the table of its page shows it."""

    name: str
    label: str
    source: str
    source_label: str
    target: str
    target_label: str
    roles: list[str]
    system: bool
    who: str
    guards: list[str]
    comment_required: bool
    comment: str
    requires: list[str]
    requires_sentences: list[str]
    accepts: list[str]
    summary: str


def check_may_read(person: User) -> None:
    if not READERS & person.role_names:
        raise Forbidden(str(roles_sentence(READERS)))


def machines(person: User) -> list[type[Lifecycle]]:
    check_may_read(person)
    return list(MACHINES.values())


def machine(person: User, name: str) -> type[Lifecycle]:
    check_may_read(person)
    found = MACHINES.get(name)
    if found is None:
        raise NotFound(_("No such lifecycle."))
    return found


def _guard_text(guard) -> str:
    doc = (guard.__doc__ or "").strip().splitlines()
    return doc[0] if doc else guard.__name__.replace("_", " ").capitalize()


def transitions(lifecycle: type[Lifecycle]) -> list[Transition]:
    """Every declared edge, in the machine's order, in the reader's language."""
    rows = []
    for source, event, target in lifecycle.edges():
        declared = lifecycle.rules[event]
        entity = lifecycle.entity
        rows.append(
            Transition(
                name=event,
                label=transition_label(entity, event),
                source=source,
                source_label=state_label(entity, source),
                target=target,
                target_label=state_label(entity, target),
                roles=sorted(declared.roles),
                system=declared.system,
                who=who(lifecycle, event),
                guards=[_guard_text(guard) for guard in declared.guards],
                comment_required=declared.comment_required,
                comment=str(COMMENT_LABELS[declared.comment_label])
                if declared.comment_required
                else "",
                requires=list(declared.requires),
                requires_sentences=[str(required_sentence(key)) for key in declared.requires],
                accepts=list(declared.accepts),
                summary=str(declared.summary) if declared.summary else "",
            )
        )
    return rows


def states(lifecycle: type[Lifecycle]) -> list[dict]:
    return [
        {
            "name": state.value,
            "label": state_label(lifecycle.entity, state.value),
            "initial": bool(state.initial),
            "final": bool(state.final),
        }
        for state in lifecycle.states
    ]
