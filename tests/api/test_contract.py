"""The API keeps its contract: schemathesis generates requests from the OpenAPI document
(with a token, on a seeded programme, a bounded number of examples per operation) and
no answer is a server error or breaks the documented schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from grants.extensions import db
from grants.services import disbursements
from grants.services.accounts import issue_token
from grants.services.evaluation import assign
from tests.fixtures.programme import NOW, make_application, make_award, make_call

EXAMPLES = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


#: Hypothesis settings of a bounded, repeatable run (no example database, no deadline).
BOUNDED = dict(
    deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)


def seeded_api(world, role: str, app):
    """A small programme, a token for ``role``'s person and the API's schema: the
    headers to send (identity: the in-process client does not inflate gzip) and the
    schema schemathesis generates from."""
    _seed(world)
    person = getattr(world, role)
    headers = {
        "Authorization": f"Bearer {issue_token(person, person, 'fuzzing', 30)}",
        "Accept-Encoding": "identity",
    }
    db.session.flush()
    return headers, schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def _seed(world) -> None:
    call = make_call(world)
    make_application(world, call)
    make_application(world, call, state="submitted")
    assign(world.officer, make_application(world, call, state="eligible"), world.evaluator)
    award = make_award(world, state="active")
    disbursements.act(world.officer, award.tranches[0].id, "request", now=NOW)
    make_award(world)
    db.session.flush()


@pytest.mark.parametrize("role", ["officer", "applicant", "finance"])
def test_no_server_error_and_no_answer_outside_the_schema(app, world, role):
    headers, schema = seeded_api(world, role, app)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=EXAMPLES, **BOUNDED)
        @given(case=operation.as_strategy())
        def exercise(case):
            db.session.flush()
            response = case.call(headers=headers)
            db.session.expire_all()
            case.validate_response(response, checks=CHECKS)

        try:
            exercise()
        except Exception as failure:  # collect every operation's failure, then report
            failures.append(f"{operation.method.upper()} {operation.path}: {failure}")
    assert not failures, "\n\n".join(failures)
