"""The way forward comes first and looks it; what ends or refuses a record comes last,
in red, behind a confirmation step that works without JavaScript. The machines declare
it once (``Rule.tone``) for every page."""

from __future__ import annotations

import re

import pytest

from grants.extensions import db
from grants.services.workflow import allowed_transitions
from tests.applications.test_applications import _start
from tests.applications.test_applications import call as call  # noqa: F401 (fixture)
from tests.fixtures.programme import NOW
from workflows import MACHINES
from workflows.base import TONES

#: Transitions that end, refuse or stop a record for good or for now.
DESTRUCTIVE = {
    ("application", "withdraw"),
    ("application", "reject"),
    ("application", "mark_ineligible"),
    ("application", "decline_concept"),
    ("call", "cancel"),
    ("award", "decline"),
    ("award", "suspend"),
    ("award", "terminate"),
    ("tranche", "fail"),
    ("tranche", "cancel"),
    ("association", "reject"),
    ("association", "suspend"),
    ("bank_change", "refuse"),
    ("bank_change", "cancel"),
}


def test_destructive_transitions_are_declared_so_and_never_primary():
    declared = {
        (machine.entity, name)
        for machine in MACHINES.values()
        for name, rule in machine.rules.items()
        if rule.tone == "destructive"
    }
    assert declared == DESTRUCTIVE


@pytest.mark.parametrize("machine", list(MACHINES.values()), ids=lambda machine: machine.entity)
def test_from_every_state_the_way_forward_comes_first_and_destructive_last(machine):
    for state in machine.state_values():
        tones = [machine.rules[name].tone for name in machine.events_from(state)]
        ordered = sorted(tones, key=TONES.index)
        if "primary" in tones:
            assert ordered[0] == "primary", (machine.entity, state)
        if len(set(tones)) > 1:
            assert ordered[-1] != "primary", (machine.entity, state)


def _buttons(html: str) -> list[tuple[str, str]]:
    """(transition, how it is offered) in the order of the page's actions panel."""
    panel = html[html.index('class="panel actions"') :]
    panel = panel[: panel.index("</section>")]
    found = []
    for match in re.finditer(
        r'<details class="action destructive">|action="/transitions/application/\d+/(\w+)"'
        r'.*?<button type="submit"( class="(\w+)")?',
        panel,
        flags=re.S,
    ):
        if match.group(0).startswith("<details"):
            found.append(("details", "confirm"))
        elif found and found[-1] == ("details", "confirm"):
            found[-1] = (match.group(1), f"confirm, {match.group(3)}")
        else:
            found.append((match.group(1), match.group(3) or "primary"))
    return found


def test_an_officer_screening_sees_mark_eligible_first_and_ineligible_to_confirm(
    world, login, call
):
    client = login(world.applicant)
    application = _start(client, call)
    application.state, application.submitted_at = "submitted", NOW
    db.session.flush()
    officer = world.officer
    assert [o.name for o in allowed_transitions(application, officer, only_own_roles=True)][
        0
    ] == "mark_eligible"
    html = login(officer).get(f"/applications/{application.id}").get_data(as_text=True)
    assert _buttons(html) == [
        ("mark_eligible", "primary"),
        ("return_to_applicant", "secondary"),
        ("mark_ineligible", "confirm, danger"),
    ]
    assert "Confirm: Mark ineligible" in html


def test_on_a_new_draft_the_submission_comes_before_a_withdrawal_to_confirm(world, login, call):
    client = login(world.applicant)
    application = _start(client, call)
    html = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert html.index('class="submit-form"') < html.index('class="panel actions"')
    assert _buttons(html) == [("withdraw", "confirm, danger")]
    withdraw = html[html.index('<details class="action destructive">') :]
    withdraw = withdraw[: withdraw.index("</details>")]
    assert 'name="confirmed"' in withdraw and "<summary>" in withdraw
    assert 'class="danger"' in withdraw
