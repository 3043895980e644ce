"""Each reminder rule: due → sent once; not yet due → nothing; already sent → nothing;
moved on → nothing. And the timed close of a call at its deadline."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import HistoryEntry, Notification, Reminder
from grants.roles import PROGRAMME_OFFICER
from notifications.reminders import REMINDERS, sweep, sweep_rule, working_days_between
from tests.fixtures.people import make_association, make_user
from tests.fixtures.programme import (
    NOW,
    make_application,
    make_award,
    make_call,
    make_report,
    make_review,
    make_tranche,
)

RULES = {rule.name: rule for rule in REMINDERS}


@pytest.fixture
def settings(app):
    return app.config


def run(name: str, now, settings) -> int:
    return sweep_rule(RULES[name], now, settings)


def reminded(name: str) -> list[tuple[int, str]]:
    return list(
        db.session.execute(
            select(Reminder.entity_id, Reminder.occurrence)
            .where(Reminder.rule == name)
            .order_by(Reminder.id)
        ).tuples()
    )


def recipients(name: str, channel: str = "email") -> list[int]:
    return sorted(
        db.session.scalars(
            select(Notification.recipient_id).where(
                Notification.rule == name, Notification.channel == channel
            )
        )
    )


# --- call closing ----------------------------------------------------------------------


def test_a_draft_is_reminded_seven_days_then_one_day_before_the_call_closes(world, settings):
    call = make_call(world, closes_at=NOW + timedelta(days=5))
    draft = make_application(world, call)
    assert run("call_closing", NOW - timedelta(days=3), settings) == 0  # 8 days left
    assert run("call_closing", NOW, settings) == 1
    assert run("call_closing", NOW, settings) == 0  # the same sweep again
    assert run("call_closing", NOW + timedelta(days=1), settings) == 0  # still the 7-day one
    assert run("call_closing", NOW + timedelta(days=4, hours=12), settings) == 1
    assert reminded("call_closing") == [(draft.id, "draft-7d"), (draft.id, "draft-1d")]
    assert recipients("call_closing") == [world.applicant.id, world.applicant.id]
    [subject] = set(
        db.session.scalars(select(Notification.subject).where(Notification.rule == "call_closing"))
    )
    assert subject == "Youth employment closes soon: your application is not submitted"


def test_a_submitted_draft_or_a_closed_call_is_not_reminded(world, settings):
    call = make_call(world, closes_at=NOW + timedelta(days=2))
    make_application(world, call, state="submitted")
    closed = make_call(world, state="closed", closes_at=NOW + timedelta(days=2))
    make_application(world, closed)
    assert run("call_closing", NOW, settings) == 0
    assert reminded("call_closing") == []


# --- reviews ----------------------------------------------------------------------------


def test_reviews_are_reminded_before_the_deadline_then_daily(world, settings):
    call = make_call(world, review_deadline=NOW + timedelta(days=2))
    application = make_application(world, call, state="in_review")
    review = make_review(world, application)
    assert run("review_due", NOW - timedelta(days=2), settings) == 0  # 4 days before
    assert run("review_due", NOW, settings) == 1
    assert run("review_due", NOW + timedelta(days=1), settings) == 0
    assert run("review_due", NOW + timedelta(days=2, hours=1), settings) == 1  # late, day 1
    assert run("review_due", NOW + timedelta(days=2, hours=20), settings) == 0
    assert run("review_due", NOW + timedelta(days=3, hours=1), settings) == 1  # day 2
    assert [o for _, o in reminded("review_due")] == ["before", "late-1", "late-2"]
    assert set(recipients("review_due")) == {world.evaluator.id}
    assert review.id in {entity for entity, _ in reminded("review_due")}


def test_a_submitted_review_is_not_reminded(world, settings):
    call = make_call(world, review_deadline=NOW - timedelta(days=1))
    application = make_application(world, call, state="in_review")
    make_review(world, application, state="submitted")
    assert run("review_due", NOW, settings) == 0


# --- reports ----------------------------------------------------------------------------


def test_reports_are_reminded_14_and_3_days_before_then_weekly_once_overdue(world, settings):
    report = make_report(world)
    due = report.due_date
    moments = {
        "too early": due - timedelta(days=20),
        "14d": due - timedelta(days=10),
        "14d again": due - timedelta(days=9),
        "3d": due - timedelta(days=2),
        "due day": due,
        "overdue-0": due + timedelta(days=1),
        "overdue-0 again": due + timedelta(days=7),
        "overdue-1": due + timedelta(days=8),
    }
    counts = {
        label: run("report_due", NOW.replace(year=d.year, month=d.month, day=d.day), settings)
        for label, d in moments.items()
    }
    assert counts == {
        "too early": 0,
        "14d": 1,
        "14d again": 0,
        "3d": 1,
        "due day": 0,
        "overdue-0": 1,
        "overdue-0 again": 0,
        "overdue-1": 1,
    }
    assert [o for _, o in reminded("report_due")] == ["14d", "3d", "overdue-0", "overdue-1"]
    bodies = list(
        db.session.scalars(
            select(Notification.body)
            .where(Notification.rule == "report_due", Notification.channel == "email")
            .order_by(Notification.id)
        )
    )
    assert "It is overdue." not in bodies[0] and "It is overdue." in bodies[-1]
    assert "December 1, 2027" in bodies[0]


@pytest.mark.parametrize(
    ("state", "award_state"),
    [("accepted", "active"), ("submitted", "active"), ("scheduled", "offered")],
)
def test_a_report_that_moved_on_is_not_reminded(world, settings, state, award_state):
    report = make_report(world, state=state, award_state=award_state)
    day = report.due_date - timedelta(days=2)
    assert (
        run("report_due", NOW.replace(year=day.year, month=day.month, day=day.day), settings) == 0
    )


# --- tranches ---------------------------------------------------------------------------


def test_working_days_skip_the_weekend():
    friday = NOW.replace(day=5)  # 5 March 2027 is a Friday
    assert friday.weekday() == 4
    assert working_days_between(friday, friday + timedelta(days=3)) == 1  # Monday
    assert working_days_between(friday, friday + timedelta(days=4)) == 2  # Tuesday


def test_a_waiting_tranche_reminds_finance_after_two_working_days(world, settings):
    tranche = make_tranche(world, state="requested")
    friday = NOW.replace(day=5)
    tranche.requested_at = friday
    db.session.flush()
    assert run("tranche_waiting", friday + timedelta(days=3), settings) == 0  # Monday
    assert run("tranche_waiting", friday + timedelta(days=4), settings) == 1  # Tuesday
    assert run("tranche_waiting", friday + timedelta(days=5), settings) == 0
    # The requester (the officer) is never asked; both finance officers are.
    assert recipients("tranche_waiting") == sorted([world.finance.id, world.finance_b.id])


def test_after_one_of_two_approvals_the_other_approver_is_reminded_later(world, settings):
    from grants.services.workflow import fire

    tranche = make_tranche(world, state="requested", amount=Decimal("12000"))
    tranche.requested_at = NOW - timedelta(days=7)
    approved_on = NOW.replace(day=2)  # Tuesday 2 March 2027
    fire(tranche, "approve", world.finance, now=approved_on)
    assert tranche.state == "requested"
    # The first approval resets the wait: two working days from Tuesday is Thursday.
    assert run("tranche_waiting", approved_on + timedelta(days=1), settings) == 0
    assert run("tranche_waiting", approved_on + timedelta(days=2), settings) == 1
    assert recipients("tranche_waiting") == [world.finance_b.id]
    fire(tranche, "approve", world.finance_b, now=approved_on + timedelta(days=2))
    assert run("tranche_waiting", NOW + timedelta(days=14), settings) == 0  # approved


# --- award offers and verification -----------------------------------------------------


def test_an_unanswered_award_offer_is_reminded_once(world, settings):
    award = make_award(world, with_schedule=False)
    award.offered_at = NOW - timedelta(days=13)
    db.session.flush()
    assert run("award_offer_pending", NOW, settings) == 0
    assert run("award_offer_pending", NOW + timedelta(days=1), settings) == 1
    assert run("award_offer_pending", NOW + timedelta(days=9), settings) == 0
    assert recipients("award_offer_pending") == [world.applicant.id]


def test_an_accepted_award_is_not_reminded(world, settings):
    award = make_award(world, state="active", with_schedule=False)
    award.offered_at = NOW - timedelta(days=30)
    assert run("award_offer_pending", NOW, settings) == 0


def test_officers_hear_of_associations_waiting_for_verification(world, settings):
    waiting = make_association(make_user("applicant"), state="pending")
    waiting.created_at = NOW - timedelta(days=6)
    recent = make_association(make_user("applicant"), state="pending")
    recent.created_at = NOW - timedelta(days=2)
    done = make_association(make_user("applicant"), state="verified")
    done.created_at = NOW - timedelta(days=30)
    second_officer = make_user(PROGRAMME_OFFICER)
    db.session.flush()
    assert run("verification_waiting", NOW, settings) == 1
    assert reminded("verification_waiting") == [(waiting.id, "5d")]
    assert recipients("verification_waiting") == sorted([world.officer.id, second_officer.id])


# --- offsets are settings, and the timed close ------------------------------------------


def test_offsets_come_from_the_settings(world, settings):
    make_report(world)
    changed = dict(settings, REMINDER_REPORT_DAYS=(30,))
    day = NOW.replace(year=2027, month=11, day=5)  # 26 days before 1 December
    assert run("report_due", day, settings) == 0
    assert run("report_due", day, changed) == 1
    assert reminded("report_due")[0][1] == "30d"


def test_the_system_closes_a_call_at_its_deadline_with_a_history_row(world, settings):
    call = make_call(world, closes_at=NOW + timedelta(minutes=5))
    other = make_call(world, closes_at=NOW + timedelta(days=5))
    assert sweep(NOW, settings)["close_calls"] == 0
    handled = sweep(NOW + timedelta(minutes=5), settings)
    assert handled["close_calls"] == 1
    assert call.state == "closed" and other.state == "open"
    entry = db.session.scalars(
        select(HistoryEntry).where(
            HistoryEntry.entity_type == "call", HistoryEntry.entity_id == call.id
        )
    ).one()
    assert (entry.transition, entry.actor_id, entry.actor_label) == ("close", None, "system")
    assert sweep(NOW + timedelta(minutes=6), settings)["close_calls"] == 0


def test_a_call_closing_sends_no_closing_reminder_after_its_close(world, settings):
    call = make_call(world, closes_at=NOW + timedelta(hours=1))
    make_application(world, call)
    handled = sweep(NOW + timedelta(hours=2), settings)
    assert handled["close_calls"] == 1 and handled["call_closing"] == 0


def test_every_rule_is_listed_with_its_offsets(settings):
    from notifications.reminders import table

    rows = {name: when for name, _, _, when in table(settings)}
    assert rows["report_due"] == "14 and 3 days before it is due, then every 7 days once overdue"
    assert rows["call_closing"] == "7 and 1 days before the call closes"
    assert set(rows) == set(RULES)


def test_two_sweeps_write_each_reminder_once(world, settings):
    make_report(world)
    day = NOW.replace(year=2027, month=11, day=28)
    first = sweep(day, settings)
    second = sweep(day, settings)
    assert first["report_due"] == 1 and second["report_due"] == 0
    assert db.session.scalar(select(func.count(Reminder.id))) == 1


def test_each_member_reads_the_reminder_in_their_language(world, settings, mailbox):
    from grants.models import Membership
    from notifications.outbox import dispatch

    report = make_report(world)
    french = make_user("applicant", locale="fr")
    arabic = make_user("applicant", locale="ar")
    for person in (french, arabic):
        db.session.add(Membership(user_id=person.id, association_id=world.association.id))
    db.session.flush()
    day = NOW.replace(year=2027, month=11, day=28)  # 3 days before 1 December 2027
    assert run("report_due", day, settings) == 1
    assert dispatch(now=day) == (3, 0)
    reference = report.award.application.reference
    [english] = mailbox.to(world.applicant.email)
    [in_french] = mailbox.to(french.email)
    [in_arabic] = mailbox.to(arabic.email)
    assert english["Subject"] == f"Your interim report on {reference} is due on December 1, 2027"
    assert in_french["Subject"] == (
        f"Votre rapport intermédiaire sur {reference} doit être remis le 1 décembre 2027"
    )
    assert "Ouvrir dans Diaspora Grants" in mailbox.body(in_french)
    assert "ديسمبر" in in_arabic["Subject"] and reference in in_arabic["Subject"]
    html = in_arabic.get_body(preferencelist=("html",)).get_content()
    assert 'dir="rtl"' in html and 'lang="ar"' in html
    # Each message is recognisably itself if a retry ever repeats it.
    assert len({m["Message-ID"] for m in (english, in_french, in_arabic)}) == 3
