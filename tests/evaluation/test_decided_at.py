"""An application keeps the moment of its first decision, which the programme dashboard
reads for the time from submission to decision."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine

from grants.services import workflow
from tests.fixtures.programme import NOW, make_application, make_call
from workflows.errors import GuardFailed


def test_the_first_decision_is_kept_when_a_waiting_list_application_is_awarded(world):
    call = make_call(world)
    application = make_application(world, call, state="reviewed")
    application.amount_requested = Decimal("20000")
    assert application.decided_at is None
    with time_machine.travel(NOW, tick=False):
        workflow.fire(application, "waitlist", world.officer)
    with time_machine.travel(NOW + timedelta(days=9), tick=False):
        workflow.fire(application, "award", world.officer, amount=Decimal("20000"))
    assert application.state == "awarded"
    assert application.decided_at == NOW


def test_a_refused_decision_leaves_no_moment(world):
    call = make_call(world)
    application = make_application(world, call, state="reviewed")
    with pytest.raises(GuardFailed, match="Feedback is required"):
        workflow.fire(application, "reject", world.officer)
    assert application.state == "reviewed" and application.decided_at is None
