"""Firing transitions: the only way any lifecycle state changes.

``fire`` checks the person's roles and relation to the record, every guard, applies the
transition through the entity's machine, writes one history row, emits the domain event
and flushes. Concurrency is settled by the version column: of two people firing on the
same record at once, the second write matches no row and becomes a 409 with nothing of
theirs written (the request rolls back).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from blinker import Namespace
from flask import current_app
from sqlalchemy import inspect, select
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import flag_modified, set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from grants import text_limits as limits
from grants.extensions import db
from grants.models.accounts import User
from grants.models.history import HistoryEntry
from grants.orm import utcnow
from grants.services import audit
from grants.services.errors import Conflict, InvalidInput
from workflows.base import SYSTEM, Context, Lifecycle, Option

signals = Namespace()
#: Sent after every transition, inside the transaction: (sender=entity type, event=…).
transition_fired = signals.signal("transition-fired")

#: Settings the machines read (thresholds), taken from the app configuration.
MACHINE_SETTINGS = ("FOUR_EYES_THRESHOLD", "REVIEW_DAYS_ALLOWED")


@dataclass(frozen=True)
class DomainEvent:
    entity_type: str
    entity_id: int
    transition: str
    from_state: str
    to_state: str
    actor_id: int | None
    comment: str | None
    data: Mapping[str, Any]
    at: datetime
    #: Unique per event: the history row's id, or a random one for service events.
    key: str = ""


def machine_for(entity: Any) -> type[Lifecycle]:
    """Each lifecycle model names its machine in a ``lifecycle`` class attribute."""
    return type(entity).lifecycle


def _settings() -> dict[str, Any]:
    return {key: current_app.config[key] for key in MACHINE_SETTINGS if key in current_app.config}


def context(
    actor: User | None,
    comment: str | None = None,
    now: datetime | None = None,
    data: Mapping[str, Any] | None = None,
    cache: dict | None = None,
) -> Context:
    return Context(
        actor=actor,
        now=now or utcnow(),
        comment=comment,
        data=dict(data or {}),
        settings=_settings(),
        cache={} if cache is None else cache,
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


#: Lifecycles whose every transition is also an audit row (``<entity>.<transition>``),
#: with the state and the fields the transition's data sets, before and after.
AUDITED_LIFECYCLES = frozenset({"call"})


def fire(
    entity: Any,
    transition: str,
    actor: User | None,
    comment: str | None = None,
    now: datetime | None = None,
    **data: Any,
) -> DomainEvent:
    """Fire ``transition`` on ``entity`` as ``actor`` (None: the system).

    Raises TransitionNotAllowed (409), NotPermitted (403) or GuardFailed (422, with
    every reason); on any of them nothing is changed.
    """
    machine = machine_for(entity)
    ctx = context(actor, comment, now, data)
    before = entity.state
    machine.check(transition, entity, ctx, before)
    problem = limits.TRANSITION_COMMENT.problem(comment)
    if problem:
        raise InvalidInput(problem, {"comment": [problem]})
    declared = machine.rules[transition]
    audited = (
        audit.snapshot(entity, declared.requires) if machine.entity in AUDITED_LIFECYCLES else None
    )
    if declared.effect is not None:
        declared.effect(entity, ctx)
    machine(model=entity, state_field="state").send(transition, ctx=ctx)
    entry = HistoryEntry(
        entity_type=machine.entity,
        entity_id=entity.id,
        transition=transition,
        from_state=before,
        to_state=entity.state,
        actor_id=actor.id if actor else None,
        actor_label=actor.display_name if actor else SYSTEM,
        comment=(comment or "").strip(),
        data=_jsonable(data),
        created_at=ctx.now,
    )
    db.session.add(entry)
    if entity.state == before:
        # A self-transition (a first approval, a deadline extension) still changes the
        # record; make sure its version moves so a concurrent writer is caught.
        flag_modified(entity, "state")
    try:
        db.session.flush()
    except StaleDataError:
        raise Conflict(
            f"Someone changed this {machine.entity} meanwhile; reload it and try again."
        ) from None
    if audited is not None:
        changes = audit.changes_of(entity, audited)
        if entity.state != before:
            changes["state"] = [before, entity.state]
        audit.record(
            actor,
            f"{machine.entity}.{transition}",
            (machine.entity, entity.id),
            changes,
            note=(comment or "").strip(),
        )
    event = DomainEvent(
        machine.entity,
        entity.id,
        transition,
        before,
        entity.state,
        actor.id if actor else None,
        comment,
        data,
        ctx.now,
        key=f"history-{entry.id}",
    )
    transition_fired.send(machine.entity, event=event, record=entity)
    return event


def announce(
    entity: Any, name: str, actor: User | None = None, now: datetime | None = None
) -> None:
    """Publish a service event that is not a transition (an evaluator's assignment), so
    the same listeners (notifications) hear it."""
    machine = machine_for(entity)
    event = DomainEvent(
        machine.entity,
        entity.id,
        name,
        entity.state,
        entity.state,
        actor.id if actor else None,
        None,
        {},
        now or utcnow(),
        key=f"event-{uuid.uuid4().hex}",
    )
    transition_fired.send(machine.entity, event=event, record=entity)


def allowed_transitions(
    entity: Any, actor: User | None, ctx: Context | None = None, only_own_roles: bool = False
) -> list[Option]:
    """What ``actor`` can do now with ``entity``, with the reasons for what they cannot.

    Give one ``ctx`` to every call for a page of records: aggregates guards need are then
    computed once per page, not once per record. The way forward comes first, what ends
    or refuses the record last (``Lifecycle.offered_from``).
    """
    machine = machine_for(entity)
    ctx = ctx or context(actor)
    ctx.preview = True
    options = []
    for name in machine.offered_from(entity.state):
        if only_own_roles and actor is not None and not machine.rules[name].roles & ctx.roles:
            continue
        options.append(machine.option(name, entity, ctx, entity.state))
    return options


def allowed_for_many(entities: Iterable[Any], actor: User | None) -> dict[int, list[Option]]:
    """``allowed_transitions`` of a page of records of one kind, with one context: the
    person's roles read once, and what the guards that will run read loaded in one query
    per relationship for the whole page."""
    entities = list(entities)
    ctx = context(actor)
    ctx.preview = True
    if entities:
        machine = machine_for(entities[0])
        load_paths([(entity, machine.reads_from(entity.state, ctx)) for entity in entities])
    return {entity.id: allowed_transitions(entity, actor, ctx) for entity in entities}


def _load_what_guards_read(entities: list[Any]) -> None:
    """Load for a page of records of one kind what any of their machine's guards reads,
    whoever fires them (firing many transitions in one request)."""
    if entities:
        reads = machine_for(entities[0]).reads_of_guards()
        load_paths([(entity, reads) for entity in entities])


def load_paths(wanted: list[tuple[Any, Iterable[str]]]) -> None:
    """Load what each record (all of one kind) needs and has not loaded yet, given as
    ``reading``'s paths ("reviews", "call.document_types"): one query per relationship
    for every record that misses it. What hangs from the rows loaded stays unloaded."""
    by_first: dict[str, list[tuple[Any, str]]] = {}
    for record, paths in wanted:
        for path in paths:
            first, _, rest = path.partition(".")
            by_first.setdefault(first, []).append((record, rest))
    if not by_first:
        return
    for first, pairs in by_first.items():
        unloaded = {id(record): record for record, _ in pairs if first in inspect(record).unloaded}
        if unloaded:
            _load_relationship(list(unloaded.values()), first)
    deeper: list[tuple[Any, list[str]]] = []
    for first, pairs in by_first.items():
        for record, rest in pairs:
            if not rest:
                continue
            related = getattr(record, first)
            for item in related if isinstance(related, list) else [related]:
                if item is not None:
                    deeper.append((item, [rest]))
    if deeper:
        # Related records of one kind per step: group them by model.
        by_model: dict[type, list[tuple[Any, list[str]]]] = {}
        for item, paths in deeper:
            by_model.setdefault(type(item), []).append((item, paths))
        for group in by_model.values():
            load_paths(group)


def _load_relationship(records: list[Any], name: str) -> None:
    """One query for the relationship ``name`` of ``records`` (of one model; a
    relationship on one foreign key), set on each as if it had been loaded with it."""
    mapper = inspect(type(records[0]))
    relationship = mapper.relationships[name]
    [(local, remote)] = relationship.local_remote_pairs
    key = mapper.get_property_by_column(local).key
    target = relationship.mapper
    column = getattr(target.class_, target.get_property_by_column(remote).key)
    statement = (
        select(target.class_)
        .where(column.in_(sorted({getattr(record, key) for record in records} - {None})))
        .options(lazyload("*"))
    )
    if relationship.order_by:
        statement = statement.order_by(*relationship.order_by)
    found: dict[Any, list[Any]] = {}
    for item in db.session.scalars(statement):
        found.setdefault(getattr(item, column.key), []).append(item)
    for record in records:
        items = found.get(getattr(record, key), [])
        if relationship.uselist:
            set_committed_value(record, name, items)
        else:
            set_committed_value(record, name, items[0] if items else None)


def history_of(entity: Any) -> list[HistoryEntry]:
    machine = machine_for(entity)
    return list(
        db.session.scalars(
            select(HistoryEntry)
            .where(HistoryEntry.entity_type == machine.entity, HistoryEntry.entity_id == entity.id)
            .order_by(HistoryEntry.id)
        )
    )
