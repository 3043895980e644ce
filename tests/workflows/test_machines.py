"""Generated from the declarations: for every machine and transition, every allowed role
fires it from each source state; every other role gets 403; every other state 409; every
guard failure gives its sentence and leaves the record and its history unchanged."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from grants.extensions import db
from grants.labels import state_label
from grants.models import HistoryEntry
from grants.roles import ROLE_NAMES
from grants.services.workflow import context, fire
from tests.fixtures.programme import NOW
from tests.workflows.cases import CASES
from workflows import MACHINES
from workflows.base import COMMENT_REQUIRED, required_sentence
from workflows.errors import GuardFailed, NotPermitted, TransitionNotAllowed

COMMENT = "Recorded by the test."


def _pairs():
    for entity, machine in MACHINES.items():
        for name in machine.event_names():
            sources = sorted({source for source, event, _ in machine.edges() if event == name})
            for source in sources:
                yield pytest.param(entity, name, source, id=f"{entity}.{name}.from-{source}")


def _guards():
    for entity, machine in MACHINES.items():
        for name, declared in machine.rules.items():
            source = next(s for s, event, _ in machine.edges() if event == name)
            for guard in declared.guards:
                yield pytest.param(
                    entity, name, source, guard.__name__, id=f"{entity}.{name}.{guard.__name__}"
                )


def _duties():
    for entity, machine in MACHINES.items():
        for name, declared in machine.rules.items():
            source = next(s for s, event, _ in machine.edges() if event == name)
            for duty in declared.duties:
                yield pytest.param(
                    entity, name, source, duty.__name__, id=f"{entity}.{name}.{duty.__name__}"
                )


def _not_sources():
    for entity, machine in MACHINES.items():
        for name in machine.event_names():
            sources = {source for source, event, _ in machine.edges() if event == name}
            for state in machine.state_values():
                if state not in sources:
                    yield pytest.param(entity, name, state, id=f"{entity}.{name}.in-{state}")


def _history_count(entity) -> int:
    machine = type(entity).lifecycle
    return db.session.scalar(
        select(func.count(HistoryEntry.id)).where(
            HistoryEntry.entity_type == machine.entity, HistoryEntry.entity_id == entity.id
        )
    )


def _snapshot(entity):
    db.session.flush()
    return entity.state, entity.version, _history_count(entity)


@pytest.mark.parametrize(("entity", "name", "source"), list(_pairs()))
def test_allowed_roles_fire_from_each_source(world, entity, name, source):
    case, machine = CASES[entity], MACHINES[entity]
    declared = machine.rules[name]
    targets = {target for s, event, target in machine.edges() if s == source and event == name}
    assert declared.roles, f"{entity}.{name} declares no role"
    for role in sorted(declared.roles):
        record = case.build(world, source, name)
        version = record.version
        fire(
            record,
            name,
            case.actor(world, role, name),
            comment=COMMENT,
            now=NOW,
            **case.data(name, record),
        )
        assert record.state in targets
        assert record.version == version + 1
        [row] = db.session.scalars(
            select(HistoryEntry).where(
                HistoryEntry.entity_type == machine.entity, HistoryEntry.entity_id == record.id
            )
        )
        assert (row.transition, row.from_state, row.to_state) == (name, source, record.state)
        assert row.actor_id == case.actor(world, role, name).id and row.comment == COMMENT


@pytest.mark.parametrize(("entity", "name", "source"), list(_pairs()))
def test_other_roles_are_refused(world, entity, name, source):
    case, machine = CASES[entity], MACHINES[entity]
    declared = machine.rules[name]
    for role in ROLE_NAMES:
        if role in declared.roles:
            continue
        record = case.build(world, source, name)
        before = _snapshot(record)
        with pytest.raises(NotPermitted):
            fire(
                record,
                name,
                world.person(role),
                comment=COMMENT,
                now=NOW,
                **case.data(name, record),
            )
        assert _snapshot(record) == before
    outsider = case.outsider(world, name)
    if outsider is not None:
        record = case.build(world, source, name)
        before = _snapshot(record)
        with pytest.raises(NotPermitted) as refused:
            fire(record, name, outsider, comment=COMMENT, now=NOW, **case.data(name, record))
        assert refused.value.message == declared.who_fails
        assert _snapshot(record) == before
    if not declared.system:
        record = case.build(world, source, name)
        with pytest.raises(NotPermitted, match="Only a person"):
            fire(record, name, None, comment=COMMENT, now=NOW, **case.data(name, record))


@pytest.mark.parametrize(("entity", "name", "state"), list(_not_sources()))
def test_other_states_are_refused(world, entity, name, state):
    case, machine = CASES[entity], MACHINES[entity]
    role = sorted(machine.rules[name].roles)[0]
    record = case.build(world, state, name)
    before = _snapshot(record)
    with pytest.raises(TransitionNotAllowed) as refused:
        fire(
            record,
            name,
            case.actor(world, role, name),
            comment=COMMENT,
            now=NOW,
            **case.data(name, record),
        )
    assert state_label(entity, state) in refused.value.message
    assert _snapshot(record) == before


@pytest.mark.parametrize(("entity", "name", "source", "guard"), list(_guards()))
def test_each_guard_failure_says_why_and_changes_nothing(world, entity, name, source, guard):
    case, machine = CASES[entity], MACHINES[entity]
    declared = machine.rules[name]
    role = sorted(declared.roles)[0]
    actor = case.actor(world, role, name)
    record = case.build(world, source, name)
    extra = case.breakers[guard](record, world)
    db.session.flush()
    now = extra.pop("now", NOW)
    if extra.pop("system", False):
        actor = None
    data = {**case.data(name, record), **extra}
    guard_fn = next(g for g in declared.guards if g.__name__ == guard)
    expected = guard_fn(record, context(actor, COMMENT, now, data))
    assert expected, f"the breaker of {guard} did not break it"
    before = _snapshot(record)
    with pytest.raises(GuardFailed) as refused:
        fire(record, name, actor, comment=COMMENT, now=now, **data)
    assert expected in refused.value.reasons
    assert _snapshot(record) == before


@pytest.mark.parametrize(("entity", "name", "source", "duty"), list(_duties()))
def test_each_duty_is_kept_apart_with_a_403_and_changes_nothing(world, entity, name, source, duty):
    """Segregation of duties: the person is refused (403) with the rule's sentence."""
    case, machine = CASES[entity], MACHINES[entity]
    declared = machine.rules[name]
    actor = case.actor(world, sorted(declared.roles)[0], name)
    record = case.build(world, source, name)
    extra = case.breakers[duty](record, world)
    db.session.flush()
    data = {**case.data(name, record), **extra}
    duty_fn = next(d for d in declared.duties if d.__name__ == duty)
    expected = duty_fn(record, context(actor, COMMENT, NOW, data))
    assert expected, f"the breaker of {duty} did not break it"
    before = _snapshot(record)
    with pytest.raises(NotPermitted) as refused:
        fire(record, name, actor, comment=COMMENT, now=NOW, **data)
    assert refused.value.message == expected
    assert _snapshot(record) == before


@pytest.mark.parametrize(
    ("entity", "name"),
    [
        (e, n)
        for e, m in MACHINES.items()
        for n, r in m.rules.items()
        if r.comment_required or r.requires
    ],
)
def test_missing_comment_or_data_is_refused_with_every_reason(world, entity, name):
    case, machine = CASES[entity], MACHINES[entity]
    declared = machine.rules[name]
    source = next(s for s, event, _ in machine.edges() if event == name)
    record = case.build(world, source, name)
    before = _snapshot(record)
    actor = case.actor(world, sorted(declared.roles)[0], name)
    recorded = {declared.recorded_with: 1} if declared.recorded_with else {}
    with pytest.raises(GuardFailed) as refused:
        fire(record, name, actor, comment="  ", now=NOW, **recorded)
    reasons = refused.value.reasons
    if declared.comment_required:
        assert COMMENT_REQUIRED[declared.comment_label] in reasons
    for key in declared.requires:
        assert required_sentence(key) in reasons
    assert _snapshot(record) == before


def test_unknown_transition_is_a_clear_error(world):
    from workflows.errors import InvalidInput

    record = CASES["report"].build(world, "scheduled", "submit")
    with pytest.raises(InvalidInput, match="Unknown transition 'explode'"):
        fire(record, "explode", world.applicant)
