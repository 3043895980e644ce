"""Every state and transition of every lifecycle has words for people, in the catalogs."""

from __future__ import annotations

import pytest

from grants.labels import (
    RECOMMENDATION_LABELS,
    STATE_LABELS,
    TRANSITION_LABELS,
    state_label,
    transition_label,
)
from workflows import MACHINES
from workflows.base import COMMENT_REQUIRED


@pytest.mark.parametrize("entity", sorted(MACHINES))
def test_every_state_and_transition_has_a_label(entity):
    machine = MACHINES[entity]
    assert set(STATE_LABELS.get(entity, {})) == set(machine.state_values())
    assert set(TRANSITION_LABELS.get(entity, {})) == set(machine.event_names())


@pytest.mark.parametrize("entity", sorted(MACHINES))
def test_labels_are_words_not_codes(app, entity):
    machine = MACHINES[entity]
    for value in machine.state_values():
        assert "_" not in state_label(entity, value)
    for name in machine.event_names():
        assert "_" not in transition_label(entity, name)


def test_every_comment_label_has_its_sentence():
    for machine in MACHINES.values():
        for declared in machine.rules.values():
            assert declared.comment_label in COMMENT_REQUIRED


def test_recommendations_have_labels():
    assert set(RECOMMENDATION_LABELS) == {"fund", "fund_with_conditions", "do_not_fund"}


def test_unknown_names_fall_back_to_the_raw_name(app):
    assert state_label("application", "frozen") == "frozen"
    assert transition_label("budget", "explode") == "explode"
