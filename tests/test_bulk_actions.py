"""Bulk actions on the screening, assignment and grants lists: each row goes through its
own guards in a savepoint, the result lists each row done and each refused with the
lifecycle's reasons, bad input changes nothing, and only programme officers act."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import (
    Application,
    AuditRow,
    BulkItem,
    BulkRun,
    HistoryEntry,
    Notification,
    Review,
)
from grants.roles import ADMIN, APPLICANT, EVALUATOR, FINANCE_OFFICER
from grants.services import bulk_actions as service
from grants.services.errors import Forbidden, InvalidInput, NotFound
from tests.fixtures.people import make_association, make_user
from tests.fixtures.programme import make_application, make_award, make_call, make_review


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _state(application: Application) -> str:
    return db.session.scalar(select(Application.state).where(Application.id == application.id))


def _outcomes(run: BulkRun) -> dict[int, tuple[str, list[str]]]:
    return {item.entity_id: (item.outcome, item.reasons) for item in service.items_of(run)}


@pytest.fixture
def screening(world):
    call = make_call(world)
    submitted = [make_application(world, call, state="submitted") for _ in range(3)]
    eligible = make_application(world, call, state="eligible")
    elsewhere = make_application(world, make_call(world), state="submitted")
    return call, submitted, eligible, elsewhere


# --- each action, with refusals ----------------------------------------------------------


def test_mark_eligible_does_each_row_and_refuses_the_others_with_why(world, screening):
    call, submitted, eligible, elsewhere = screening
    ids = [a.id for a in submitted] + [eligible.id, elsewhere.id]
    run = service.run(world.officer, "screening", "mark_eligible", ids, call=call)
    outcomes = _outcomes(run)
    assert (run.done, run.refused) == (3, 2)
    assert all(outcomes[a.id] == ("done", []) for a in submitted)
    assert all(_state(a) == "eligible" for a in submitted)
    outcome, reasons = outcomes[eligible.id]
    assert outcome == "refused" and "the state is “eligible”" in reasons[0].lower()
    # Another call's application is not on this list: not found, and left alone.
    assert outcomes[elsewhere.id] == ("refused", ["No such application."])
    assert _state(elsewhere) == "submitted"
    # The usual history row per row done, and the association told as for one.
    history = db.session.scalars(
        select(HistoryEntry).where(HistoryEntry.transition == "mark_eligible")
    ).all()
    assert sorted(h.entity_id for h in history) == sorted(a.id for a in submitted)
    told = db.session.scalars(
        select(Notification.entity_id).where(Notification.rule == "application_eligible")
    ).all()
    assert set(told) == {a.id for a in submitted}


def test_mark_ineligible_gives_the_one_reason_to_every_row(world, screening):
    call, submitted, _eligible, _elsewhere = screening
    reason = "Co-financing is 9 %; the call asks for 15 %."
    run = service.run(
        world.officer, "screening", "mark_ineligible", [submitted[0].id], call=call, text=reason
    )
    assert run.done == 1 and _state(submitted[0]) == "ineligible"
    entry = db.session.scalars(
        select(HistoryEntry).where(HistoryEntry.entity_id == submitted[0].id)
    ).one()
    assert entry.comment == reason


def test_return_for_changes_is_refused_by_the_guard_of_a_closed_call(world):
    closed = make_call(world, state="closed")
    refused = make_application(world, closed, state="submitted")
    open_call = make_call(world)
    returned = make_application(world, open_call, state="submitted")
    run = service.run(
        world.officer,
        "screening",
        "return_to_applicant",
        [refused.id],
        call=closed,
        text="Add the partner's letter.",
    )
    assert _outcomes(run)[refused.id][0] == "refused"
    assert "no longer accepts applications" in _outcomes(run)[refused.id][1][0]
    assert _state(refused) == "submitted"
    assert not db.session.scalars(
        select(HistoryEntry).where(HistoryEntry.entity_id == refused.id)
    ).all()
    done = service.run(
        world.officer,
        "screening",
        "return_to_applicant",
        [returned.id],
        call=open_call,
        text="Add the partner's letter.",
    )
    assert done.done == 1 and _state(returned) == "draft"


def test_assigning_evaluators_is_all_or_nothing_per_row(world):
    call = make_call(world)
    free = make_application(world, call, state="eligible")
    taken = make_application(world, call, state="eligible")
    other = make_user(EVALUATOR)
    make_review(world, taken, evaluator=other, scored=False)
    submitted = make_application(world, call, state="submitted")
    run = service.run(
        world.officer,
        "assignments",
        "assign",
        [free.id, taken.id, submitted.id],
        call=call,
        evaluator_ids=[world.evaluator.id, other.id],
    )
    outcomes = _outcomes(run)
    assert outcomes[free.id][0] == "done"
    assert "already assigned" in outcomes[taken.id][1][0]
    assert "eligible applications" in outcomes[submitted.id][1][0]

    def evaluators_of(application):
        return set(
            db.session.scalars(
                select(Review.evaluator_id).where(Review.application_id == application.id)
            )
        )

    assert evaluators_of(free) == {world.evaluator.id, other.id}
    # The first evaluator's assignment to the refused row was rolled back with it.
    assert evaluators_of(taken) == {other.id}
    assert evaluators_of(submitted) == set()


def test_a_message_reaches_each_member_in_their_language(world, screening):
    call, submitted, _eligible, _elsewhere = screening
    french = make_user(APPLICANT, locale="fr")
    lyon = make_association(french, state="verified")
    theirs = make_application(world, call, state="submitted", association=lyon)
    run = service.run(
        world.officer,
        "screening",
        "message",
        [submitted[0].id, theirs.id],
        call=call,
        text="Please send the signed budget by Friday.",
    )
    assert run.done == 2
    rows = {
        row.recipient_id: row
        for row in db.session.scalars(
            select(Notification).where(
                Notification.rule == "bulk_message", Notification.channel == "email"
            )
        )
    }
    assert set(rows) == {world.applicant.id, french.id}
    assert rows[world.applicant.id].subject.startswith("A message from the programme office")
    assert rows[french.id].subject.startswith("Un message")
    assert "signed budget by Friday" in rows[french.id].body
    audited = db.session.scalars(
        select(AuditRow.record_id).where(AuditRow.kind == "application.message")
    ).all()
    assert sorted(audited) == sorted([submitted[0].id, theirs.id])


def test_reminders_go_to_whoever_the_row_waits_for(world):
    call = make_call(world)
    in_review = make_application(world, call, state="in_review")
    make_review(world, in_review, scored=False)
    submitted = make_application(world, call, state="submitted")
    run = service.run(
        world.officer, "assignments", "remind", [in_review.id, submitted.id], call=call
    )
    outcomes = _outcomes(run)
    assert outcomes[in_review.id][0] == "done"
    assert "Nobody has anything to do" in outcomes[submitted.id][1][0]
    reminded = db.session.scalars(
        select(Notification.recipient_id).where(Notification.rule == "bulk_reminder")
    ).all()
    assert set(reminded) == {world.evaluator.id}


def test_grants_are_reminded_of_their_offer_or_their_next_report(world):
    offered = make_award(world, state="offered")
    active = make_award(world, state="active")
    completed = make_award(world, state="completed")
    run = service.run(world.officer, "grants", "remind", [offered.id, active.id, completed.id])
    outcomes = _outcomes(run)
    assert outcomes[offered.id][0] == outcomes[active.id][0] == "done"
    assert outcomes[completed.id][0] == "refused"
    subjects = db.session.scalars(
        select(Notification.subject).where(
            Notification.rule == "bulk_reminder", Notification.channel == "in_app"
        )
    ).all()
    assert any("awaits your acceptance" in s for s in subjects)
    assert any("December 1, 2027" in s for s in subjects)


# --- bad input changes nothing -----------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "ids", "text", "field", "says"),
    [
        ("mark_ineligible", "one", "", "comment", "reason the applicants will read"),
        ("mark_eligible", "none", "", "ids", "Tick at least one row"),
        ("assign", "one", "", "action", "actions offered"),
        ("message", "one", "   ", "comment", "Write the message"),
        ("mark_eligible", "bad", "", "ids", "Choose rows from the list"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(
    world, screening, action, ids, text, field, says
):
    call, submitted, _eligible, _elsewhere = screening
    chosen = {"one": [submitted[0].id], "none": [], "bad": ["12x"]}[ids]
    before = (_count(BulkRun), _count(HistoryEntry), _count(Notification))
    with pytest.raises(InvalidInput) as refused:
        service.run(world.officer, "screening", action, chosen, call=call, text=text)
    assert field in refused.value.errors and says in refused.value.errors[field][0]
    assert (_count(BulkRun), _count(HistoryEntry), _count(Notification)) == before
    assert _state(submitted[0]) == "submitted"


# --- who may act, and who may read the result ---------------------------------------------


@pytest.mark.parametrize("role", [APPLICANT, EVALUATOR, FINANCE_OFFICER, ADMIN])
def test_only_programme_officers_act(world, screening, role):
    call, submitted, _eligible, _elsewhere = screening
    with pytest.raises(Forbidden):
        service.run(world.person(role), "screening", "mark_eligible", [submitted[0].id], call=call)
    assert _state(submitted[0]) == "submitted" and _count(BulkRun) == 0


@pytest.mark.parametrize("role", [APPLICANT, EVALUATOR, FINANCE_OFFICER])
def test_the_result_is_hidden_from_those_outside_the_programme(world, screening, role):
    call, submitted, _eligible, _elsewhere = screening
    run = service.run(world.officer, "screening", "mark_eligible", [submitted[0].id], call=call)
    with pytest.raises(NotFound):
        service.visible_run(world.person(role), run.id)
    assert service.visible_run(world.admin, run.id).id == run.id


# --- the pages, without JavaScript ------------------------------------------------------


def test_the_list_posts_one_form_and_the_result_page_says_what_happened(world, screening, login):
    call, submitted, eligible, _elsewhere = screening
    client = login(world.officer)
    page = client.get(f"/calls/{call.code}/applications").get_data(as_text=True)
    assert 'id="bulk-form"' in page and "<script" not in page.split('id="bulk-form"')[1]
    assert f'name="ids" value="{submitted[0].id}" form="bulk-form"' in page
    response = client.post(
        "/office/bulk/screening",
        data={"call": call.code, "action": "mark_eligible", "ids": [submitted[0].id, eligible.id]},
    )
    assert response.status_code == 303
    result = client.get(response.location).get_data(as_text=True)
    assert "1 row done" in result and "1 refused" in result
    assert "the state is “eligible”" in result.lower()
    assert _state(submitted[0]) == "eligible"
    assert db.session.scalar(select(func.count(BulkItem.id))) == 2


def test_bad_input_shows_the_form_again_with_the_rows_still_ticked(world, screening, login):
    call, submitted, _eligible, _elsewhere = screening
    client = login(world.officer)
    response = client.post(
        "/office/bulk/screening",
        data={"call": call.code, "action": "mark_ineligible", "ids": [submitted[0].id]},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Give the reason the applicants will read." in page
    assert (
        f'value="{submitted[0].id}" form="bulk-form" aria-label="{submitted[0].reference}" checked'
        in page
    )
    assert _state(submitted[0]) == "submitted" and _count(BulkRun) == 0


def test_members_cannot_post_a_bulk_action(world, screening, login):
    call, submitted, _eligible, _elsewhere = screening
    response = login(world.applicant).post(
        "/office/bulk/screening",
        data={"call": call.code, "action": "mark_eligible", "ids": [submitted[0].id]},
    )
    assert response.status_code == 403
    assert _state(submitted[0]) == "submitted"


# --- the demo ---------------------------------------------------------------------------


def test_the_demo_keeps_a_bulk_screening_with_two_refusals_explained(app):
    from grants.services.demo import seed

    seed()
    run = db.session.scalars(select(BulkRun)).one()
    assert (run.list_name, run.action, run.done, run.refused) == (
        "screening",
        "mark_eligible",
        8,
        2,
    )
    refused = [item for item in service.items_of(run) if item.outcome == "refused"]
    assert all("the state is “ineligible”" in item.reasons[0].lower() for item in refused)
    for item in refused:
        entry = db.session.scalars(
            select(HistoryEntry).where(
                HistoryEntry.entity_id == item.entity_id,
                HistoryEntry.transition == "mark_ineligible",
            )
        ).one()
        assert "Co-financing is 9 %" in entry.comment


# --- a large selection, in the background ------------------------------------------------


def test_a_large_selection_waits_for_the_scheduler_with_progress_shown(
    app, world, screening, login
):
    from notifications.scheduler import JOBS

    call, submitted, eligible, _elsewhere = screening
    app.config["BULK_ROWS_AT_ONCE"] = 2
    try:
        client = login(world.officer)
        ids = [a.id for a in submitted] + [eligible.id]
        response = client.post(
            "/office/bulk/screening",
            data={"call": call.code, "action": "mark_eligible", "ids": ids},
        )
        run = db.session.scalars(select(BulkRun)).one()
        assert (run.state, run.total, run.done, run.refused) == ("running", 4, 0, 0)
        assert all(_state(a) == "submitted" for a in submitted)
        page = client.get(response.location).get_data(as_text=True)
        assert "In progress: 0 of 4 rows" in page and 'http-equiv="refresh"' in page
        job = next(job for job in JOBS if job.name == "bulk-actions")
        assert job.run(app, None) == 4
        db.session.expire_all()
        run = db.session.get(BulkRun, run.id)
        assert (run.state, run.done, run.refused) == ("finished", 3, 1)
        assert all(_state(a) == "eligible" for a in submitted)
        page = client.get(response.location).get_data(as_text=True)
        assert "In progress" not in page and "3 rows done" in page
        # Running the job again finds nothing waiting and changes nothing.
        assert job.run(app, None) == 0
    finally:
        app.config.pop("BULK_ROWS_AT_ONCE")
