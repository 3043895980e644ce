"""Words and numbers as each reader expects them: amounts spaced and ordered by the
locale, times without seconds, a deadline shown once with its zone, counts in the
plural form of the language, and names typed by people isolated from the sentence
around them on right-to-left pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from flask_babel import force_locale

from grants.extensions import db
from grants.moments import moment_text
from grants.numbers import money_text
from grants.services.screening import eligibility_checks
from tests.clients import text_of
from tests.fixtures.programme import NOW, make_application, make_award, make_call, make_review

NBSP, NNBSP = "\u00a0", "\u202f"


# --- amounts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "currency", "amount", "expected"),
    [
        # A symbol made of letters is set apart from the digits, in English too.
        ("en", "XOF", "18000000", f"F{NNBSP}CFA{NBSP}18,000,000"),
        ("en", "MAD", "120", f"MAD{NBSP}120.00"),
        ("en", "USD", "32000", "$32,000.00"),  # a sign stays close
        ("en", "XOF", "-2500", f"-F{NNBSP}CFA{NBSP}2,500"),
        # French puts the symbol after the number, spaced; no decimals for XOF.
        ("fr", "XOF", "18000000", f"18{NNBSP}000{NNBSP}000{NBSP}F{NNBSP}CFA"),
        ("fr", "USD", "32000", f"32{NNBSP}000,00{NBSP}$US"),
        # Arabic pages: the number first, the symbol after it, marked right-to-left.
        ("ar", "XOF", "18000000", f"\u200f18,000,000{NBSP}F{NNBSP}CFA"),
        ("es", "EUR", "1250.5", f"1.250,50{NBSP}€"),
    ],
)
def test_amounts_read_as_the_locale_writes_them(locale, currency, amount, expected):
    assert money_text(Decimal(amount), currency, locale) == expected


def test_the_officer_screening_an_application_reads_amounts_in_french(world, app):
    call = make_call(
        world, currency="XOF", min_grant=Decimal("6000000"), max_grant=Decimal("24000000")
    )
    application = make_application(world, call, state="submitted")
    application.amount_requested = Decimal("18000000")
    with app.test_request_context(), force_locale("fr"):
        checks = {check.label: check.detail for check in eligibility_checks(application)}
    detail = checks["Montant dans les limites de l’appel"]
    assert detail == (
        f"18{NNBSP}000{NNBSP}000{NBSP}F{NNBSP}CFA "
        f"(6{NNBSP}000{NNBSP}000{NBSP}F{NNBSP}CFA–24{NNBSP}000{NNBSP}000{NBSP}F{NNBSP}CFA)"
    )


# --- moments --------------------------------------------------------------------------

SUBMITTED = datetime(2027, 3, 31, 21, 58, 42, tzinfo=UTC)


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "Mar 31, 2027, 9:58\u202fPM"),
        ("fr", "31 mars 2027, 21:58"),
        ("es", "31 mar 2027, 21:58"),
        ("ar", "31\u200f/03\u200f/2027، 9:58 م"),
    ],
)
def test_times_are_shown_without_seconds(locale, expected):
    shown = moment_text(SUBMITTED, locale, "UTC")
    assert shown == expected
    assert ":42" not in shown and "42" not in shown.split("2027")[-1]


def test_the_deadline_is_shown_once_with_its_time_zone(world, login, client):
    call = make_call(world, closes_at=datetime(2027, 3, 31, 23, 59, 30, tzinfo=UTC))
    anonymous = text_of(client.get(f"/calls/{call.code}"))
    # (text_of reads every kind of space as one space)
    assert "Mar 31, 2027, 11:59 PM (Africa/Dakar)" in anonymous
    assert anonymous.count("2027, 11:59") == 1 and "59:30" not in anonymous
    assert "3/31/27" not in anonymous  # no second, shorter format of the same deadline

    world.applicant.locale, world.applicant.timezone = "fr", "Europe/Paris"
    db.session.flush()
    reader = text_of(login(world.applicant).get(f"/calls/{call.code}"))
    assert "1 avr. 2027, 01:59 (Europe/Paris)" in reader
    assert "Africa/Dakar" not in reader.split("Date limite")[1][:80]


def test_the_list_of_open_calls_says_which_zone_its_deadlines_are_in(world, login, client):
    make_call(world, closes_at=datetime.now(UTC) + timedelta(days=3))
    assert "Each deadline is shown in the call's own time zone" in text_of(client.get("/calls"))
    world.applicant.locale, world.applicant.timezone = "fr", "Europe/Paris"
    db.session.flush()
    page = text_of(login(world.applicant).get("/calls"))
    assert "Les dates limites sont affichées dans votre fuseau horaire (Europe/Paris)." in page


def test_history_times_have_no_seconds(world, login):
    from grants.models import HistoryEntry

    db.session.add(
        HistoryEntry(
            entity_type="association",
            entity_id=world.association.id,
            transition="verify",
            from_state="pending",
            to_state="verified",
            actor_label="system",
            created_at=SUBMITTED,
        )
    )
    for locale, shown in (("fr", "31 mars 2027, 21:58"), ("en", "Mar 31, 2027, 9:58 PM")):
        world.applicant.locale = locale
        db.session.flush()
        page = text_of(login(world.applicant).get(f"/associations/{world.association.id}"))
        assert shown in page
        assert not re.search(r"\d{1,2}:\d{2}:\d{2}", page)


# --- counts ---------------------------------------------------------------------------


def test_the_assignment_page_counts_in_the_readers_plural_forms(world, login):
    call = make_call(world, evaluators_per_application=1, max_reviews_per_evaluator=None)
    world.officer.locale = "fr"
    db.session.flush()
    officer = login(world.officer)
    page = text_of(officer.get(f"/office/calls/{call.code}/assignments/"))
    assert "1 évaluateur par candidature." in page
    assert "Pas de limite au nombre d’évaluations par évaluateur." in page
    assert "no limit" not in page and "sans limite" not in page

    call.evaluators_per_application, call.max_reviews_per_evaluator = 3, 12
    world.officer.locale = "ar"
    db.session.flush()
    page = text_of(login(world.officer).get(f"/office/calls/{call.code}/assignments/"))
    assert "3 مُقيِّمين لكل طلب." in page
    assert "12 تقييمًا على الأكثر لكل مُقيِّم." in page

    call.evaluators_per_application, call.max_reviews_per_evaluator = 2, 1
    world.officer.locale = "en"
    db.session.flush()
    page = text_of(login(world.officer).get(f"/office/calls/{call.code}/assignments/"))
    assert "2 evaluators per application. At most 1 review per evaluator." in page


def test_starting_the_review_counts_the_applications_in_the_readers_language(world, login):
    call = make_call(world)
    application = make_application(world, call, state="eligible")
    make_review(world, application, scored=False)
    world.officer.locale = "fr"
    db.session.flush()
    officer = login(world.officer)
    started = officer.post(f"/office/calls/{call.code}/assignments/start")
    page = text_of(officer.get(started.location))
    assert "1 candidature est désormais en cours d’évaluation." in page
    assert application.state == "in_review"


def test_starting_the_review_with_nobody_assigned_says_so_and_changes_nothing(world, login):
    call = make_call(world)
    application = make_application(world, call, state="eligible")
    world.officer.locale = "ar"
    db.session.flush()
    officer = login(world.officer)
    refused = officer.post(f"/office/calls/{call.code}/assignments/start")
    page = text_of(officer.get(refused.location))
    assert "لم يوضع أي طلب قيد التقييم: لا يوجد طلب كُلِّف به مُقيِّم." in page
    assert application.state == "eligible" and application.reviews == []


def test_the_daily_summary_counts_notifications_in_the_readers_plural_forms(app):
    from flask_babel import ngettext

    def subject(count: int) -> str:
        return ngettext(
            "Your daily summary: %(num)d notification",
            "Your daily summary: %(num)d notifications",
            count,
        )

    with app.test_request_context():
        with force_locale("fr"):
            assert subject(1) == "Votre récapitulatif quotidien : 1 notification"
            assert subject(4) == "Votre récapitulatif quotidien : 4 notifications"
        with force_locale("ar"):
            assert subject(2) == "ملخصكم اليومي: 2 إشعاران"
            assert subject(5) == "ملخصكم اليومي: 5 إشعارات"
            assert subject(11) == "ملخصكم اليومي: 11 إشعارًا"


# --- right-to-left pages --------------------------------------------------------------


def test_an_arabic_page_isolates_a_latin_association_name_and_reference(world, login):
    world.association.name = "Association des Sénégalais de Lyon (ASL)"
    application = make_application(world, make_call(world))
    application.reference = "SN-EMP-2027-0001"
    world.applicant.locale = "ar"
    db.session.flush()
    html = login(world.applicant).get(f"/applications/{application.id}").get_data(as_text=True)
    assert 'dir="rtl"' in html
    assert "<bdi>Association des Sénégalais de Lyon (ASL)</bdi>" in html
    assert "<bdi>SN-EMP-2027-0001</bdi>" in html


def test_an_isolated_name_is_escaped(world, login):
    world.association.name = "<b>Rabita</b> & co"
    application = make_application(world, make_call(world))
    world.applicant.locale = "ar"
    db.session.flush()
    html = login(world.applicant).get(f"/applications/{application.id}").get_data(as_text=True)
    assert "<bdi>&lt;b&gt;Rabita&lt;/b&gt; &amp; co</bdi>" in html
    assert "<b>Rabita</b>" not in html


def test_a_grant_that_cannot_be_completed_counts_its_open_tranches(world, app):
    from workflows.award import grant_is_finished
    from workflows.base import Context

    award = make_award(world, state="active")
    assert len(award.tranches) == 3
    with app.test_request_context():
        for locale, expected in (
            ("en", "3 tranches are neither paid nor cancelled"),
            ("fr", "3 tranches ne sont ni versées ni annulées"),
            ("ar", "3 دفعات لم تُصرف ولم تُلغَ"),
        ):
            with force_locale(locale):
                assert expected in str(grant_is_finished(award, Context(actor=None, now=NOW)))
        award.tranches[0].state = award.tranches[1].state = "cancelled"
        with force_locale("en"):
            reason = str(grant_is_finished(award, Context(actor=None, now=NOW)))
        assert "1 tranche is neither paid nor cancelled" in reason and "(s)" not in reason


def test_a_documents_size_and_time_read_in_the_readers_units(world, login):
    application = make_application(world, make_call(world))
    world.applicant.locale = "fr"
    db.session.flush()
    html = login(world.applicant).get(f"/applications/{application.id}").get_data(as_text=True)
    shown = re.search(
        r"<bdi>budget\.pdf</bdi></a> \(<bdi>([^<]*)</bdi>, <bdi>([^<]*)</bdi>\)", html
    )
    assert shown is not None
    size, moment = shown.groups()
    assert size == f"1{NNBSP}ko"
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", moment)


def test_co_financing_shares_read_as_the_reader_writes_percentages(world, login):
    call = make_call(world)
    application = make_application(world, call, state="submitted")
    application.cofinancing[0].amount = Decimal("7030")  # 18.5 % of 38,000
    db.session.flush()
    assert application.cofinancing_share == Decimal("18.50")
    for locale, shown in (("en", "18.5%"), ("fr", f"18,5{NBSP}%")):
        world.officer.locale = locale
        db.session.flush()
        html = login(world.officer).get(f"/calls/{call.code}/applications").get_data(as_text=True)
        assert f'">{shown}</td>' in html  # the cell, whatever its attributes
        assert "18.50 %" not in html


def test_a_flash_message_isolates_the_names_it_repeats(world, login):
    call = make_call(world)
    application = make_application(world, call, state="eligible")
    application.reference = "SN-EMP-2027-0042"
    world.evaluator.full_name = "Fatou <Sow>"
    world.evaluator.languages = ["en"]
    world.officer.locale = "ar"
    db.session.flush()
    officer = login(world.officer)
    assigned = officer.post(
        f"/office/calls/{call.code}/assignments/",
        data={"application_id": application.id, "evaluator_id": world.evaluator.id},
    )
    assert assigned.status_code == 303
    html = officer.get(assigned.location).get_data(as_text=True)
    assert "<bdi>Fatou &lt;Sow&gt;</bdi>" in html and "<bdi>SN-EMP-2027-0042</bdi>" in html
    assert "<Sow>" not in html
