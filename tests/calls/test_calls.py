"""Programme officers create, publish, extend and close calls through the pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import Call, HistoryEntry
from grants.orm import utcnow
from tests.clients import text_of

NEXT_YEAR = utcnow().year + 1
SENEGAL = {
    "code": "SN-EMP-2099",
    "language": "en",
    "title_en": "Diaspora for Youth Employment — Senegal",
    "description_en": "Grants for associations creating jobs for young people in Senegal.",
    "title_fr": "La diaspora pour l'emploi des jeunes — Sénégal",
    "sector": "employment",
    "countries": ["SN"],
    "sdg_targets": "8.6, 4.4, 10.c",
    "currency": "USD",
    "envelope": "240000",
    "min_grant": "10000",
    "max_grant": "40000",
    "min_cofinancing_share": "15",
    "timezone": "America/Guayaquil",
    "opens_at": f"{NEXT_YEAR}-02-01T00:00",
    "closes_at": f"{NEXT_YEAR}-03-31T23:59",
    "require_verified_association": "y",
    "criteria-0-name": "Relevance",
    "criteria-0-weight": "30",
    "criteria-0-scale_min": "0",
    "criteria-0-scale_max": "5",
    "criteria-1-name": "Feasibility",
    "criteria-1-weight": "25",
    "criteria-1-scale_min": "0",
    "criteria-1-scale_max": "5",
    "criteria-2-name": "Impact and sustainability",
    "criteria-2-weight": "25",
    "criteria-2-scale_min": "0",
    "criteria-2-scale_max": "5",
    "criteria-3-name": "Co-financing and partnerships",
    "criteria-3-weight": "10",
    "criteria-3-scale_min": "0",
    "criteria-3-scale_max": "5",
    "criteria-4-name": "Organisational capacity",
    "criteria-4-weight": "10",
    "criteria-4-scale_min": "0",
    "criteria-4-scale_max": "5",
    "document_types-0-name": "Registration certificate",
    "document_types-0-required": "y",
    "document_types-0-max_size_mb": "10",
    "document_types-0-allowed_kinds": ["pdf", "jpeg"],
    "document_types-1-name": "Detailed budget",
    "document_types-1-required": "y",
    "document_types-1-max_size_mb": "10",
    "document_types-1-allowed_kinds": ["pdf", "xlsx"],
    "indicators-0-name": "Young people trained",
    "indicators-0-unit": "people",
    "indicators-0-by_sex": "y",
    "tranches-0-percentage": "40",
    "tranches-0-after_report": "",
    "tranches-1-percentage": "40",
    "tranches-1-after_report": "interim",
    "tranches-2-percentage": "20",
    "tranches-2-after_report": "final",
    "reports-0-kind": "interim",
    "reports-0-months": "6",
    "reports-1-kind": "final",
    "reports-1-months": "12",
}


@pytest.fixture
def officer(world, login):
    return login(world.officer)


def _count() -> int:
    return db.session.scalar(select(func.count(Call.id)))


def _create(officer, **changes) -> Call:
    response = officer.post("/office/calls/new", data={**SENEGAL, **changes})
    assert response.status_code == 303, text_of(response)[:2000]
    return db.session.scalar(select(Call).where(Call.code == SENEGAL["code"]))


def test_an_officer_creates_and_publishes_the_senegal_call(officer, client):
    call = _create(officer)
    assert call.state == "draft"
    assert call.title == {"en": SENEGAL["title_en"], "fr": SENEGAL["title_fr"]}
    assert call.sdg_targets == ["8.6", "4.4", "10.c"]
    # 23:59 in Guayaquil (UTC−5) is 04:59 the next day in UTC.
    assert call.closes_at == datetime(NEXT_YEAR, 4, 1, 4, 59, tzinfo=UTC)
    assert [c.weight for c in call.criteria] == [
        Decimal("30"),
        Decimal("25"),
        Decimal("25"),
        Decimal("10"),
        Decimal("10"),
    ]
    assert call.document_types[1].allowed_kinds == ["pdf", "xlsx"]
    assert call.indicators == [
        {"name": {"en": "Young people trained"}, "unit": "people", "by_sex": True}
    ]
    assert call.tranche_schedule[1] == {"percentage": "40", "after_report": "interim"}
    assert call.report_schedule == [
        {"kind": "interim", "months": 6},
        {"kind": "final", "months": 12},
    ]
    assert client.get(f"/calls/{call.code}").status_code == 404  # a draft is not public

    response = officer.post(f"/transitions/call/{call.id}/publish")
    assert response.status_code == 303 and call.state == "open"
    assert "Diaspora for Youth Employment" in text_of(client.get("/calls"))


def test_publishing_an_incomplete_call_says_every_reason(officer):
    call = _create(
        officer,
        **{"criteria-4-weight": "0", "criteria-4-name": ""},
        envelope="0",
        max_grant="40000",
    )
    response = officer.post(f"/transitions/call/{call.id}/publish")
    page = text_of(officer.get(response.location))
    assert "The criteria weights add up to 90 %, not 100 %." in page
    assert "The envelope must be greater than zero." in page
    assert call.state == "draft"
    assert db.session.scalar(select(func.count(HistoryEntry.id))) == 0


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"envelope": "-1"}, "envelope", "Must not be negative."),
        ({"min_grant": "50000"}, "max_grant", "must not be above the maximum grant"),
        ({"sdg_targets": "8.6, 18.1"}, "sdg_targets", "Not SDG targets: 18.1."),
        ({"code": "sn emp"}, "code", "Capital letters, digits and dashes"),
        ({"closes_at": f"{NEXT_YEAR}-01-01T00:00"}, "closes_at", "must close after it opens"),
        ({"tranches-2-percentage": "30"}, "tranches", "add up to 110 %"),
        ({"countries": []}, "countries", "Choose at least one."),
        (
            {"description_fr": "d" * 10_001},
            "description_fr",
            "The description can be at most 10,000 characters; it has 10,001.",
        ),
        (
            {"criteria-0-description": "c" * 1_001},
            "criteria-0-description",
            "The description can be at most 1,000 characters; it has 1,001.",
        ),
    ],
)
def test_bad_call_input_is_refused_next_to_the_field(officer, changes, field, message):
    before = _count()
    response = officer.post("/office/calls/new", data={**SENEGAL, **changes})
    assert response.status_code == 422
    assert message in text_of(response)
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    assert _count() == before


def test_a_stale_edit_and_an_edit_of_an_open_call_are_refused(officer):
    call = _create(officer)
    page = officer.get(f"/office/calls/{call.code}/edit")
    assert page.status_code == 200 and "Relevance" in page.get_data(as_text=True)
    saved = officer.post(
        f"/office/calls/{call.code}/edit",
        data={**SENEGAL, "version": str(call.version), "envelope": "250000"},
    )
    assert saved.status_code == 303 and call.envelope == Decimal("250000")
    stale = officer.post(
        f"/office/calls/{call.code}/edit", data={**SENEGAL, "version": "1", "envelope": "1"}
    )
    assert stale.status_code == 409 and "Someone else saved this call" in text_of(stale)
    assert call.envelope == Decimal("250000")
    officer.post(f"/transitions/call/{call.id}/publish")
    refused = officer.post(
        f"/office/calls/{call.code}/edit", data={**SENEGAL, "version": str(call.version)}
    )
    assert refused.status_code == 409 and "Only a draft call can be edited" in text_of(refused)


def test_extending_the_deadline(officer):
    call = _create(officer)
    officer.post(f"/transitions/call/{call.id}/publish")
    earlier = officer.post(
        f"/office/calls/{call.code}/extend", data={"closes_at": f"{NEXT_YEAR}-03-01T12:00"}
    )
    assert "must be later than the current one" in text_of(officer.get(earlier.location))
    assert call.closes_at == datetime(NEXT_YEAR, 4, 1, 4, 59, tzinfo=UTC)
    later = officer.post(
        f"/office/calls/{call.code}/extend", data={"closes_at": f"{NEXT_YEAR}-04-15T23:59"}
    )
    assert later.status_code == 303
    assert call.closes_at == datetime(NEXT_YEAR, 4, 16, 4, 59, tzinfo=UTC)
    [entry] = db.session.scalars(
        select(HistoryEntry).where(HistoryEntry.transition == "extend_deadline")
    ).all()
    assert entry.data["closes_at"].startswith(f"{NEXT_YEAR}-04-16T04:59")


def test_the_system_closes_a_call_only_at_its_deadline(world):
    from grants.services.workflow import fire
    from tests.fixtures.programme import make_call
    from workflows.errors import GuardFailed

    call = make_call(world, closes_at=utcnow() + timedelta(hours=1))
    with pytest.raises(GuardFailed, match="has not passed"):
        fire(call, "close", None)
    fire(call, "close", None, now=call.closes_at + timedelta(seconds=1))
    assert call.state == "closed"
    entry = db.session.scalars(select(HistoryEntry)).one()
    assert entry.actor_label == "system" and entry.actor_id is None


def test_the_officers_list_of_calls(officer, world):
    from tests.fixtures.programme import make_application, make_call

    call = make_call(world)
    make_application(world, call, state="submitted")
    page = text_of(officer.get("/office/calls/"))
    assert call.code in page and "Youth employment" in page
