"""An application keeps the moment of its first decision, which the programme dashboard
reads for the time from submission to decision; decisions are made one way only, as the
committee's."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine

from grants.services import workflow
from grants.services.decisions import Outcome, record
from tests.fixtures.programme import NOW, make_application, make_call
from workflows.errors import GuardFailed, TransitionNotAllowed


def test_the_first_decision_is_kept_when_a_waiting_list_application_is_awarded(world):
    call = make_call(world)
    application = make_application(world, call, state="reviewed")
    application.amount_requested = Decimal("20000")
    assert application.decided_at is None
    with time_machine.travel(NOW, tick=False):
        record(world.officer, call, NOW.date(), "", "", [Outcome(application.id, "waitlist")])
    later = NOW + timedelta(days=9)
    with time_machine.travel(later, tick=False):
        award = Outcome(application.id, "award", Decimal("20000"))
        record(world.officer, call, later.date(), "", "", [award])
    assert application.state == "awarded"
    assert application.decided_at == NOW


def test_a_refused_decision_leaves_no_moment(world):
    call = make_call(world)
    application = make_application(world, call, state="reviewed")
    with pytest.raises(GuardFailed, match="Feedback is required"):
        workflow.fire(application, "reject", world.officer, decision=1)
    assert application.state == "reviewed" and application.decided_at is None


@pytest.mark.parametrize("name", ["award", "waitlist", "reject"])
def test_an_outcome_fired_outside_the_committees_decision_is_refused(world, name):
    call = make_call(world)
    application = make_application(world, call, state="reviewed")
    with pytest.raises(TransitionNotAllowed, match="recorded together as the committee's"):
        workflow.fire(application, name, world.officer, comment="Good.", amount="1000")
    assert application.state == "reviewed" and application.decided_at is None
    offered = {o.name: o for o in workflow.allowed_transitions(application, world.officer)}
    assert not offered[name].allowed and "from the call's ranking" in str(offered[name].reasons[0])


def test_the_application_page_says_once_where_outcomes_are_decided(world, login):
    from tests.clients import text_of

    application = make_application(world, make_call(world), state="reviewed")
    page = login(world.officer).get(f"/applications/{application.id}")
    html = page.get_data(as_text=True)
    assert text_of(page).count("recorded together as the committee") == 1
    for name in ("award", "waitlist", "reject"):
        assert f"/transitions/application/{application.id}/{name}" not in html
