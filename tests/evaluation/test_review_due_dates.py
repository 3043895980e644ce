"""Each review is due a number of days after its review starts (or at the call's review
deadline when it sets one): the evaluator sees the date on their list and on the
review, the officer on the assignments page, "overdue" in words once it has passed; the
evaluator is reminded before it, the officers are told once it is overdue."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from sqlalchemy import select

from grants.extensions import db
from grants.models import Notification, Reminder
from grants.roles import PROGRAMME_OFFICER
from notifications.reminders import REMINDERS, sweep_rule
from tests.clients import text_of
from tests.fixtures.people import make_user
from tests.fixtures.programme import NOW, make_application, make_call, make_review

RULES = {rule.name: rule for rule in REMINDERS}


def _start(world, login, call) -> None:
    with time_machine.travel(NOW, tick=False):
        response = login(world.officer).post(f"/office/calls/{call.code}/assignments/start")
    assert response.status_code == 303


def _eligible_with_a_review(world, call):
    application = make_application(world, call, state="eligible")
    review = make_review(world, application, scored=False)
    review.no_conflict_attested_at = NOW
    db.session.flush()
    return application, review


def test_starting_the_review_makes_each_review_due_in_the_days_allowed(world, login, app):
    call = make_call(world)
    application, review = _eligible_with_a_review(world, call)
    assert review.due_at is None  # assigned, not started: nothing is due yet
    _start(world, login, call)
    assert application.state == "in_review"
    assert app.config["REVIEW_DAYS_ALLOWED"] == 14
    assert review.due_at == NOW + timedelta(days=14)


def test_a_calls_own_review_deadline_is_the_due_date(world, login, app, monkeypatch):
    soon = make_call(world, review_deadline=NOW + timedelta(days=5))
    _application, review = _eligible_with_a_review(world, soon)
    _start(world, login, soon)
    assert review.due_at == NOW + timedelta(days=5)

    late = make_call(world, review_deadline=NOW + timedelta(days=30))
    _application, long_review = _eligible_with_a_review(world, late)
    _start(world, login, late)
    assert long_review.due_at == NOW + timedelta(days=30)

    monkeypatch.setitem(app.config, "REVIEW_DAYS_ALLOWED", 3)
    unset = make_call(world)
    _application, short_review = _eligible_with_a_review(world, unset)
    _start(world, login, unset)
    assert short_review.due_at == NOW + timedelta(days=3)


def test_an_evaluator_who_joins_a_started_review_has_the_days_from_then(world, login):
    call = make_call(world)
    application, _first = _eligible_with_a_review(world, call)
    _start(world, login, call)
    replacement = make_user("evaluator", languages=["en"])
    joined = NOW + timedelta(days=4)
    with time_machine.travel(joined, tick=False):
        response = login(world.officer).post(
            f"/office/calls/{call.code}/assignments/",
            data={"application_id": application.id, "evaluator_id": replacement.id},
        )
    assert response.status_code == 303
    [added] = [r for r in application.reviews if r.evaluator_id == replacement.id]
    assert added.due_at == joined + timedelta(days=14)


def test_the_evaluator_and_the_officer_see_the_due_date_then_overdue_in_words(world, login):
    call = make_call(world)
    application, review = _eligible_with_a_review(world, call)
    _start(world, login, call)
    world.evaluator.locale = "fr"
    db.session.flush()

    with time_machine.travel(NOW + timedelta(days=2), tick=False):
        listing = text_of(login(world.evaluator).get("/reviews/"))
        officer_page = text_of(login(world.officer).get(f"/office/calls/{call.code}/assignments/"))
    assert "15 mars 2027, 12:00" in listing and "en retard" not in listing
    assert "due Mar 15, 2027, 12:00 PM" in officer_page and "overdue" not in officer_page

    with time_machine.travel(NOW + timedelta(days=15), tick=False):
        evaluator = login(world.evaluator)
        listing = text_of(evaluator.get("/reviews/"))
        page = text_of(evaluator.get(f"/reviews/{review.id}"))
        officer_html = (
            login(world.officer)
            .get(f"/office/calls/{call.code}/assignments/")
            .get_data(as_text=True)
        )
    assert "15 mars 2027, 12:00 en retard" in listing
    assert "Échéance : 15 mars 2027, 12:00 en retard" in page
    assert '<strong class="state state-rejected overdue">overdue</strong>' in officer_html

    # Once submitted, the review is no longer overdue anywhere.
    review.state = "submitted"
    db.session.flush()
    with time_machine.travel(NOW + timedelta(days=15), tick=False):
        listing = text_of(login(world.evaluator).get("/reviews/"))
    assert "en retard" not in listing and application.state == "in_review"


def _sent(rule: str) -> list[tuple[int, str]]:
    return list(
        db.session.execute(
            select(Reminder.entity_id, Reminder.occurrence)
            .where(Reminder.rule == rule)
            .order_by(Reminder.id)
        ).tuples()
    )


def _recipients(rule: str) -> set[int]:
    return set(
        db.session.scalars(
            select(Notification.recipient_id).where(
                Notification.rule == rule, Notification.channel == "email"
            )
        )
    )


def test_the_evaluator_is_reminded_before_the_due_date_and_officers_once_it_is_overdue(
    world, login, app
):
    settings = app.config
    call = make_call(world)
    application, review = _eligible_with_a_review(world, call)
    _start(world, login, call)
    due = review.due_at
    second_officer = make_user(PROGRAMME_OFFICER)

    assert sweep_rule(RULES["review_due"], due - timedelta(days=4), settings) == 0
    assert sweep_rule(RULES["review_overdue"], due - timedelta(days=4), settings) == 0
    assert sweep_rule(RULES["review_due"], due - timedelta(days=2), settings) == 1
    assert _recipients("review_due") == {world.evaluator.id}

    assert sweep_rule(RULES["review_overdue"], due - timedelta(minutes=1), settings) == 0
    assert sweep_rule(RULES["review_overdue"], due + timedelta(hours=1), settings) == 1
    assert sweep_rule(RULES["review_overdue"], due + timedelta(days=3), settings) == 0  # once
    assert _sent("review_overdue") == [(review.id, "overdue")]
    assert _recipients("review_overdue") == {world.officer.id, second_officer.id}
    [subject] = set(
        db.session.scalars(
            select(Notification.subject).where(Notification.rule == "review_overdue")
        )
    )
    assert subject == (
        f"The review of {application.reference} by {world.evaluator.display_name} is overdue"
    )


def test_officers_hear_in_their_language_when_a_review_is_overdue(world, login, app):
    call = make_call(world)
    application, review = _eligible_with_a_review(world, call)
    _start(world, login, call)
    world.officer.locale = "fr"
    db.session.flush()
    sweep_rule(RULES["review_overdue"], review.due_at + timedelta(hours=1), app.config)
    [body] = db.session.scalars(
        select(Notification.body).where(
            Notification.rule == "review_overdue",
            Notification.recipient_id == world.officer.id,
            Notification.channel == "email",
        )
    ).all()
    assert (
        f"{world.evaluator.display_name} n’a pas soumis l’évaluation de {application.reference}"
        in body
    )
    assert "15 mars 2027, 12:00 (Africa/Dakar)" in body


def test_a_submitted_review_is_neither_reminded_nor_reported_overdue(world, login, app):
    call = make_call(world)
    _application, review = _eligible_with_a_review(world, call)
    _start(world, login, call)
    review.state = "submitted"
    db.session.flush()
    later = review.due_at + timedelta(days=1)
    assert sweep_rule(RULES["review_due"], later, app.config) == 0
    assert sweep_rule(RULES["review_overdue"], later, app.config) == 0


def test_the_api_starts_the_review_and_shows_each_review_its_due_date(world, client):
    from grants.services.accounts import issue_token

    call = make_call(world)
    _application, review = _eligible_with_a_review(world, call)
    review.no_conflict_attested_at = None
    db.session.flush()

    def bearer(user) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(user, user, 'test', 30)}"}

    with time_machine.travel(NOW, tick=False):
        started = client.post(
            f"/api/v1/calls/{call.id}/review-start", headers=bearer(world.officer)
        )
        assert started.status_code == 200 and started.get_json() == {"started": 1}
        attested = client.post(
            f"/api/v1/reviews/{review.id}/no-conflict", headers=bearer(world.evaluator)
        )
    assert attested.status_code == 200, attested.get_data(as_text=True)
    assert attested.get_json()["due_at"] == (NOW + timedelta(days=14)).isoformat()
