"""The declarative layer over python-statemachine that every lifecycle uses.

A machine declares its states and transitions with python-statemachine, and for each
transition a ``Rule``: who may fire it (roles, plus an object rule such as "a member of
the applying association"), whether the system may fire it, the guards (each returns
the sentence that tells the user why it refuses, or ``None``), whether a comment is
required, which data it needs, and the effect that applies the data. The service layer
(``grants.services.workflow.fire``) is the only caller that changes state; pages, the
API and the diagrams read the same declarations, so no rule is written twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, ClassVar, Protocol

from statemachine import State, StateMachine

from workflows.errors import GuardFailed, InvalidInput, NotPermitted, TransitionNotAllowed
from workflows.sentences import (
    Names,
    RoleName,
    Sentence,
    Sentences,
    StateName,
    TransitionName,
    _l,
)

SYSTEM = "system"


class Actor(Protocol):
    """A person firing a transition; ``None`` in a Context means the system."""

    id: int

    @property
    def role_names(self) -> set[str]: ...


@dataclass
class Context:
    """What guards and effects may read: who, when, the comment and the data given."""

    actor: Actor | None
    now: datetime
    comment: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    #: Shared by a batch of evaluations (one page) so aggregates are computed once.
    cache: dict[Any, Any] = field(default_factory=dict)
    #: Listing what a person may do: the comment and data are asked on the form itself,
    #: so their absence does not disable the button.
    preview: bool = False

    @property
    def is_system(self) -> bool:
        return self.actor is None

    @property
    def roles(self) -> frozenset[str]:
        """The actor's roles, read once for every record and transition of a page."""
        return self.cached(("roles",), lambda: frozenset(self.actor.role_names))

    def cached(self, key: Any, compute: Callable[[], Any]) -> Any:
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]


GuardFn = Callable[[Any, Context], "Sentence | None"]
ObjectRule = Callable[[Any, Actor], bool]


def reading(*paths: str) -> Callable[[GuardFn], GuardFn]:
    """Declares what of the record a guard reads besides its own columns: relationships,
    dotted for what hangs from them ("call.document_types"). A page of records loads
    each, in one query, for the records whose guards will run for the person asking."""

    def declare(guard: GuardFn) -> GuardFn:
        guard.reads = paths  # type: ignore[attr-defined]
        return guard

    return declare


def reads_of(guard: Any) -> tuple[str, ...]:
    return getattr(guard, "reads", ())


@dataclass(frozen=True)
class Rule:
    """Who may fire one transition, and what must hold first."""

    roles: frozenset[str]
    system: bool = False
    who: ObjectRule | None = None
    who_fails: Sentence = _l("You are not allowed to do this for this record.")
    #: Segregation of duties: who must not do this (the requester never approves). A
    #: failure refuses the person (403) with its sentence, like ``who``.
    duties: tuple[GuardFn, ...] = ()
    guards: tuple[GuardFn, ...] = ()
    comment_required: bool = False
    #: What the comment is called: "comment", "reason" or "feedback" (``COMMENT_REQUIRED``).
    comment_label: str = "comment"
    requires: tuple[str, ...] = ()
    #: Data it reads when given (a payment's amount, bank details already on file).
    #: Nothing else may be sent with it.
    accepts: tuple[str, ...] = ()
    effect: Callable[[Any, Context], None] | None = None
    summary: Sentence | None = None
    #: A transition that is one part of a larger record (an award is one outcome of the
    #: committee's decision): fired only by the service that keeps that record, which
    #: gives its id as this data key. Anyone else is told ``recorded_where``.
    recorded_with: str = ""
    recorded_where: Sentence | None = None
    #: How a page offers it (``TONES``): the way forward first, what ends or refuses the
    #: record last, asked to be confirmed.
    tone: str = "neutral"

    def __post_init__(self) -> None:
        if self.tone not in TONES:
            raise TypeError(f"Unknown tone {self.tone!r}; known: {', '.join(TONES)}")


#: The tones of transitions, in the order a page lists them.
TONES = ("primary", "neutral", "destructive")
PRIMARY, DESTRUCTIVE = "primary", "destructive"


def rule(*roles: str, **options: Any) -> Rule:
    return Rule(roles=frozenset(roles), **options)


@dataclass(frozen=True)
class Option:
    """One transition as seen by one person now: can they fire it, and if not, why."""

    name: str
    allowed: bool
    reasons: tuple[Sentence, ...] = ()
    status: int = 200
    comment_required: bool = False
    requires: tuple[str, ...] = ()
    accepts: tuple[str, ...] = ()
    tone: str = "neutral"


class Lifecycle(StateMachine):
    """Base of every lifecycle machine; subclasses set ``entity`` and ``rules``."""

    entity: ClassVar[str] = ""
    title: ClassVar[str] = ""
    rules: ClassVar[dict[str, Rule]] = {}
    #: What comes next once a record is in a state (whoever brought it there).
    next_steps: ClassVar[dict[str, Sentence]] = {}
    #: The whole message after a transition that reached a state, where "done" and the
    #: state's next step do not say enough; it may name ``action``, ``state`` and the
    #: values of ``result_values``.
    results: ClassVar[dict[tuple[str, str], Sentence]] = {}

    # -- reading the declaration ---------------------------------------------------
    @classmethod
    def state_values(cls) -> tuple[str, ...]:
        return tuple(state.value for state in cls.states)

    @classmethod
    def initial_value(cls) -> str:
        return next(state.value for state in cls.states if state.initial)

    @classmethod
    def events_from(cls, state_value: str) -> list[str]:
        return list(cls._events_from(state_value))

    @classmethod
    @cache
    def _events_from(cls, state_value: str) -> tuple[str, ...]:
        """Read from the declaration once per state: every option of every record asks."""
        state = cls.states_map[state_value]
        names: list[str] = []
        for transition in state.transitions:
            for event in transition.events:
                if event.id not in names:
                    names.append(event.id)
        return tuple(names)

    @classmethod
    @cache
    def offered_from(cls, state_value: str) -> tuple[str, ...]:
        """The transitions from a state in the order a page lists them: by ``TONES``, the
        machine's order within a tone."""
        events = cls._events_from(state_value)
        return tuple(sorted(events, key=lambda name: TONES.index(cls.rules[name].tone)))

    @classmethod
    @cache
    def reads_of_guards(cls) -> frozenset[str]:
        """What any guard of the machine reads (``reading``)."""
        paths: set[str] = set()
        for declared in cls.rules.values():
            for check in (declared.who, *declared.duties, *declared.guards):
                paths.update(reads_of(check))
        return frozenset(paths)

    @classmethod
    def reads_from(cls, state_value: str, ctx: Context) -> frozenset[str]:
        """What the guards that will run for ``ctx``'s actor on a record in this state
        read (``reading``): those of the transitions the actor's roles may fire, and not
        those stopped before their guards (a decision recorded elsewhere)."""

        def compute() -> frozenset[str]:
            paths: set[str] = set()
            for name in cls._events_from(state_value):
                declared = cls.rules[name]
                if ctx.actor is None and not declared.system:
                    continue
                if ctx.actor is not None and not declared.roles & ctx.roles:
                    continue
                if declared.recorded_with and ctx.data.get(declared.recorded_with) is None:
                    continue
                for check in (declared.who, *declared.duties, *declared.guards):
                    paths.update(reads_of(check))
            return frozenset(paths)

        return ctx.cached(("reads", cls.entity, state_value), compute)

    @classmethod
    def edges(cls) -> list[tuple[str, str, str]]:
        """(source, event, target) for every declared transition."""
        result = []
        for state in cls.states:
            for transition in state.transitions:
                target = transition.target.value if transition.target else state.value
                for event in transition.events:
                    edge = (state.value, event.id, target)
                    if edge not in result:
                        result.append(edge)
        return result

    @classmethod
    def event_names(cls) -> list[str]:
        return [event.id for event in cls.events]

    @classmethod
    def check_declaration(cls) -> None:
        """Every event has a rule and every rule an event: a typo fails at import."""
        events, ruled = set(cls.event_names()), set(cls.rules)
        if events != ruled:
            raise TypeError(
                f"{cls.__name__}: transitions without rules {sorted(events - ruled)}, "
                f"rules without transitions {sorted(ruled - events)}"
            )

    # -- evaluating one transition -------------------------------------------------
    @classmethod
    def permission_problem(cls, name: str, entity: Any, ctx: Context) -> Sentence | None:
        declared = cls.rules[name]
        if ctx.actor is None:
            return None if declared.system else _l("Only a person can do this.")
        if not declared.roles & ctx.roles:
            return declared.who_fails if declared.who else roles_sentence(declared.roles)
        if declared.who is not None and not declared.who(entity, ctx.actor):
            return declared.who_fails
        for duty in declared.duties:
            reason = duty(entity, ctx)
            if reason:
                return reason
        return None

    @classmethod
    def guard_problems(cls, name: str, entity: Any, ctx: Context) -> list[Sentence]:
        declared = cls.rules[name]
        reasons: list[Sentence] = []
        if declared.comment_required and not ctx.preview and not (ctx.comment or "").strip():
            reasons.append(COMMENT_REQUIRED[declared.comment_label])
        for key in () if ctx.preview else declared.requires:
            value = ctx.data.get(key)
            if value is None or value is False or (isinstance(value, str) and not value.strip()):
                reasons.append(required_sentence(key))
        for guard in declared.guards:
            problem = guard(entity, ctx)
            if problem:
                reasons.append(problem)
        return reasons

    @classmethod
    def option(cls, name: str, entity: Any, ctx: Context, state_value: str) -> Option:
        declared = cls.rules[name]
        common = dict(
            comment_required=declared.comment_required,
            requires=declared.requires,
            accepts=declared.accepts,
            tone=declared.tone,
        )
        # Who first: a person who may never do this learns nothing about the record's state.
        problem = cls.permission_problem(name, entity, ctx)
        if problem:
            return Option(name, False, (problem,), 403, **common)
        if name not in cls._events_from(state_value):
            return Option(name, False, (cls.not_from_sentence(name, state_value),), 409, **common)
        if declared.recorded_with and ctx.data.get(declared.recorded_with) is None:
            return Option(name, False, (declared.recorded_where,), 409, **common)
        reasons = cls.guard_problems(name, entity, ctx)
        if reasons:
            return Option(name, False, tuple(reasons), 422, **common)
        return Option(name, True, (), 200, **common)

    @classmethod
    def result_values(cls, entity: Any) -> dict[str, Any]:
        """Values of the record that ``results`` sentences may name."""
        return {}

    @classmethod
    def result(cls, name: str, entity: Any) -> Sentence | Sentences:
        """What a person reads after firing ``name``: what happened, what comes next."""
        state = entity.state
        values = {
            "action": TransitionName(cls.entity, name),
            "state": StateName(cls.entity, state),
            **cls.result_values(entity),
        }
        if (name, state) in cls.results:
            return Sentence(cls.results[(name, state)].message, values)
        done = _l("Done: %(action)s. The state is now “%(state)s”.", **values)
        upcoming = cls.next_steps.get(state)
        return Sentences([done, upcoming]) if upcoming else done

    @classmethod
    def not_from_sentence(cls, name: str, state_value: str) -> Sentence:
        return _l(
            "“%(action)s” cannot be done now: the state is “%(state)s”.",
            action=TransitionName(cls.entity, name),
            state=StateName(cls.entity, state_value),
        )

    @classmethod
    def check(cls, name: str, entity: Any, ctx: Context, state_value: str) -> None:
        """Raise the error that says why ``name`` cannot be fired now, if it cannot."""
        if name not in cls.rules:
            raise InvalidInput(
                _l(
                    "Unknown transition %(name)s; known: %(known)s.",
                    name=repr(name),
                    known=", ".join(cls.event_names()),
                ),
                {"name": [_l("Unknown transition %(name)s.", name=repr(name))]},
            )
        result = cls.option(name, entity, ctx, state_value)
        if result.status == 409:
            raise TransitionNotAllowed(result.reasons[0])
        if result.status == 403:
            raise NotPermitted(result.reasons[0])
        if result.status == 422:
            raise GuardFailed(list(result.reasons))


#: The sentence for a missing comment, by ``Rule.comment_label``.
COMMENT_REQUIRED = {
    "comment": _l("A comment is required."),
    "reason": _l("A reason is required."),
    "feedback": _l("Feedback is required."),
}
#: The sentence for a missing piece of a transition's data (``Rule.requires``).
DATA_REQUIRED = {
    "confirmed": _l("Tick the box to confirm: this cannot be undone."),
    "amount": _l("Amount is required."),
    "closes_at": _l("The new deadline is required."),
    "payment_date": _l("Payment date is required."),
    "bank_reference": _l("Bank reference is required."),
    "letter_read": _l("Confirm that you read the award letter."),
}


def required_sentence(key: str) -> Sentence:
    """What a person reads when a transition's data ``key`` is missing."""
    if key in DATA_REQUIRED:
        return DATA_REQUIRED[key]
    return _l("%(name)s is required.", name=key.replace("_", " ").capitalize())


#: Who may do something, when a single role may.
ONLY_ROLE = {
    "applicant": _l("Only a member of the association can do this."),
    "evaluator": _l("Only an evaluator can do this."),
    "programme_officer": _l("Only a programme officer can do this."),
    "finance_officer": _l("Only a finance officer can do this."),
    "admin": _l("Only an admin can do this."),
}


def roles_sentence(roles: Iterable[str]) -> Sentence:
    names = sorted(roles)
    if len(names) == 1 and names[0] in ONLY_ROLE:
        return ONLY_ROLE[names[0]]
    return _l("Only these roles can do this: %(roles)s.", roles=Names(RoleName(n) for n in names))


def state_check(machine: type[Lifecycle]) -> str:
    """SQL for a CHECK constraint allowing only the machine's states."""
    values = ", ".join(f"'{value}'" for value in machine.state_values())
    return f"state IN ({values})"


__all__ = [
    "SYSTEM",
    "Actor",
    "Context",
    "Lifecycle",
    "DESTRUCTIVE",
    "PRIMARY",
    "TONES",
    "Option",
    "Rule",
    "State",
    "reading",
    "rule",
    "state_check",
]
