"""The programme year of the scenario in controlled time: each day the scheduler's sweep
and dispatcher run, the people act on the days the story says, and the reminders fire on
the right days — each email received once by the real SMTP server."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import time_machine
from sqlalchemy import select

from grants.extensions import db
from grants.models import Award, Notification, Reminder, Tranche
from grants.services import decisions, evaluation
from grants.services.workflow import fire
from notifications.outbox import dispatch
from notifications.reminders import sweep
from tests.fixtures.people import give_verification_documents, make_association, make_user
from tests.fixtures.programme import make_application, make_call

SWEEP_HOUR = 10  # the sweep of each day, in UTC
START, END = date(2027, 2, 1), date(2028, 1, 31)
TRANCHES = [
    {"percentage": "40", "after_report": None},
    {"percentage": "40", "after_report": "interim"},
    {"percentage": "20", "after_report": "final"},
]


def at(day: date, hour: int = SWEEP_HOUR, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def test_the_reminders_of_the_programme_year(app, world, mailbox):
    settings = app.config
    officer, finance_a, finance_b = world.officer, world.finance, world.finance_b
    lyon, evaluator = world.applicant, world.evaluator
    call = make_call(
        world,
        state="open",
        opens_at=at(date(2027, 2, 1), 0),
        closes_at=at(date(2027, 3, 31), 23, 59),  # 23:59 in Dakar, which is UTC
        review_deadline=at(date(2027, 4, 30), 23, 59),
        tranche_schedule=TRANCHES,
        report_schedule=[{"kind": "interim", "months": 6}, {"kind": "final", "months": 12}],
    )
    other_member = make_user("applicant")
    other_association = make_association(other_member, state="verified")
    state: dict = {}

    def lyon_starts_its_draft(now):
        state["lyon"] = make_application(world, call)

    def another_association_starts_a_draft(now):
        make_application(world, call, association=other_association)

    def rabita_signs_up(now):
        member = make_user("applicant", locale="ar")
        state["rabita_member"] = member.email
        state["rabita"] = make_association(member, state="pending")
        give_verification_documents(state["rabita"], member)
        state["rabita"].created_at = now

    def officer_verifies_rabita(now):
        fire(state["rabita"], "verify", officer, now=now)

    def lyon_submits(now):
        fire(state["lyon"], "submit", lyon, now=now)

    def screening_and_assignment(now):
        application = state["lyon"]
        fire(application, "mark_eligible", officer, now=now)
        state["review"] = evaluation.assign(officer, application, evaluator)
        fire(application, "start_review", officer, now=now)

    def evaluator_submits(now):
        review = state["review"]
        evaluation.attest_no_conflict(evaluator, review)
        evaluation.save_scores(
            evaluator,
            review,
            {c.id: (4, "Solid.") for c in call.criteria},
            recommendation="fund",
            overall_comment="Fund it.",
        )
        evaluation.submit_review(evaluator, review)

    def committee_decides(now):
        decisions.record(
            officer,
            call,
            now.date(),
            "Officer, three evaluators",
            "Fund Lyon.",
            [decisions.Outcome(state["lyon"].id, "award", Decimal("32000"), "", "Congratulations")],
        )
        state["award"] = db.session.scalars(
            select(Award).where(Award.application_id == state["lyon"].id)
        ).one()

    def lyon_accepts(now):
        fire(
            state["award"],
            "accept",
            lyon,
            now=now,
            letter_read=True,
            signatory_name="Awa Ndiaye",
            signatory_role="President",
            account_holder="ASLD",
            iban="FR7630006000011234567890189",
            bank_name="Crédit Lyonnais",
            bic="CRLYFRPP",
        )

    def tranche(position: int) -> Tranche:
        return next(t for t in state["award"].tranches if t.position == position)

    def officer_requests_tranche_1(now):
        fire(tranche(1), "request", officer, now=now)

    def finance_a_approves(now):
        fire(tranche(1), "approve", finance_a, now=now)

    def finance_b_approves_and_pays(now):
        fire(tranche(1), "approve", finance_b, now=now)
        fire(
            tranche(1),
            "pay",
            finance_b,
            now=now,
            payment_date=now.date(),
            bank_reference="SN-2027-0611-001",
            amount=tranche(1).amount,
        )

    def interim(now):
        return next(r for r in state["award"].reports if r.kind == "interim")

    def lyon_submits_the_interim_report(now):
        report = interim(now)
        report.activities = "Trained 20 young people in solar installation."
        report.results = "12 of them are now employed."
        fire(report, "submit", lyon, now=now)

    def officer_requests_changes(now):
        fire(
            interim(now), "request_changes", officer, comment="Add the indicators by sex.", now=now
        )

    def officer_accepts_the_interim_report(now):
        fire(interim(now), "accept", officer, now=now)

    # What people do, and when (before that day's sweep unless a time is given).
    story = {
        date(2027, 2, 10): [rabita_signs_up],
        date(2027, 2, 17): [officer_verifies_rabita],
        date(2027, 3, 20): [another_association_starts_a_draft],
        date(2027, 3, 27): [lyon_starts_its_draft],
        date(2027, 4, 2): [screening_and_assignment],
        date(2027, 5, 2): [evaluator_submits],
        date(2027, 5, 10): [committee_decides],
        date(2027, 5, 26): [lyon_accepts],
        date(2027, 5, 27): [officer_requests_tranche_1],  # a Thursday
        date(2027, 6, 3): [finance_a_approves],
        date(2027, 6, 4): [finance_b_approves_and_pays],
        date(2027, 12, 11): [lyon_submits_the_interim_report],  # ten days late
        date(2027, 12, 13): [officer_requests_changes],
        date(2027, 12, 17): [lyon_submits_the_interim_report],
        date(2027, 12, 20): [officer_accepts_the_interim_report],
    }
    late_evening = {date(2027, 3, 31): (21, 59, lyon_submits)}  # two hours before closing

    day = START
    while day <= END:
        for action in story.get(day, []):
            with time_machine.travel(at(day, 9), tick=False):
                action(at(day, 9))
                db.session.commit()
        with time_machine.travel(at(day), tick=False):
            sweep(at(day), settings)
            dispatch(now=at(day), limit=1000)
        if day in late_evening:
            hour, minute, action = late_evening[day]
            with time_machine.travel(at(day, hour, minute), tick=False):
                action(at(day, hour, minute))
                db.session.commit()
        day += timedelta(days=1)

    sent = sorted(
        (r.created_at.date().isoformat(), r.rule, r.occurrence)
        for r in db.session.scalars(select(Reminder))
    )
    assert sent == sorted(
        [
            # Rabita waits for verification for five days; the officer is reminded once.
            ("2027-02-15", "verification_waiting", "5d"),
            # The other association's draft: 7 days and 1 day before the deadline. Lyon
            # starts its draft inside the last week: told at once, then the day before.
            ("2027-03-25", "call_closing", "draft-7d"),
            ("2027-03-27", "call_closing", "draft-7d"),
            ("2027-03-31", "call_closing", "draft-1d"),
            ("2027-03-31", "call_closing", "draft-1d"),
            # The evaluator: three days before the review deadline, then once late.
            ("2027-04-28", "review_due", "before"),
            ("2027-05-01", "review_due", "late-1"),
            # ...and the officers hear once that it is overdue.
            ("2027-05-01", "review_overdue", "overdue"),
            # The award offer waits 14 days unanswered.
            ("2027-05-24", "award_offer_pending", "14d"),
            # Tranche 1, requested on Thursday: two working days is Monday; after the first
            # approval (Thursday), the second approver would be reminded on Monday — but
            # approves on Friday.
            ("2027-05-31", "tranche_waiting", "cycle-1-approvals-0"),
            # The interim report, due 1 December: 14 and 3 days before, then weekly late;
            # and again once changes are requested, until it is resubmitted.
            ("2027-11-17", "report_due", "14d"),
            ("2027-11-28", "report_due", "3d"),
            ("2027-12-02", "report_due", "overdue-0"),
            ("2027-12-09", "report_due", "overdue-1"),
            ("2027-12-16", "report_due", "overdue-2"),
        ]
    )

    # Every email of the year (reminders and events) reached the SMTP server once.
    rows = db.session.scalars(select(Notification).where(Notification.channel == "email")).all()
    assert {row.state for row in rows} == {"sent"}
    received = Counter(m["Message-ID"] for m in mailbox.messages)
    assert len(received) == len(rows) and set(received.values()) == {1}
    # The Arabic-speaking member of Rabita read the verification in Arabic.
    [verified] = mailbox.to(state["rabita_member"])
    assert verified["Subject"] != "Your association is verified"
    assert any("\u0600" <= ch <= "\u06ff" for ch in verified["Subject"])
