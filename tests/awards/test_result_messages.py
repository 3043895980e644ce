"""After a transition the person reads what happened and what comes next, in their
language: the first of two approvals says a second finance officer is still needed."""

from __future__ import annotations

from grants.extensions import db
from tests.applications.test_applications import _start
from tests.applications.test_applications import call as call  # noqa: F401 (fixture)
from tests.clients import text_of
from tests.fixtures.programme import NOW, make_award


def _message(client, response) -> str:
    assert response.status_code == 303, text_of(response)[:1000]
    return text_of(client.get(response.location))


def test_four_eyes_each_approval_says_what_comes_next(world, login):
    award = make_award(world, state="active")
    award.iban, award.bic = "FR1420041010050500013M02606", "PSSTFRPPLYO"
    first = award.tranches[0]  # USD 12,800: above the threshold, two approvals
    world.finance.locale = "fr"
    db.session.flush()
    officer, finance_a, finance_b = (
        login(world.officer),
        login(world.finance),
        login(world.finance_b),
    )
    requested = officer.post(f"/grants/tranches/{first.id}/request")
    assert "Tranche 1 is requested; a finance officer approves it next." in _message(
        officer, requested
    )

    approved_once = finance_a.post(f"/grants/tranches/{first.id}/approve")
    assert first.state == "requested"
    assert (
        "La tranche 1 est approuvée ; un second responsable financier doit l’approuver "
        "avant le paiement." in _message(finance_a, approved_once)
    )

    approved = finance_b.post(f"/grants/tranches/{first.id}/approve")
    assert first.state == "approved"
    assert (
        "Tranche 1 is approved; a finance officer other than the requester pays it next."
        in _message(finance_b, approved)
    )


def test_the_first_approval_says_in_arabic_that_a_second_one_is_needed(world, login):
    award = make_award(world, state="active")
    award.iban, award.bic = "FR1420041010050500013M02606", "PSSTFRPPLYO"
    first = award.tranches[0]  # above the threshold: two approvals
    world.finance.locale = "ar"
    db.session.flush()
    login(world.officer).post(f"/grants/tranches/{first.id}/request")
    finance_a = login(world.finance)
    approved_once = finance_a.post(f"/grants/tranches/{first.id}/approve")
    page = _message(finance_a, approved_once)
    assert first.state == "requested"
    assert "تمت الموافقة على الدفعة 1؛ يجب أن يوافق عليها مسؤول مالي ثانٍ قبل الدفع." in page


def test_a_transition_on_a_record_page_says_the_new_state_and_the_next_step(world, login, call):
    client = login(world.applicant)
    application = _start(client, call)
    application.state, application.submitted_at = "submitted", NOW
    world.officer.locale = "es"
    db.session.flush()
    officer = login(world.officer)
    response = officer.post(f"/transitions/application/{application.id}/mark_eligible")
    assert application.state == "eligible"
    message = _message(officer, response)
    assert "A continuación se le asignan evaluadores." in message
    assert "«" in message and "Hecho:" in message
