"""Each main page and API answer runs a fixed number of statements, however much data
it shows: more reviews, applications or awards cost no more queries."""

from __future__ import annotations

import pytest

from grants.extensions import db
from grants.services.accounts import issue_token
from tests.fixtures.people import make_user
from tests.fixtures.programme import make_application, make_award, make_call, make_review
from tests.queries import cost_of, statements


@pytest.fixture
def call(world):
    return make_call(world)


def _reviewed(world, call, evaluators: int):
    application = make_application(world, call, state="in_review")
    for _ in range(evaluators):
        make_review(world, application, state="submitted", evaluator=make_user("evaluator"))
    db.session.flush()
    return application


def test_the_application_page_costs_the_same_for_one_or_six_reviews(world, login, call):
    officer = login(world.officer)
    few, many = _reviewed(world, call, 1), _reviewed(world, call, 6)
    officer.get(f"/applications/{few.id}")  # warm the caches
    assert cost_of(officer, f"/applications/{few.id}") == cost_of(
        officer, f"/applications/{many.id}"
    )


def test_the_api_application_costs_the_same_for_one_or_six_reviews(world, client, call):
    few, many = _reviewed(world, call, 1), _reviewed(world, call, 6)
    headers = {"Authorization": f"Bearer {issue_token(world.officer, world.officer, 'test', 30)}"}
    client.get(f"/api/v1/applications/{few.id}", headers=headers)
    assert cost_of(client, f"/api/v1/applications/{few.id}", headers=headers) == cost_of(
        client, f"/api/v1/applications/{many.id}", headers=headers
    )


def test_the_association_home_costs_the_same_for_two_or_twenty_applications(world, login):
    member = login(world.applicant)
    call = make_call(world)
    for _ in range(2):
        make_application(world, call)
    member.get("/")
    few = cost_of(member, "/")
    few_dashboard = cost_of(member, f"/dashboard/associations/{world.association.id}")
    for _ in range(18):
        make_application(world, call)
    assert cost_of(member, "/") == few
    assert cost_of(member, f"/dashboard/associations/{world.association.id}") == few_dashboard


def test_the_programme_and_finance_dashboards_cost_the_same_for_two_or_ten_awards(world, login):
    officer, finance = login(world.officer), login(world.finance)
    for _ in range(2):
        make_award(world, state="active")
    officer.get("/dashboard/programme")
    programme, money = (
        cost_of(officer, "/dashboard/programme"),
        cost_of(finance, "/dashboard/finance"),
    )
    for _ in range(8):
        make_award(world, state="active")
    assert cost_of(officer, "/dashboard/programme") == programme
    assert cost_of(finance, "/dashboard/finance") == money


def test_the_public_call_page_costs_the_same_for_two_or_twenty_applications(world, client):
    call = make_call(world)
    for _ in range(2):
        make_application(world, call, state="submitted")
    client.get(f"/calls/{call.code}")
    few = cost_of(client, f"/calls/{call.code}")
    for _ in range(18):
        make_application(world, call, state="submitted")
    assert cost_of(client, f"/calls/{call.code}") == few


def test_my_data_page_costs_the_same_for_one_or_five_copies(world, login):
    from grants.services.personal_data import request_export

    member = login(world.applicant)
    request_export(world.applicant)
    member.get("/account/data")
    few = cost_of(member, "/account/data")
    for _ in range(4):
        request_export(world.applicant)
    assert cost_of(member, "/account/data") == few


def test_the_retention_preview_costs_the_same_for_two_or_twenty_applications(world, login):
    from datetime import UTC, datetime

    old = make_call(world, state="closed", closes_at=datetime(2015, 1, 31, tzinfo=UTC))
    for _ in range(2):
        make_application(world, old, state="rejected")
    admin = login(world.admin)
    admin.get("/admin/retention")
    few = cost_of(admin, "/admin/retention")
    for _ in range(18):
        make_application(world, old, state="rejected")
    assert cost_of(admin, "/admin/retention") == few


def test_the_anonymisation_page_costs_the_same_whatever_the_person_wrote(world, login):
    admin = login(world.admin)
    path = f"/admin/users/{world.applicant.id}/anonymise"
    call = make_call(world)
    make_application(world, call)
    admin.get(path)
    few = cost_of(admin, path)
    for _ in range(10):
        make_application(world, call)
    assert cost_of(admin, path) == few


def test_the_api_application_list_costs_the_same_for_ten_or_forty_applications(world, client, call):
    """Applications in every state an officer acts on, with reviews: what their guards
    read is loaded once for the page, whoever asks. (The call's own questions are looked
    up once per call of the page.)"""
    states = ("draft", "submitted", "eligible", "in_review", "reviewed")

    def add(count: int) -> None:
        for number in range(count):
            application = make_application(world, call, state=states[number % 5])
            if application.state in ("in_review", "reviewed"):
                make_review(world, application, state="submitted")
        db.session.flush()

    for person in (world.officer, world.applicant):
        headers = {"Authorization": f"Bearer {issue_token(person, person, 'test', 30)}"}
        add(10)
        client.get("/api/v1/applications?per_page=100", headers=headers)  # warm the caches
        few = cost_of(client, "/api/v1/applications?per_page=100", headers=headers)
        add(30)
        assert cost_of(client, "/api/v1/applications?per_page=100", headers=headers) == few


def test_a_ranking_page_seen_again_reads_no_application_nor_score(world, login, call):
    """The ranking and its rendered rows are kept under the call's stamp: seen again, the
    page reads the stamp, not the call's applications, reviews or scores."""
    officer = login(world.officer)
    for _ in range(3):
        _reviewed(world, call, 2)
    url = f"/office/calls/{call.code}/ranking/"
    first = officer.get(url).get_data(as_text=True)
    with statements() as seen:
        again = officer.get(url).get_data(as_text=True)

    def rows(page: str) -> str:
        return page[page.index("<tbody>") : page.index("</tbody>")]

    assert rows(again) == rows(first)
    read = " ".join(seen)
    for table in ("applications", "reviews", "scores"):
        assert f"FROM {table}" not in read and f"JOIN {table}" not in read, table
