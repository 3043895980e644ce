"""Stateful runs over the API: schemathesis follows the document's links between
operations (``grants.api.openapi``: a created or listed record's ``id`` to the operations
on ``/{records}/{record_id}``, a record to those it points at) and chains them, so the
fuzzing reaches real records and their transitions, updates and documents instead of
answering 404; each scenario starts from the same records. No step may be a server error
or break the documented schema; the number of scenarios and their length are bounded."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import settings

from grants.extensions import db
from tests.api.test_contract import BOUNDED, CHECKS, seeded_api

SCENARIOS = 30
STEPS = 6
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "api"


@pytest.mark.parametrize("role", ["officer", "applicant"])
def test_chained_operations_never_answer_a_server_error(app, world, role):
    headers, schema = seeded_api(world, role, app)
    workflow = schema.as_state_machine()
    steps: list[str] = []

    class Run(workflow):
        def setup(self):
            """Every scenario starts from the same programme: what one changed is rolled
            back before the next, and the rate limits (sign-up and tokens count requests
            in memory) start afresh, so that a scenario replayed meets the same answers."""
            self.scenario = db.session.begin_nested()
            app.extensions["rate_limiter"].reset()

        def teardown(self):
            if self.scenario.is_active:
                self.scenario.rollback()
            db.session.expire_all()

        def before_call(self, case):
            db.session.flush()
            # The person's token, whatever header a case was generated with.
            case.headers = {**(case.headers or {}), **headers}

        def after_call(self, response, case):
            db.session.expire_all()
            steps.append(f"{case.method} {case.formatted_path} → {response.status_code}")

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS)

    Run.run(settings=settings(max_examples=SCENARIOS, stateful_step_count=STEPS, **BOUNDED))
    # The links were followed: operations on a record reached real ones.
    on_records = [step for step in steps if re.search(r" /api/v1/\w+/\d+", step)]
    reached = [step for step in on_records if step.endswith(("200", "201", "204"))]
    _write_figures(role, steps)
    assert len(steps) >= SCENARIOS and reached, steps


def _write_figures(role: str, steps: list[str]) -> None:
    """``test-artifacts/api/stateful-<role>.txt``: how many steps answered what, per
    operation, so a run's reach can be read after it."""
    counted = Counter(re.sub(r"/-?\d+", "/{id}", step) for step in steps)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    lines = [f"{len(steps)} steps, {sum(1 for s in steps if s.endswith(' 500'))} server errors"]
    lines += [f"{count:5d}  {step}" for step, count in counted.most_common()]
    (ARTIFACTS / f"stateful-{role}.txt").write_text("\n".join(lines) + "\n")
