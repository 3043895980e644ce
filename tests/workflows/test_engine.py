"""The engine under load: concurrent firing, append-only history, cheap option lists,
and random sequences of transitions that never leave the declared states."""

from __future__ import annotations

import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select, text
from sqlalchemy.exc import DBAPIError

from grants.extensions import db
from grants.models import Application, HistoryEntry
from grants.roles import ROLE_NAMES
from grants.services.workflow import allowed_for_many, fire, history_of
from tests.fixtures.programme import NOW, make_application, make_call
from tests.workflows.cases import CASES
from workflows import MACHINES
from workflows.errors import Conflict, DomainError


def _replay(record) -> str:
    """Walk the history from the initial state; each step must be a declared edge."""
    machine = type(record).lifecycle
    edges = set(machine.edges())
    state = machine.initial_value()
    for entry in history_of(record):
        assert entry.from_state == state
        assert (entry.from_state, entry.transition, entry.to_state) in edges
        state = entry.to_state
    return state


@pytest.mark.parametrize("entity", ["application", "review", "award", "tranche", "report", "call"])
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_sequences_stay_declared_and_replay(world, entity, data):
    machine, case = MACHINES[entity], CASES[entity]
    record = case.build(world, machine.initial_value(), "")
    actors = [None, *[world.person(role) for role in ROLE_NAMES], world.outsider, world.finance_b]
    steps = data.draw(
        st.lists(
            st.tuples(st.sampled_from(machine.event_names()), st.sampled_from(range(len(actors)))),
            max_size=12,
        )
    )
    for name, who in steps:
        try:
            fire(
                record,
                name,
                actors[who],
                comment="Random step.",
                now=NOW,
                **case.data(name, record),
            )
        except DomainError:
            pass
        assert record.state in machine.state_values()
    db.session.flush()
    db.session.expire(record)
    assert record.state in machine.state_values()
    assert _replay(record) == record.state


def test_history_refuses_update_and_delete(world):
    record = CASES["report"].build(world, "submitted", "accept")
    fire(record, "accept", world.officer, now=NOW)
    entry = db.session.scalars(select(HistoryEntry)).one()
    db.session.commit()  # a savepoint: the rows exist for the statements below
    for statement in ("UPDATE history SET comment = 'rewritten'", "DELETE FROM history"):
        with pytest.raises(DBAPIError, match="append-only"):
            with db.session.begin_nested():
                db.session.execute(text(statement))
    db.session.expire_all()
    assert db.session.get(HistoryEntry, entry.id).comment == ""


def _count_queries(callable_):
    statements = []
    engine = db.session.get_bind()

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        callable_()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)


def test_options_for_a_page_cost_the_same_queries_for_10_or_50_records(world):
    def page_cost(count: int) -> int:
        call = make_call(world)
        for _ in range(count):
            make_application(world, call)
        db.session.expire_all()

        def load_and_evaluate():
            page = db.session.scalars(
                select(Application).where(Application.call_id == call.id).limit(50)
            ).all()
            options = allowed_for_many(page, world.applicant)
            assert len(options) == count
            assert all(o.allowed for opts in options.values() for o in opts if o.name == "submit")

        return _count_queries(load_and_evaluate)

    assert page_cost(10) == page_cost(50)


@pytest.mark.usefixtures("committed")
def test_two_people_firing_at_once_one_wins_the_other_gets_409(app):
    """Two officers act on one submitted report at the same moment, from two threads."""
    from grants.models import Report, User
    from grants.services.accounts import ensure_roles
    from tests.fixtures.programme import make_world

    with app.app_context():
        world = make_world()
        world.admin.roles.append(ensure_roles()["programme_officer"])
        report = CASES["report"].build(world, "submitted", "accept")
        db.session.commit()
        report_id, first_id, second_id = report.id, world.officer.id, world.admin.id
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def attempt(transition: str, actor_id: int, comment: str | None):
        with app.app_context():
            record = db.session.get(Report, report_id)
            actor = db.session.get(User, actor_id)
            barrier.wait(timeout=10)
            try:
                fire(record, transition, actor, comment=comment)
                db.session.commit()
                outcomes[transition] = "won"
            except Conflict as error:
                db.session.rollback()
                outcomes[transition] = error

    threads = [
        threading.Thread(target=attempt, args=("accept", first_id, None)),
        threading.Thread(target=attempt, args=("request_changes", second_id, "Fix the budget")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert list(outcomes.values()).count("won") == 1, outcomes
    [loser] = [value for value in outcomes.values() if value != "won"]
    assert isinstance(loser, Conflict) and loser.status == 409
    with app.app_context():
        record = db.session.get(Report, report_id)
        [entry] = db.session.scalars(select(HistoryEntry)).all()
        assert entry.to_state == record.state and record.version == 2


def test_a_tranche_at_the_threshold_needs_two_different_approvers(world):
    """Four eyes: the first approval leaves the tranche requested, the second approves."""
    from decimal import Decimal

    from tests.fixtures.programme import make_tranche

    tranche = make_tranche(world, state="requested", amount=Decimal("10000"))
    fire(tranche, "approve", world.finance)
    assert tranche.state == "requested" and tranche.current_approver_ids == {world.finance.id}
    fire(tranche, "approve", world.finance_b)
    assert tranche.state == "approved"


def test_a_tranche_below_the_threshold_needs_one_approver(world):
    from decimal import Decimal

    from tests.fixtures.programme import make_tranche

    tranche = make_tranche(world, state="requested", amount=Decimal("9999.99"))
    fire(tranche, "approve", world.finance)
    assert tranche.state == "approved"
