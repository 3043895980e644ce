"""Paying, approving, bank details, roles and tokens ask the person to confirm who they
are when their last confirmation is older than REAUTHENTICATE_AFTER_MINUTES (15): on the
pages through the confirmation page, which brings them back to their form; on the API
with a token issued within the window or a second-factor code in a header."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import pytest
import time_machine
from sqlalchemy import func, select

from config import ConfigError, load_settings
from grants.extensions import db, security
from grants.models.accounts import ApiToken
from grants.services.accounts import issue_token
from tests.clients import text_of
from tests.fixtures.people import PASSWORD
from tests.fixtures.programme import make_award

T = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
STALE = T + timedelta(minutes=16)


def _code(user) -> str:
    user.tf_totp_last_counter = None
    return security.totp_factory.generate_totp_password(user.tf_totp_secret)


def _requested_tranche(world):
    award = make_award(world, state="active")
    tranche = award.tranches[0]
    tranche.state = "requested"
    tranche.requested_by_id = world.officer.id
    db.session.flush()
    return tranche


def test_an_old_sign_in_is_asked_to_confirm_before_approving_and_comes_back(world, login):
    tranche = _requested_tranche(world)
    with time_machine.travel(T, tick=False):
        finance = login(world.finance)
    with time_machine.travel(STALE, tick=False):
        asked = finance.post(
            f"/grants/tranches/{tranche.id}/approve",
            headers={"Referer": "http://grants.test/finance/?queue=approve"},
        )
        assert asked.status_code == 303
        assert unquote(asked.location) == "/verify?next=/finance/?queue=approve"
        assert tranche.state == "requested" and not tranche.approvals

        page = finance.get(asked.location)
        assert page.status_code == 200
        shown = text_of(page)
        assert "Confirm it is you" in shown and "more than 15 minutes old" in shown

        wrong = finance.post(asked.location, data={"password": "not-my-password"})
        assert wrong.status_code == 200 and "Invalid password" in text_of(wrong)
        bad_code = finance.post(asked.location, data={"code": "000000"})
        assert "not the current code of your authenticator app" in text_of(bad_code)
        nothing = finance.post(asked.location, data={})
        assert "Give your password, or the code of your app." in text_of(nothing)
        still = finance.post(f"/grants/tranches/{tranche.id}/approve")
        assert still.location.startswith("/verify") and not tranche.approvals

        confirmed = finance.post(asked.location, data={"code": _code(world.finance)})
        assert confirmed.status_code == 302
        assert confirmed.location == "/finance/?queue=approve"
        done = finance.post(f"/grants/tranches/{tranche.id}/approve")
        assert done.status_code == 303 and "/verify" not in done.location
        assert tranche.current_approver_ids == {world.finance.id}


def test_within_the_window_nothing_is_asked_and_being_busy_does_not_stretch_it(world, login):
    award = make_award(world, state="active")
    first, second = award.tranches[0], award.tranches[1]
    second.condition_report_id = None
    for tranche in (first, second):
        tranche.state, tranche.requested_by_id = "requested", world.officer.id
    with time_machine.travel(T, tick=False):
        finance = login(world.finance)
    with time_machine.travel(T + timedelta(minutes=14), tick=False):
        finance.post(f"/grants/tranches/{first.id}/approve")
        assert first.current_approver_ids == {world.finance.id}
    with time_machine.travel(T + timedelta(minutes=15, seconds=1), tick=False):
        asked = finance.post(f"/grants/tranches/{second.id}/approve")
        assert asked.location.startswith("/verify") and not second.approvals


def test_a_password_confirms_and_paying_asks_the_same(world, login):
    tranche = _requested_tranche(world)
    tranche.award.iban, tranche.award.bic = "FR1420041010050500013M02606", "PSSTFRPPLYO"
    tranche.state = "approved"
    db.session.flush()
    payment = {"payment_date": "2026-11-20", "bank_reference": "R-1", "amount": "12800.00"}
    with time_machine.travel(T, tick=False):
        finance = login(world.finance_b)
    with time_machine.travel(STALE, tick=False):
        asked = finance.post(
            f"/grants/tranches/{tranche.id}/pay",
            data={**payment, "next": f"/grants/{tranche.award_id}"},
        )
        assert asked.location == f"/verify?next=/grants/{tranche.award_id}"
        assert tranche.state == "approved"
        back = finance.post(asked.location, data={"password": PASSWORD})
        assert back.location == f"/grants/{tranche.award_id}"
        paid = finance.post(f"/grants/tranches/{tranche.id}/pay", data=payment)
        assert paid.status_code == 303 and tranche.state == "paid"


def test_granting_a_role_asks_and_changes_nothing_until_confirmed(world, login):
    with time_machine.travel(T, tick=False):
        admin = login(world.admin)
    with time_machine.travel(STALE, tick=False):
        page = f"http://grants.test/admin/users/{world.evaluator.id}"
        asked = admin.post(
            f"/admin/users/{world.evaluator.id}/roles",
            data={"role": "finance_officer"},
            headers={"Referer": page},
        )
        assert asked.location == f"/verify?next=/admin/users/{world.evaluator.id}"
        assert "finance_officer" not in world.evaluator.role_names
        assert admin.post(asked.location, data={"code": _code(world.admin)}).status_code == 302
        granted = admin.post(
            f"/admin/users/{world.evaluator.id}/roles", data={"role": "finance_officer"}
        )
        assert granted.status_code == 302
        assert "finance_officer" in world.evaluator.role_names


def test_creating_a_token_on_the_page_asks_but_reading_the_list_does_not(world, login):
    with time_machine.travel(T, tick=False):
        awa = login(world.applicant)
    with time_machine.travel(STALE, tick=False):
        assert awa.get("/account/tokens").status_code == 200
        asked = awa.post(
            "/account/tokens",
            data={"name": "laptop", "days": "30"},
            headers={"Referer": "http://grants.test/account/tokens"},
        )
        assert asked.location == "/verify?next=/account/tokens"
        assert db.session.scalar(select(func.count(ApiToken.id))) == 0
        # No second factor: the page asks for the password only.
        form = text_of(awa.get(asked.location))
        assert "Password" in form and "authenticator app" not in form
        awa.post(asked.location, data={"password": PASSWORD})
        made = awa.post("/account/tokens", data={"name": "laptop", "days": "30"})
        assert made.status_code == 200 and "dg_" in made.get_data(as_text=True)


def test_asking_for_new_bank_details_and_deciding_them_ask_first(world, login):
    award = make_award(world, state="active")
    new_account = {
        "account_holder": "ASLD Bruxelles",
        "iban": "BE68539007547034",
        "bank_name": "Belfius",
        "bic": "GKCCBEBB",
        "reason": "The association moved its account.",
    }
    with time_machine.travel(T, tick=False):
        awa, finance = login(world.applicant), login(world.finance)
    with time_machine.travel(STALE, tick=False):
        asked = awa.post(f"/grants/{award.id}/bank-details", data=new_account)
        assert asked.location.startswith("/verify") and not award.bank_change_pending
        awa.post(asked.location, data={"password": PASSWORD})
        assert awa.post(f"/grants/{award.id}/bank-details", data=new_account).status_code == 303
        assert award.bank_change_pending

        change_id = db.session.scalar(
            select(db.text("id")).select_from(db.text("bank_details_changes"))
        )
        decided = finance.post(f"/grants/bank-changes/{change_id}/approve")
        assert decided.location.startswith("/verify") and award.bank_change_pending
        finance.post(decided.location, data={"password": PASSWORD})
        finance.post(f"/grants/bank-changes/{change_id}/approve")
        assert not award.bank_change_pending and award.iban == "BE68539007547034"


# --- API ------------------------------------------------------------------------------------


def test_an_old_token_needs_a_second_factor_code_to_approve(world, client):
    tranche = _requested_tranche(world)
    with time_machine.travel(T, tick=False):
        token = {"Authorization": f"Bearer {issue_token(world.finance, world.finance, 'desk', 30)}"}
    url = f"/api/v1/tranches/{tranche.id}/transitions"
    with time_machine.travel(STALE, tick=False):
        refused = client.post(url, json={"name": "approve"}, headers=token)
        assert refused.status_code == 401
        body = refused.get_json()
        assert body["code"] == "unauthenticated"
        assert "X-Second-Factor-Code" in body["message"] and "15 minutes" in body["message"]
        assert not tranche.approvals
        wrong = client.post(
            url, json={"name": "approve"}, headers={**token, "X-Second-Factor-Code": "000000"}
        )
        assert wrong.status_code == 401 and "is not right" in wrong.get_json()["message"]
        assert not tranche.approvals
        # Reading needs nothing more.
        assert client.get(f"/api/v1/tranches/{tranche.id}", headers=token).status_code == 200
        done = client.post(
            url,
            json={"name": "approve"},
            headers={**token, "X-Second-Factor-Code": _code(world.finance)},
        )
        assert done.status_code == 200, done.get_json()
        assert tranche.current_approver_ids == {world.finance.id}


def test_a_new_token_is_fresh_and_a_person_without_an_app_gets_a_new_token(world, client):
    award = make_award(world, state="active")
    new_account = {
        "account_holder": "ASLD Bruxelles",
        "iban": "BE68539007547034",
        "bank_name": "Belfius",
        "bic": "GKCCBEBB",
        "reason": "The association moved its account.",
    }
    url = f"/api/v1/awards/{award.id}/bank-changes"
    with time_machine.travel(T, tick=False):
        token = {
            "Authorization": f"Bearer {issue_token(world.applicant, world.applicant, 'phone', 30)}"
        }
    with time_machine.travel(STALE, tick=False):
        refused = client.post(url, json=new_account, headers=token)
        assert refused.status_code == 401 and not award.bank_change_pending
        no_app = client.post(
            url, json=new_account, headers={**token, "X-Second-Factor-Code": "123456"}
        )
        assert no_app.status_code == 401 and not award.bank_change_pending
        fresh = client.post(
            "/api/v1/tokens",
            json={"email": world.applicant.email, "password": PASSWORD, "name": "again"},
        ).get_json()["token"]
        done = client.post(url, json=new_account, headers={"Authorization": f"Bearer {fresh}"})
        assert done.status_code == 201 and award.bank_change_pending


def test_granting_a_role_through_the_api_with_an_old_token_is_refused(world, client):
    with time_machine.travel(T, tick=False):
        token = {"Authorization": f"Bearer {issue_token(world.admin, world.admin, 'desk', 30)}"}
    url = f"/api/v1/users/{world.evaluator.id}/roles"
    with time_machine.travel(STALE, tick=False):
        refused = client.post(url, json={"role": "admin"}, headers=token)
        assert refused.status_code == 401 and "admin" not in world.evaluator.role_names
        done = client.post(
            url,
            json={"role": "admin"},
            headers={**token, "X-Second-Factor-Code": _code(world.admin)},
        )
        assert done.status_code == 200 and "admin" in world.evaluator.role_names


def test_the_window_is_a_setting_of_at_least_one_minute():
    assert load_settings({"REAUTHENTICATE_AFTER_MINUTES": "5"})["REAUTHENTICATE_AFTER_MINUTES"] == 5
    with pytest.raises(ConfigError, match="REAUTHENTICATE_AFTER_MINUTES must be at least 1"):
        load_settings({"REAUTHENTICATE_AFTER_MINUTES": "0"})


def test_a_copy_of_ones_data_and_an_anonymisation_ask_first(world, login):
    from grants.models.privacy import DataExport

    with time_machine.travel(T, tick=False):
        awa, admin = login(world.applicant), login(world.admin)
    with time_machine.travel(STALE, tick=False):
        asked = awa.post("/account/data", data={})
        assert asked.location.startswith("/verify")
        assert db.session.scalar(select(func.count(DataExport.id))) == 0
        refused = admin.post(
            f"/admin/users/{world.outsider.id}/anonymise",
            data={"confirmation": world.outsider.email},
        )
        assert refused.location.startswith("/verify") and world.outsider.anonymised_at is None
