"""The committee's decisions: awards within the envelope, the waiting list, rejections
with feedback, awards created with their tranches and reports."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import Application, Award, Call, Decision, Report, Tranche
from grants.services import decisions
from grants.services.decisions import Outcome, tranche_amounts
from grants.services.errors import InvalidInput
from tests.clients import text_of
from tests.fixtures.programme import make_application, make_call

SCHEDULE = [
    {"percentage": "40", "after_report": None},
    {"percentage": "40", "after_report": "interim"},
    {"percentage": "20", "after_report": "final"},
]
REPORTS = [{"kind": "interim", "months": 6}, {"kind": "final", "months": 12}]


@pytest.fixture
def reviewed(world):
    call = make_call(
        world, envelope=Decimal("70000"), tranche_schedule=SCHEDULE, report_schedule=REPORTS
    )
    return call, [make_application(world, call, state="reviewed") for _ in range(3)]


def test_tranches_add_up_to_the_award_exactly():
    assert tranche_amounts(Decimal("32000"), [Decimal(40), Decimal(40), Decimal(20)]) == [
        Decimal("12800.00"),
        Decimal("12800.00"),
        Decimal("6400.00"),
    ]
    shares = tranche_amounts(Decimal("10000.01"), [Decimal("33.33")] * 2 + [Decimal("33.34")])
    assert sum(shares) == Decimal("10000.01") and shares[-1] == Decimal("3334.01")


def test_a_meeting_awards_waitlists_and_rejects_in_one_go(world, reviewed):
    call, (first, second, third) = reviewed
    decisions.record(
        world.officer,
        call,
        date(2027, 5, 20),
        "Committee A, B, C",
        "Minutes.",
        [
            Outcome(first.id, "award", Decimal("32000"), conditions="Quarterly updates."),
            Outcome(second.id, "waitlist", feedback="Strong, but the envelope is short."),
            Outcome(third.id, "reject", feedback="Co-financing is not documented."),
        ],
    )
    assert (first.state, second.state, third.state) == ("awarded", "waitlisted", "rejected")
    award = db.session.scalars(select(Award)).one()
    assert (award.amount, award.state, award.conditions) == (
        Decimal("32000"),
        "offered",
        "Quarterly updates.",
    )
    assert [t.amount for t in award.tranches] == [
        Decimal("12800.00"),
        Decimal("12800.00"),
        Decimal("6400.00"),
    ]
    interim, final = sorted(award.reports, key=lambda r: r.due_date)
    assert interim.due_date == date(2027, 12, 1) and final.due_date == date(2028, 6, 1)
    assert award.tranches[1].condition_report_id == interim.id
    assert award.tranches[2].condition_report_id == final.id
    assert db.session.scalar(select(func.count(Decision.id))) == 1


def test_a_set_over_the_envelope_is_refused_whole_and_says_by_how_much(world, reviewed):
    call, (first, second, _third) = reviewed
    with pytest.raises(InvalidInput, match="exceed the envelope of 70,000.00 USD by 2,000.00"):
        decisions.record(
            world.officer,
            call,
            date(2027, 5, 20),
            "",
            "",
            [
                Outcome(first.id, "award", Decimal("32000")),
                Outcome(second.id, "award", Decimal("40000")),
            ],
        )
    assert (first.state, second.state) == ("reviewed", "reviewed")
    assert db.session.scalar(select(func.count(Award.id))) == 0
    assert db.session.scalar(select(func.count(Decision.id))) == 0


def test_a_rejection_needs_feedback(world, reviewed):
    call, (first, *_rest) = reviewed
    with pytest.raises(InvalidInput) as refused:
        decisions.record(
            world.officer, call, date(2027, 5, 20), "", "", [Outcome(first.id, "reject")]
        )
    assert "feedback" in refused.value.errors[f"text-{first.id}"][0]
    assert first.state == "reviewed"


def test_the_ranking_page_records_the_meeting(world, login, reviewed):
    call, (first, second, third) = reviewed
    officer = login(world.officer)
    response = officer.post(
        f"/office/calls/{call.code}/ranking/decisions",
        data={
            "meeting_date": "2027-05-20",
            "present": "A, B",
            "minutes": "Agreed.",
            f"outcome-{first.id}": "award",
            f"amount-{first.id}": "32000",
            f"outcome-{third.id}": "reject",
            f"text-{third.id}": "Budget not credible.",
        },
    )
    assert response.status_code == 303, text_of(response)
    assert first.state == "awarded" and third.state == "rejected" and second.state == "reviewed"
    over = officer.post(
        f"/office/calls/{call.code}/ranking/decisions",
        data={
            "meeting_date": "2027-05-21",
            f"outcome-{second.id}": "award",
            f"amount-{second.id}": "40000",
        },
    )
    assert over.status_code == 422 and "by 2,000.00 USD" in text_of(over)
    assert second.state == "reviewed"


@pytest.mark.parametrize(
    ("locale", "amount", "outcome"),
    [
        ("es", "32.000", Decimal("32000")),
        ("fr", "31 999,50", Decimal("31999.50")),
        ("en", "32.000", "Did you mean 32,000.00?"),
        ("es", "1e40", "Indique el importe en cifras, por ejemplo 1.250,50."),
        ("en", "1" + "0" * 20, "At most 999,999,999,999.99."),
    ],
)
def test_the_committees_amounts_are_read_in_the_officers_language(
    world, login, reviewed, locale, amount, outcome
):
    call, (first, _, _) = reviewed
    world.officer.locale = locale
    db.session.flush()
    response = login(world.officer).post(
        f"/office/calls/{call.code}/ranking/decisions",
        data={
            "meeting_date": "2027-05-20",
            f"outcome-{first.id}": "award",
            f"amount-{first.id}": amount,
        },
    )
    db.session.expire_all()
    if isinstance(outcome, Decimal):
        assert response.status_code == 303, text_of(response)[:1500]
        assert first.state == "awarded" and first.amount_awarded == outcome
    else:
        assert response.status_code == 422 and outcome in text_of(response)
        assert first.state == "reviewed" and db.session.scalar(select(func.count(Award.id))) == 0


@pytest.mark.usefixtures("committed")
def test_concurrent_decisions_cannot_together_exceed_the_envelope(app):
    from tests.fixtures.programme import make_world

    with app.app_context():
        world = make_world()
        call = make_call(world, envelope=Decimal("50000"))
        ids = [make_application(world, call, state="reviewed").id for _ in range(2)]
        db.session.commit()
        call_id, officer_id = call.id, world.officer.id
    barrier = threading.Barrier(2)
    results: list[str] = []

    def decide(application_id: int):
        from grants.models import User

        with app.app_context():
            officer = db.session.get(User, officer_id)
            target = db.session.get(Call, call_id)
            barrier.wait(timeout=10)
            try:
                with app.test_request_context():
                    decisions.record(
                        officer,
                        target,
                        date(2027, 5, 20),
                        "",
                        "",
                        [Outcome(application_id, "award", Decimal("30000"))],
                    )
                db.session.commit()
                results.append("awarded")
            except InvalidInput:
                db.session.rollback()
                results.append("refused")

    threads = [threading.Thread(target=decide, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["awarded", "refused"]
    with app.app_context():
        total = db.session.scalar(
            select(func.sum(Application.amount_awarded)).where(
                Application.call_id == call_id, Application.state == "awarded"
            )
        )
        assert total == Decimal("30000")
        assert db.session.scalar(select(func.count(Award.id))) == 1
        assert db.session.scalar(select(func.count(Tranche.id))) == 1
        assert db.session.scalar(select(func.count(Report.id))) == 0


def test_a_budget_in_another_currency_needs_the_exchange_rate(world, reviewed):
    call, (first, *_) = reviewed
    first.budget_currency = "XOF"
    with pytest.raises(InvalidInput) as refused:
        decisions.record(
            world.officer,
            call,
            date(2027, 5, 10),
            "",
            "",
            [Outcome(first.id, "award", Decimal("32000"))],
        )
    assert refused.value.errors[f"rate-{first.id}"] == [
        f"Give the exchange rate for {first.reference}: XOF per USD on the meeting's date."
    ]
    assert first.state == "reviewed"
    assert db.session.scalar(select(func.count(Award.id))) == 0
    decisions.record(
        world.officer,
        call,
        date(2027, 5, 10),
        "",
        "",
        [Outcome(first.id, "award", Decimal("32000"), exchange_rate=Decimal("600"))],
    )
    award = db.session.scalars(select(Award).where(Award.application_id == first.id)).one()
    assert (award.exchange_rate, award.exchange_rate_date) == (Decimal("600"), date(2027, 5, 10))
    assert award.in_budget_currency(award.amount) == Decimal("19200000.00")


def test_the_ranking_page_reports_every_problem_of_a_meeting_at_once(world, login, reviewed):
    """No date, an unreadable amount, an award without an amount and a rejection
    without feedback: all four are said on the first try, each next to its row."""
    call, (first, second, third) = reviewed
    world.officer.locale = "fr"
    db.session.flush()
    response = login(world.officer).post(
        f"/office/calls/{call.code}/ranking/decisions",
        data={
            "meeting_date": "",
            f"outcome-{first.id}": "award",
            f"amount-{first.id}": "beaucoup",
            f"outcome-{second.id}": "award",
            f"amount-{second.id}": "",
            f"outcome-{third.id}": "reject",
            f"text-{third.id}": "",
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    summary = html[html.index('class="error-summary"') : html.index('id="decisions"')]
    for anchor in (
        "meeting_date",
        f"amount-{first.id}",
        f"amount-{second.id}",
        f"text-{third.id}",
    ):
        assert f'href="#{anchor}"' in summary, anchor
    assert "Indiquez la date de la réunion du comité." in text_of(response)
    assert f"Indiquez le montant accordé à {second.reference}." in text_of(response)
    for application in (first, second, third):
        assert f'id="decision-error-{application.id}"' in html
    assert 'id="meeting_date-error"' in html
    db.session.expire_all()
    assert (first.state, second.state, third.state) == ("reviewed",) * 3
    assert db.session.scalar(select(func.count(Decision.id))) == 0


def test_the_service_reports_the_envelope_with_the_other_problems(world, reviewed):
    call, (first, second, third) = reviewed
    with pytest.raises(InvalidInput) as refused:
        decisions.record(
            world.officer,
            call,
            None,
            "",
            "",
            [
                Outcome(first.id, "award", Decimal("40000")),
                Outcome(second.id, "award", Decimal("40000")),
                Outcome(third.id, "reject"),
            ],
        )
    assert set(refused.value.errors) == {"meeting_date", "outcomes", f"text-{third.id}"}
    assert "by 10,000.00" in refused.value.errors["outcomes"][0]
    assert db.session.scalar(select(func.count(Award.id))) == 0
