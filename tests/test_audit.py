"""The audit trail: each sensitive change and staff download leaves one row (who, when,
from where, before and after), the database refuses to change or delete it, and admins
read it on a page, as a file and through the API."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from grants.extensions import db
from grants.models import AuditRow, Call, Document
from grants.services import audit
from grants.services import webhooks as webhook_service
from grants.services.accounts import issue_token, user_tokens
from tests.calls.test_calls import NEXT_YEAR, SENEGAL
from tests.clients import text_of
from tests.fixtures.people import PASSWORD, make_user
from tests.fixtures.programme import make_application, make_call
from tests.queries import cost_of

ADDRESS = "203.0.113.7"
BROWSER = "Mozilla/5.0 (Audit test) Firefox/140.0"
FROM_THERE = {"environ_base": {"REMOTE_ADDR": ADDRESS}, "headers": {"User-Agent": BROWSER}}


def rows(kind: str | None = None) -> list[AuditRow]:
    statement = select(AuditRow).order_by(AuditRow.id)
    if kind:
        statement = statement.where(AuditRow.kind == kind)
    return list(db.session.scalars(statement))


def count() -> int:
    return db.session.scalar(select(func.count(AuditRow.id)))


def card_of(response) -> str:
    """The visible text of a page's audit card (absent: empty)."""
    html = response.get_data(as_text=True)
    start = html.find('id="audit-heading"')
    return "" if start < 0 else text_of_html(html[html.rfind("<", 0, start) :])


def table_of(response) -> str:
    """The visible text of the rows of the trail's table."""
    html = response.get_data(as_text=True)
    return text_of_html(html[html.find("<tbody>") : html.find("</tbody>")])


def text_of_html(html: str) -> str:
    return text_of(type("Page", (), {"get_data": lambda self, as_text=True: html})())


def _bearer(person) -> dict:
    return {
        "Authorization": f"Bearer {issue_token(person, person, 'audit', 30)}",
        "User-Agent": BROWSER,
    }


# --- what writes a row ------------------------------------------------------------------


def test_who_made_this_person_a_finance_officer_when_and_from_where(world, login):
    world.admin.timezone = "Asia/Beirut"
    person = make_user("applicant", full_name="Awa Diop")
    moment = datetime(2027, 3, 1, 14, 0, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        admin = login(world.admin)
        granted = admin.post(
            f"/admin/users/{person.id}/roles", data={"role": "finance_officer"}, **FROM_THERE
        )
    assert granted.status_code == 302
    [row] = rows("role.granted")
    assert (row.actor_id, row.record_type, row.record_id) == (world.admin.id, "user", person.id)
    assert (row.remote_address, row.user_agent, row.at) == (ADDRESS, BROWSER, moment)
    assert row.changes == {"roles": [["applicant"], ["applicant", "finance_officer"]]}

    with time_machine.travel(moment + timedelta(minutes=5), tick=False):
        audit_card = card_of(admin.get(f"/admin/users/{person.id}"))
    assert "Role granted" in audit_card and world.admin.display_name in audit_card
    assert ADDRESS in audit_card and BROWSER in audit_card
    assert "applicant → applicant, finance_officer" in audit_card
    # In the reader's time: 14:00 UTC is 16:00 in Beirut.
    assert "Mar 1, 2027, 4:00 PM" in audit_card and "2:00 PM" not in audit_card


def test_roles_and_activation_through_the_api_are_audited(world, client):
    person = make_user("applicant", "finance_officer")
    headers = _bearer(world.admin)
    removed = client.delete(f"/api/v1/users/{person.id}/roles/finance_officer", headers=headers)
    assert removed.status_code == 200
    off = client.patch(f"/api/v1/users/{person.id}", json={"active": False}, headers=headers)
    on = client.patch(f"/api/v1/users/{person.id}", json={"active": True}, headers=headers)
    assert off.status_code == on.status_code == 200
    [removal] = rows("role.removed")
    assert removal.changes == {"roles": [["applicant", "finance_officer"], ["applicant"]]}
    [deactivated] = rows("account.deactivated")
    [activated] = rows("account.activated")
    assert deactivated.changes == {"active": [True, False]}
    assert activated.changes == {"active": [False, True]}
    for row in (removal, deactivated, activated):
        assert (row.actor_id, row.record_id) == (world.admin.id, person.id)
        assert row.remote_address == "127.0.0.1" and row.user_agent == BROWSER


def test_a_refused_role_change_leaves_no_row(world, login):
    admin = login(world.admin)
    before = count()
    refused = admin.post(f"/admin/users/{world.admin.id}/roles/admin/remove")
    assert refused.status_code == 409
    assert count() == before


def test_the_command_line_acts_as_nobody_and_says_so(app):
    runner = app.test_cli_runner()
    created = runner.invoke(
        args=["users", "create", "cli@example.org", "--role", "evaluator", "--password-stdin"],
        input="a-long-and-unusual-passphrase-2027\n",
    )
    assert created.exit_code == 0, created.output
    token = runner.invoke(args=["users", "token", "cli@example.org"])
    assert token.exit_code == 0, token.output
    [account] = rows("account.created")
    [issued] = rows("token.created")
    for row in (account, issued):
        assert row.actor_id is None and row.note == audit.COMMAND_LINE
        assert row.remote_address is None and row.user_agent is None
    assert account.changes == {"roles": [[], ["evaluator"]]}
    assert issued.changes["owner"] == [None, "cli@example.org"]


def test_api_tokens_created_and_revoked_on_the_account_page(world, login):
    person = login(world.officer)
    made = person.post("/account/tokens", data={"name": "reporting", "days": "30"}, **FROM_THERE)
    assert made.status_code == 200
    token = user_tokens(world.officer)[0]
    person.post(f"/account/tokens/{token.id}/revoke", **FROM_THERE)
    [created] = rows("token.created")
    [revoked] = rows("token.revoked")
    assert created.changes["name"] == [None, "reporting"] and created.changes["days"] == [None, 30]
    for row in (created, revoked):
        assert (row.actor_id, row.record_type, row.record_id) == (
            world.officer.id,
            "token",
            token.id,
        )
        assert (row.remote_address, row.user_agent) == (ADDRESS, BROWSER)
    assert token.token_hash not in str(created.changes)


def test_call_edits_before_and_after_publication(world, login):
    officer = login(world.officer)
    officer.post("/office/calls/new", data=SENEGAL, **FROM_THERE)
    call = db.session.scalar(select(Call).where(Call.code == SENEGAL["code"]))
    [created] = rows("call.created")
    assert created.changes["envelope"] == [None, "240000"]
    saved = officer.post(
        f"/office/calls/{call.code}/edit",
        data={**SENEGAL, "version": str(call.version), "envelope": "250000"},
        **FROM_THERE,
    )
    assert saved.status_code == 303
    [edited] = rows("call.edited")
    # Only what changed: the other amounts read back as 10000.00 are the same 10000.
    assert edited.changes == {"envelope": ["240000", "250000"]}
    officer.post(f"/transitions/call/{call.id}/publish", **FROM_THERE)
    [published] = rows("call.publish")
    assert published.changes == {"state": ["draft", "open"]}
    officer.post(
        f"/office/calls/{call.code}/extend",
        data={"closes_at": f"{NEXT_YEAR}-04-15T23:59"},
        **FROM_THERE,
    )
    [extended] = rows("call.extend_deadline")
    assert extended.changes == {
        "closes_at": [f"{NEXT_YEAR}-04-01T04:59:00+00:00", f"{NEXT_YEAR}-04-16T04:59:00+00:00"]
    }
    for row in (created, edited, published, extended):
        assert (row.actor_id, row.record_type, row.record_id) == (world.officer.id, "call", call.id)
        assert (row.remote_address, row.user_agent) == (ADDRESS, BROWSER)
    page = card_of(officer.get(f"/calls/{call.code}"))
    assert "Call deadline extended" in page and "Call edited" in page


def test_webhooks_created_changed_paused_rotated_and_removed(app, world):
    with app.test_request_context("/", **FROM_THERE):
        endpoint, secret = webhook_service.create_endpoint(
            world.admin, "https://erp.example.org/hooks", "ERP", ["application.submit"]
        )
        webhook_service.update_endpoint(
            world.admin, endpoint, "https://erp.example.org/v2", "ERP", ["application.submit"]
        )
        webhook_service.set_active(world.admin, endpoint, False)
        rotated = webhook_service.rotate_secret(world.admin, endpoint)
        webhook_service.delete_endpoint(world.admin, endpoint)
    found = rows()
    assert [row.kind for row in found] == [
        "webhook.created",
        "webhook.edited",
        "webhook.deactivated",
        "webhook.secret_rotated",
        "webhook.removed",
    ]
    assert found[1].changes == {
        "url": ["https://erp.example.org/hooks", "https://erp.example.org/v2"]
    }
    for row in found:
        assert (row.actor_id, row.record_id) == (world.admin.id, endpoint.id)
        assert (row.remote_address, row.user_agent) == (ADDRESS, BROWSER)
        assert secret not in str(row.changes) and rotated not in str(row.changes)


def test_sign_ins_refusals_and_password_changes(world, client):
    person = make_user("applicant")
    wrong = client.post("/login", data={"email": person.email, "password": "nope"}, **FROM_THERE)
    unknown = client.post(
        "/login", data={"email": "Nobody@Example.org", "password": "nope"}, **FROM_THERE
    )
    assert wrong.status_code == unknown.status_code == 200
    refused_known, refused_unknown = rows("login.failed")
    assert (refused_known.actor_id, refused_known.record_id) == (None, person.id)
    assert refused_known.actor_email == person.email and refused_known.note == "password"
    assert (refused_unknown.actor_id, refused_unknown.record_type) == (None, None)
    assert refused_unknown.actor_email == "Nobody@Example.org"
    for row in (refused_known, refused_unknown):
        assert (row.remote_address, row.user_agent) == (ADDRESS, BROWSER)

    signed_in = client.post(
        "/login", data={"email": person.email, "password": PASSWORD}, **FROM_THERE
    )
    assert signed_in.status_code == 302
    [login] = rows("login.succeeded")
    assert (login.actor_id, login.record_id, login.note) == (person.id, person.id, "password")
    changed = client.post(
        "/change",
        data={
            "password": PASSWORD,
            "new_password": "a-long-and-unusual-passphrase-2027",
            "new_password_confirm": "a-long-and-unusual-passphrase-2027",
        },
        **FROM_THERE,
    )
    assert changed.status_code in (200, 302), text_of(changed)[:500]
    [change] = rows("password.changed")
    assert (change.actor_id, change.remote_address) == (person.id, ADDRESS)
    assert len(rows("login.succeeded")) == 1  # the renewed session is not a sign-in


def test_a_refused_json_login_keeps_its_row_though_the_request_rolls_back(client):
    person = make_user("applicant")
    refused = client.post(
        "/login",
        json={"email": person.email, "password": "not-the-password"},
        headers={"X-CSRFToken": client.csrf_token(), "User-Agent": BROWSER},
    )
    assert refused.status_code == 400
    [row] = rows("login.failed")
    assert (row.record_id, row.actor_email, row.user_agent) == (person.id, person.email, BROWSER)


def test_a_password_reset_is_audited(client, mailbox):
    person = make_user("applicant", email="forgetful@example.org")
    client.post("/reset", data={"email": person.email})
    [message] = mailbox.to(person.email)
    link = re.search(r"https?://\S+/reset/\S+", mailbox.body(message)).group(0)
    new_password = "another-long-passphrase-77"
    done = client.post(
        link.replace("http://grants.test", ""),
        data={"password": new_password, "password_confirm": new_password},
        **FROM_THERE,
    )
    assert done.status_code == 302
    [reset] = rows("password.reset")
    assert (reset.actor_id, reset.record_id, reset.remote_address) == (
        person.id,
        person.id,
        ADDRESS,
    )


def test_a_second_factor_set_up_at_sign_in_is_audited_once(client, login):
    from grants.extensions import security

    officer = make_user("finance_officer")
    officer.tf_primary_method = officer.tf_totp_secret = None
    started = client.post("/login", data={"email": officer.email, "password": PASSWORD})
    assert "/tf-setup" in started.location
    client.post("/tf-setup", data={"setup": "authenticator"})
    with client.session_transaction() as session:
        secret = session["tf_totp_secret"]
    code = security.totp_factory.generate_totp_password(secret)
    confirmed = client.post("/tf-validate", data={"code": code}, **FROM_THERE)
    assert confirmed.status_code == 302
    [factor] = rows("second_factor.changed")
    assert (factor.actor_id, factor.remote_address) == (officer.id, ADDRESS)
    assert factor.changes == {"method": [None, "authenticator"]}
    # Signing in again with the code changes nothing of the second factor.
    login(officer)
    assert len(rows("second_factor.changed")) == 1
    assert len(rows("login.succeeded")) == 2


def test_a_second_factor_set_up_through_the_api_is_audited(client):
    from grants.extensions import security

    person = make_user("applicant")
    body = {"email": person.email, "password": PASSWORD}
    started = client.post("/api/v1/tokens/two-factor", json=body, headers={"User-Agent": BROWSER})
    assert started.status_code == 201
    code = security.totp_factory.generate_totp_password(person.tf_totp_pending_secret)
    made = client.post(
        "/api/v1/tokens",
        json={**body, "code": code, "name": "phone", "days": 30},
        headers={"User-Agent": BROWSER},
    )
    assert made.status_code == 201, made.get_json()
    [factor] = rows("second_factor.changed")
    assert factor.actor_id == person.id and factor.changes == {"method": [None, "authenticator"]}
    assert rows("token.created")[0].actor_id == person.id


# --- reads that are audited ---------------------------------------------------------------


def _budget(world) -> tuple[Call, Document]:
    call = make_call(world)
    application = make_application(world, call, state="submitted")
    return call, application.current_documents[0]


def test_who_downloaded_this_budget(world, login):
    call, budget = _budget(world)
    officer, member = login(world.officer), login(world.applicant)
    got = officer.get(f"/documents/{budget.id}", **FROM_THERE)
    assert got.status_code == 302
    own = member.get(f"/documents/{budget.id}")
    assert own.status_code == 302
    [download] = rows("document.downloaded")
    assert (download.actor_id, download.record_type, download.record_id) == (
        world.officer.id,
        "document",
        budget.id,
    )
    assert (download.remote_address, download.user_agent) == (ADDRESS, BROWSER)
    assert download.note == "budget.pdf"
    # The application's page, for the staff, answers the question; members see no card.
    card = card_of(officer.get(f"/applications/{budget.application_id}"))
    assert "Document downloaded" in card and "budget.pdf" in card
    assert world.officer.display_name in card and ADDRESS in card
    assert card_of(member.get(f"/applications/{budget.application_id}")) == ""
    # The admin finds it by record too.
    admin = login(world.admin)
    found = table_of(admin.get(f"/admin/audit?record_type=document&record_id={budget.id}"))
    assert "Document downloaded" in found and world.officer.display_name in found


def test_api_downloads_and_exports_by_staff_are_audited(app, world, client, login):
    call, budget = _budget(world)
    store = app.extensions["document_store"]
    store.put(budget.storage_key, io.BytesIO(b"%PDF-1.4 budget"), "application/pdf")
    headers = _bearer(world.officer)
    assert client.get(f"/api/v1/documents/{budget.id}/content", headers=headers).status_code in (
        200,
        302,
    )
    exported = client.get(f"/api/v1/exports/applications?call={call.code}", headers=headers)
    assert exported.status_code == 200 and exported.get_data()
    officer = login(world.officer)
    web = officer.get(f"/office/calls/{call.code}/applications.xlsx", **FROM_THERE)
    assert web.status_code == 200 and web.get_data()
    [document] = rows("document.downloaded")
    api_export, web_export = rows("export.downloaded")
    assert document.record_id == budget.id and document.user_agent == BROWSER
    assert (api_export.record_type, api_export.record_id) == ("call", call.id)
    assert api_export.note == f"applications-{call.code}.csv"
    assert web_export.note == f"applications-{call.code}.xlsx"
    assert (web_export.actor_id, web_export.remote_address) == (world.officer.id, ADDRESS)


# --- append-only -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_rows SET note = 'rewritten'", "DELETE FROM audit_rows"]
)
def test_the_database_refuses_to_change_or_delete_a_row(world, statement):
    audit.record(world.admin, "role.granted", ("user", world.officer.id))
    with pytest.raises(DBAPIError, match="append-only"):
        with db.session.begin_nested():
            db.session.execute(text(statement))
    assert count() == 1 and rows()[0].note == ""


# --- the page, the file and the API ----------------------------------------------------------


def _many(world, number: int, start: datetime | None = None) -> None:
    moment = start or datetime(2027, 1, 1, 12, tzinfo=UTC)
    for index in range(number):
        with time_machine.travel(moment + timedelta(days=index), tick=False):
            audit.record(
                world.admin if index % 2 else world.officer,
                "role.granted" if index % 2 else "call.edited",
                ("user" if index % 2 else "call", 1000 + index),
                {"envelope": [str(index), str(index + 1)]},
            )


def test_the_page_pages_by_key_and_filters(world, login):
    _many(world, 60)
    admin = login(world.admin)
    first = admin.get("/admin/audit")
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and html.count('data-label="Who"') == audit.PER_PAGE
    assert "Older" in html and " of " not in text_of(first)
    older = admin.get(f"/admin/audit?before={rows()[10].id}")
    assert older.get_data(as_text=True).count('data-label="Who"') == 10
    assert "Older</a>" not in older.get_data(as_text=True)

    by_kind = admin.get("/admin/audit?kind=role.granted")
    assert by_kind.get_data(as_text=True).count('data-label="Who"') == 30
    assert "Call edited" not in table_of(by_kind)
    by_person = table_of(admin.get(f"/admin/audit?email={world.officer.email.upper()}"))
    assert "Call edited" in by_person and "Role granted" not in by_person
    by_record = admin.get("/admin/audit?record_type=user&record_id=1001").get_data(as_text=True)
    assert by_record.count('data-label="Who"') == 1
    # Days 0 to 2 of the rows, in the admin's time.
    period = admin.get("/admin/audit?since=2027-01-01&until=2027-01-03").get_data(as_text=True)
    assert period.count('data-label="Who"') == 3


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("since=2026-13-40", "since", "Give a date as YYYY-MM-DD"),
        ("kind=role.invented", "kind", "Unknown kind of event"),
        ("since=2027-02-01&until=2027-01-01", "until", "must not be before its start"),
        ("record_type=user&record_id=twelve", "record_id", "whole number"),
        ("record_type=planet", "record_type", "Unknown kind of record"),
    ],
)
def test_bad_filters_are_answered_beside_the_field(world, login, client, query, field, message):
    _many(world, 3)
    admin = login(world.admin)
    before = count()
    page = admin.get(f"/admin/audit?{query}")
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert f'id="filter-{field}-error"' in html and message in html
    assert 'aria-invalid="true"' in html
    file = admin.get(f"/admin/audit.csv?{query}")
    assert file.status_code == 422 and message in file.get_data(as_text=True)
    api = client.get(f"/api/v1/audit?{query}", headers=_bearer(world.admin))
    assert api.status_code == 422 and message in api.get_json()["errors"][field][0]
    assert count() == before + 1  # only the admin's token


def test_the_filtered_rows_as_csv_and_xlsx(world, login):
    _many(world, 6)
    admin = login(world.admin)
    response = admin.get("/admin/audit.csv?kind=role.granted")
    assert response.status_code == 200
    body = response.get_data(as_text=True).lstrip("\ufeff")
    table = list(csv.reader(io.StringIO(body)))
    assert table[0][:5] == ["Number", "When (UTC)", "Who", "Email", "Event"]
    assert len(table) == 4 and {line[4] for line in table[1:]} == {"role.granted"}
    assert table[1][9] == 'envelope: "5" → "6"'
    xlsx = admin.get("/admin/audit.xlsx")
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"
    exports = rows("export.downloaded")
    assert [row.note for row in exports] == ["audit-trail.csv", "audit-trail.xlsx"]
    assert exports[0].actor_id == world.admin.id


def test_the_api_gives_the_trail_to_admins_by_key(world, client):
    _many(world, 7)
    headers = _bearer(world.admin)
    first = client.get("/api/v1/audit?kind=role.granted&per_page=2", headers=headers)
    assert first.status_code == 200
    page = first.get_json()
    assert [item["kind"] for item in page["items"]] == ["role.granted"] * 2
    assert page["items"][0]["changes"] == {"envelope": ["5", "6"]}
    assert page["items"][0]["actor_email"] == world.admin.email
    following = client.get(page["next"], headers=headers).get_json()
    assert [item["record_id"] for item in following["items"]] == [1001]
    assert following["next"] is None


@pytest.mark.parametrize("role", ["applicant", "evaluator", "programme_officer", "finance_officer"])
def test_only_admins_read_the_trail(world, login, client, role):
    person = world.person(role)
    reader = login(person)
    assert reader.get("/admin/audit").status_code == 403
    assert reader.get("/admin/audit.csv").status_code == 403
    assert client.get("/api/v1/audit", headers=_bearer(person)).status_code == 403


def test_evaluators_never_see_a_records_trail(world, login):
    call, budget = _budget(world)
    login(world.officer).get(f"/documents/{budget.id}")
    evaluator = login(world.evaluator)
    assert card_of(evaluator.get(f"/calls/{call.code}")) == ""
    assert card_of(login(world.applicant).get(f"/calls/{call.code}")) == ""
    assert "Nothing about this record" in card_of(login(world.officer).get(f"/calls/{call.code}"))


def test_the_page_costs_the_same_for_few_or_many_rows(world, login):
    admin = login(world.admin)
    _many(world, 3)
    admin.get("/admin/audit")
    few = cost_of(admin, "/admin/audit")
    _many(world, 40, start=datetime(2027, 6, 1, tzinfo=UTC))
    assert cost_of(admin, "/admin/audit") == few
    person = make_user("applicant")
    card = cost_of(admin, f"/admin/users/{person.id}")
    for index in range(8):
        audit.record(world.admin, "role.granted", ("user", person.id), {"roles": [[], [index]]})
    assert cost_of(admin, f"/admin/users/{person.id}") == card
