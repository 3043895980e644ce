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
from sqlalchemy.orm import lazyload, selectinload
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from grants import text_limits as limits
from grants.extensions import db
from grants.models.accounts import User
from grants.models.history import HistoryEntry
from grants.orm import utcnow
from grants.services import audit
from grants.services.errors import Conflict, InvalidInput
from workflows.base import SYSTEM, TONES, Context, Lifecycle, Option

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
    computed once per page, not once per record.
    """
    machine = machine_for(entity)
    ctx = ctx or context(actor)
    ctx.preview = True
    options = []
    for name in machine.events_from(entity.state):
        declared = machine.rules[name]
        if only_own_roles and actor is not None and not declared.roles & actor.role_names:
            continue
        options.append(machine.option(name, entity, ctx, entity.state))
    # The way forward first, what ends or refuses the record last (a stable sort: the
    # machine's order within a tone).
    return sorted(options, key=lambda option: TONES.index(option.tone))


def allowed_for_many(entities: Iterable[Any], actor: User | None) -> dict[int, list[Option]]:
    entities = list(entities)
    _load_what_guards_read(entities)
    ctx = context(actor)
    return {entity.id: allowed_transitions(entity, actor, ctx) for entity in entities}


def _load_what_guards_read(entities: list[Any]) -> None:
    """One query per collection the machine's guards read, for the whole page. Guards
    read those rows' own columns (a review's state, a line's amount), never what hangs
    from them: their eager collections (a review's scores) are left unloaded."""
    if not entities or not machine_for(entities[0]).reads:
        return
    reads = machine_for(entities[0]).reads
    if all(not (set(reads) & inspect(entity).unloaded) for entity in entities):
        return  # the caller loaded them with the entities
    model = type(entities[0])
    db.session.scalars(
        select(model)
        .where(model.id.in_([entity.id for entity in entities]))
        .options(
            lazyload("*"),  # the entities are loaded already: only the collections
            *(
                selectinload(getattr(model, name)).lazyload("*")
                for name in machine_for(entities[0]).reads
            ),
        )
    ).all()


def history_of(entity: Any) -> list[HistoryEntry]:
    machine = machine_for(entity)
    return list(
        db.session.scalars(
            select(HistoryEntry)
            .where(HistoryEntry.entity_type == machine.entity, HistoryEntry.entity_id == entity.id)
            .order_by(HistoryEntry.id)
        )
    )
