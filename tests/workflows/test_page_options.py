"""The options of a page of records, computed together, are those of each record alone.

``allowed_for_many`` reads the person's roles once and loads only what the guards that
will run read; every answer must stay the one ``allowed_transitions`` gives a record on
its own, whoever asks and whatever the state."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from grants.extensions import db
from grants.models import Application
from grants.services.workflow import allowed_for_many, allowed_transitions
from tests.fixtures.programme import NOW, make_application, make_call, make_review
from tests.queries import statements
from tests.workflows.cases import CASES
from workflows import MACHINES


def _seen(options) -> list[tuple]:
    return [
        (o.name, o.allowed, tuple(str(r) for r in o.reasons), o.status, o.tone, o.requires)
        for o in options
    ]


def _programme(world) -> list[int]:
    """Applications in every state, some whose guards refuse: a closed call, a draft
    without its budget, a review that can neither start nor end, another association's."""
    case = CASES["application"]
    ids = []
    for state in MACHINES["application"].state_values():
        for transition in ("submit", "submit_concept", "start_review", "complete_review"):
            ids.append(case.build(world, state, transition).id)
    closed = make_call(world, state="closed")
    ids.append(make_application(world, closed, state="submitted").id)
    late = make_call(world, closes_at=NOW - timedelta(days=1))
    ids.append(make_application(world, late).id)
    ids.append(make_application(world, make_call(world), complete=False).id)
    assigned = make_application(world, make_call(world), state="in_review")
    make_review(world, assigned, scored=False)
    ids.append(assigned.id)
    ids.append(make_application(world, make_call(world), state="eligible").id)
    theirs = world.outsider.memberships[0].association
    other = make_application(world, make_call(world), association=theirs)
    ids.append(other.id)
    db.session.flush()
    return ids


@pytest.mark.parametrize(
    "who", ["applicant", "outsider", "evaluator", "officer", "finance", "admin", "system"]
)
def test_a_page_of_applications_has_each_ones_own_options(world, who):
    ids = _programme(world)
    actor = None if who == "system" else getattr(world, who)

    db.session.expire_all()
    alone = {
        application.id: _seen(allowed_transitions(application, actor))
        for application in db.session.scalars(select(Application).where(Application.id.in_(ids)))
    }
    db.session.expire_all()
    page = db.session.scalars(select(Application).where(Application.id.in_(ids))).all()
    with statements() as seen:
        together = {key: _seen(options) for key, options in allowed_for_many(page, actor).items()}

    assert together == alone
    assert len(alone) == len(ids)
    # One query per relationship the guards read, for the whole page; an officer's
    # guards read no document.
    tables = [re.search(r"\bFROM\s+(\w+)", statement).group(1) for statement in seen]
    for table in ("reviews", "documents", "budget_lines", "cofinancing", "answers", "calls"):
        assert tables.count(table) <= 1, tables
    if who == "officer":
        assert "documents" not in tables
    if who in ("applicant", "officer", "system"):
        statuses = {option[3] for options in alone.values() for option in options}
        assert {200, 422} <= statuses
