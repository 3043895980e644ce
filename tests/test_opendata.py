"""Open data: accepted grants as 360Giving JSON and IATI 2.03 XML, valid against the
standards' own schemas (copied in tests/standards, byte-identical), without personal
data, served to anyone without an account."""

from __future__ import annotations

import functools
import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from lxml import etree
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from sqlalchemy import event

from grants.exports.opendata import (
    _budget_periods,
    iati_activities,
    published_awards,
    three_sixty_giving,
)
from grants.extensions import db
from grants.models import Award, Report, Tranche
from grants.services import disbursements
from grants.services.workflow import fire
from tests.fixtures.programme import NOW, make_award

STANDARDS = Path(__file__).resolve().parent / "standards"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "standards"
SCHEMA_FILES = (
    "360giving/360-giving-package-schema.json",
    "360giving/360-giving-schema.json",
    "iati-2.03/iati-activities-schema.xsd",
    "iati-2.03/iati-common.xsd",
    "iati-2.03/xml.xsd",
)
PREFIX = "test"
FUNDER = "XI-IATI-DIASPORA-GRANTS"
PROGRAMME = "Diaspora Grants"
PUBLISHED = datetime(2027, 4, 1, 9, 30, tzinfo=UTC)
PAID_AT = datetime(2027, 3, 15, 10, 0, tzinfo=UTC)
PAID_ON = PAID_AT.date()
COMPLETED_AT = NOW + timedelta(days=90)
TERMINATED_AT = NOW + timedelta(days=40)
RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)")


# --- the standards' validators -----------------------------------------------------------


def _date_time(value: object) -> bool:
    """RFC 3339 date-time, checked for real: jsonschema skips the format without the
    optional rfc3339-validator, and 360Giving's ``oneOf`` (date-time or date) then
    matches a plain date twice and refuses it."""
    if not isinstance(value, str):
        return True
    if not RFC3339.fullmatch(value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    return True


@functools.cache
def _package_validator():
    """The package schema, its grant ``$ref`` resolved to the local grant schema.

    Both declare draft 2020-12, spelt with ``http:`` (the dialect's id is ``https:``),
    so the draft is named here rather than detected. The package refers to the grant
    schema by its 1.4.2 address while the grant schema calls itself 1.4.3: the local
    copy is registered under both, and nothing is fetched.
    """
    package = json.loads((STANDARDS / "360giving/360-giving-package-schema.json").read_text())
    grant = json.loads((STANDARDS / "360giving/360-giving-schema.json").read_text())
    assert package["$schema"] == grant["$schema"] == "http://json-schema.org/draft/2020-12/schema"
    resource = DRAFT202012.create_resource(grant)
    reference = package["properties"]["grants"]["items"]["$ref"]
    registry = Registry().with_resources([(reference, resource), (grant["$id"], resource)])
    Draft202012Validator.check_schema(package)
    Draft202012Validator.check_schema(grant)
    checker = FormatChecker()
    checker.checks("date-time", raises=ValueError)(_date_time)
    return Draft202012Validator(package, registry=registry, format_checker=checker)


@functools.cache
def _iati_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(STANDARDS / "iati-2.03/iati-activities-schema.xsd")))


def _valid_package(package: dict) -> dict:
    errors = [error.message for error in _package_validator().iter_errors(package)]
    assert not errors, "\n".join(errors)
    return package


def _valid_iati(document: bytes) -> etree._Element:
    root = etree.fromstring(document)
    schema = _iati_schema()
    assert schema.validate(root), str(schema.error_log)
    return root


# --- a small programme ---------------------------------------------------------------------


def _pay(world, tranche: Tranche) -> None:
    """Through the real transitions: requested, approved twice (four eyes), paid."""
    disbursements.act(world.officer, tranche.id, "request", now=NOW)
    disbursements.act(world.finance, tranche.id, "approve", now=NOW)
    disbursements.act(world.finance_b, tranche.id, "approve", now=NOW)
    disbursements.act(
        world.finance_b,
        tranche.id,
        "pay",
        payment_date=PAID_ON,
        bank_reference="SN-2027-0315-001",
        amount=tranche.amount,
        now=PAID_AT,
    )


def _accepted(world, **fields) -> Award:
    award = make_award(world, **fields)
    fire(award, "accept", world.applicant, now=NOW, letter_read=True)
    return award


def _programme(world) -> dict[str, Award]:
    """An active award with one paid tranche, a completed one (paid, final report
    accepted), and awards that must not be published: offered and declined."""
    active = _accepted(world)
    call = active.application.call
    call.title = {"en": "Youth employment", "fr": "Emploi des jeunes"}
    call.sdg_targets = ["8.6", "4.4"]
    _pay(world, active.tranches[0])

    completed = make_award(world, amount=Decimal("20000"), with_schedule=False)
    application = completed.application
    application.language = "fr"
    application.title = "Former des couturières à Thiès"
    application.call.sector = application.sector = "education"
    application.sdg_targets = ["4.4"]
    final = Report(award=completed, kind="final", due_date=date(2027, 5, 1), state="accepted")
    tranche = Tranche(
        award=completed, position=1, percentage=Decimal("100"), amount=Decimal("20000")
    )
    db.session.add_all([final, tranche])
    db.session.flush()
    fire(completed, "accept", world.applicant, now=NOW, letter_read=True)
    _pay(world, tranche)
    fire(completed, "complete", None, now=COMPLETED_AT)

    offered = make_award(world)
    declined = make_award(world, state="declined")
    db.session.flush()
    return {"active": active, "completed": completed, "offered": offered, "declined": declined}


def _published() -> list[Award]:
    return list(db.session.scalars(published_awards()))


def _personal_data(world, awards) -> list[str]:
    """What must never be published: people, contacts, bank details, signatories."""
    values = [world.association.contact_email, world.association.contact_phone]
    for person in (world.applicant, world.officer, world.finance, world.finance_b):
        values += [person.email, person.full_name]
    for award in awards:
        values += [award.iban, award.bic, award.bank_name, award.account_holder]
        values += [award.signatory_name, award.signatory_role, award.account_number]
        values += [tranche.bank_reference for tranche in award.tranches]
    return [value for value in values if value]


# --- the copies of the schemas -------------------------------------------------------------


@pytest.mark.parametrize("name", SCHEMA_FILES)
def test_the_schema_copies_are_byte_identical(name):
    if not (SHARED / name).exists():
        pytest.skip("no shared standards next to the project (as on CI)")
    assert (STANDARDS / name).read_bytes() == (SHARED / name).read_bytes()


# --- which awards ----------------------------------------------------------------------------


def test_only_accepted_grants_are_published(world):
    awards = _programme(world)
    published = _published()
    assert [award.id for award in published] == [awards["active"].id, awards["completed"].id]


def test_the_exports_take_a_fixed_number_of_queries(world):
    """Three queries per export (awards with application, call and association; their
    tranches; their history), the first two shared here: four, whatever the number."""
    counts = []
    for _ in range(2):
        _programme(world)
        db.session.expire_all()
        statements: list[str] = []

        def count(conn, cursor, statement, *args, log=statements):
            log.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            awards = _published()
            three_sixty_giving(
                awards, prefix=PREFIX, funder_id=FUNDER, funder_name=PROGRAMME, published=NOW
            )
            iati_activities(
                awards,
                reporting_org_ref=FUNDER,
                reporting_org_name=PROGRAMME,
                prefix=PREFIX,
                generated=NOW,
            )
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        counts.append((len(awards), len(statements)))
    assert counts[0][0] < counts[1][0]
    assert counts[0][1] == counts[1][1] == 4, counts


# --- 360Giving ---------------------------------------------------------------------------------


def test_the_360giving_package_is_valid_and_complete(world):
    awards = _programme(world)
    package = _valid_package(
        three_sixty_giving(
            _published(),
            prefix=PREFIX,
            funder_id=FUNDER,
            funder_name=PROGRAMME,
            published=PUBLISHED,
        )
    )
    active, completed = awards["active"], awards["completed"]
    grants = {grant["id"]: grant for grant in package["grants"]}
    assert set(grants) == {
        f"360G-{PREFIX}-{active.application.reference}",
        f"360G-{PREFIX}-{completed.application.reference}",
    }
    grant = grants[f"360G-{PREFIX}-{active.application.reference}"]
    assert grant["title"] == "Training young tailors in Thiès"
    assert (grant["currency"], grant["amountAwarded"], grant["amountAppliedFor"]) == (
        "USD",
        32000,
        32000,
    )
    assert grant["amountDisbursed"] == 12800 == active.paid_total
    assert grant["awardDate"] == active.offered_at.date().isoformat()
    assert grant["plannedDates"] == [
        {"startDate": "2027-06-01", "endDate": "2028-05-31", "duration": 12}
    ]
    assert grant["actualDates"] == [{"startDate": "2027-03-01"}]
    assert grant["disbursementTransaction"] == [
        {
            "id": f"{grant['id']}-TRANCHE-1",
            "value": 12800,
            "currency": "USD",
            "transactionDate": PAID_ON.isoformat(),
        }
    ]
    assert grant["recipientOrganization"] == [
        {
            "id": f"360G-{PREFIX}-ORG-{world.association.id}",
            "name": world.association.name,
            "addressCountry": "FR",
        }
    ]
    assert grant["fundingOrganization"] == [{"id": FUNDER, "name": PROGRAMME}]
    assert grant["beneficiaryLocation"] == [{"name": "Thiès", "countryCode": "SN"}]
    assert grant["grantProgramme"] == [
        {"code": active.application.call.code, "title": "Youth employment"}
    ]
    codes = {(c["vocabulary"], c["code"]) for c in grant["classifications"]}
    assert codes == {
        ("Sector", "employment"),
        ("OECD DAC CRS purpose code", "16020"),
        ("SDG target", "8.6"),
        ("SDG target", "4.4"),
    }
    done = grants[f"360G-{PREFIX}-{completed.application.reference}"]
    assert done["amountDisbursed"] == 20000
    assert done["actualDates"] == [
        {"startDate": "2027-03-01", "endDate": COMPLETED_AT.date().isoformat()}
    ]
    assert [t["value"] for t in done["disbursementTransaction"]] == [20000]
    assert ("SDG target", "4.4") in {(c["vocabulary"], c["code"]) for c in done["classifications"]}
    assert done["dateModified"] == COMPLETED_AT.isoformat()
    assert package["license"] == "https://creativecommons.org/licenses/by/4.0/"


def test_the_360giving_validation_is_not_vacuous(world):
    """The same validator refuses a grant without its funder, or with a wrong date."""
    _programme(world)
    package = three_sixty_giving(
        _published(), prefix=PREFIX, funder_id=FUNDER, funder_name=PROGRAMME, published=PUBLISHED
    )
    validator = _package_validator()
    broken = json.loads(json.dumps(package))
    del broken["grants"][0]["fundingOrganization"]
    with pytest.raises(ValidationError):
        validator.validate(broken)
    broken = json.loads(json.dumps(package))
    broken["grants"][0]["awardDate"] = "2027-13-01"
    with pytest.raises(ValidationError):
        validator.validate(broken)
    with pytest.raises(ValidationError):
        validator.validate({**package, "grants": []})


def test_the_360giving_package_has_no_personal_data(world):
    awards = _programme(world)
    text = json.dumps(
        three_sixty_giving(
            _published(), prefix=PREFIX, funder_id=FUNDER, funder_name=PROGRAMME, published=NOW
        ),
        ensure_ascii=False,
    )
    assert "@" not in text
    leaked = [value for value in _personal_data(world, awards.values()) if value in text]
    assert not leaked


# --- IATI --------------------------------------------------------------------------------------


def _activities(world) -> tuple[dict[str, Award], etree._Element, bytes]:
    awards = _programme(world)
    document = iati_activities(
        _published(),
        reporting_org_ref=FUNDER,
        reporting_org_name=PROGRAMME,
        prefix=PREFIX,
        generated=PUBLISHED,
    )
    return awards, _valid_iati(document), document


def _activity(root: etree._Element, award: Award) -> etree._Element:
    [activity] = root.xpath(
        "iati-activity[iati-identifier=$id]", id=f"{FUNDER}-{award.application.reference}"
    )
    return activity


def test_the_iati_activities_are_valid_and_complete(world):
    awards, root, _ = _activities(world)
    assert root.get("version") == "2.03"
    assert root.get("generated-datetime") == "2027-04-01T09:30:00+00:00"
    assert len(root) == 2
    active = _activity(root, awards["active"])
    assert active.get("default-currency") == "USD"
    assert active.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert active.find("reporting-org").get("ref") == FUNDER
    assert active.findtext("title/narrative") == "Training young tailors in Thiès"
    roles = {
        org.get("role"): org.findtext("narrative") for org in active.findall("participating-org")
    }
    assert roles == {"1": PROGRAMME, "3": PROGRAMME, "4": world.association.name}
    assert active.find("participating-org[@role='4']").get("ref") is None
    assert active.find("activity-status").get("code") == "2"
    dates = {d.get("type"): d.get("iso-date") for d in active.findall("activity-date")}
    assert dates == {"1": "2027-06-01", "2": "2027-03-01", "3": "2028-05-31"}
    assert active.find("recipient-country").attrib == {"code": "SN", "percentage": "100"}
    assert [(s.get("vocabulary"), s.get("code")) for s in active.findall("sector")] == [
        ("1", "16020")
    ]
    assert [(t.get("vocabulary"), t.get("code")) for t in active.findall("tag")] == [
        ("3", "8.6"),
        ("3", "4.4"),
    ]
    [budget] = active.findall("budget")
    assert (budget.get("type"), budget.get("status")) == ("1", "2")
    assert budget.find("value").text == "32000.00"
    transactions = [
        (
            t.find("transaction-type").get("code"),
            t.find("transaction-date").get("iso-date"),
            t.findtext("value"),
            t.find("value").get("value-date"),
        )
        for t in active.findall("transaction")
    ]
    assert transactions == [
        ("2", "2027-03-01", "32000.00", "2027-03-01"),
        ("3", PAID_ON.isoformat(), "12800.00", PAID_ON.isoformat()),
    ]
    # The call's title in each of its languages; the default one without xml:lang.
    programme = active.find("description[@type='4']")
    assert [(n.get("{http://www.w3.org/XML/1998/namespace}lang"), n.text) for n in programme] == [
        (None, "Youth employment"),
        ("fr", "Emploi des jeunes"),
    ]

    done = _activity(root, awards["completed"])
    assert done.find("activity-status").get("code") == "4"
    title = done.find("title/narrative")
    assert title.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"
    dates = {d.get("type"): d.get("iso-date") for d in done.findall("activity-date")}
    assert dates["4"] == COMPLETED_AT.date().isoformat()
    assert [s.get("code") for s in done.findall("sector")] == ["11330"]
    kinds = [t.find("transaction-type").get("code") for t in done.findall("transaction")]
    assert kinds == ["2", "3"]


def test_the_iati_validation_is_not_vacuous(world):
    """The schema refuses elements out of order, as the 2.03 sequence requires."""
    _, root, _ = _activities(world)
    activity = root[0]
    activity.append(activity.find("activity-status"))
    assert not _iati_schema().validate(root)


def test_suspended_and_terminated_grants_have_their_iati_status(world):
    suspended = _accepted(world)
    fire(suspended, "suspend", world.officer, comment="Audit under way", now=NOW)
    terminated = _accepted(world)
    fire(terminated, "terminate", world.officer, comment="Project abandoned", now=TERMINATED_AT)
    root = _valid_iati(
        iati_activities(
            _published(),
            reporting_org_ref=FUNDER,
            reporting_org_name=PROGRAMME,
            prefix=PREFIX,
            generated=NOW,
        )
    )
    assert _activity(root, suspended).find("activity-status").get("code") == "6"
    stopped = _activity(root, terminated)
    assert stopped.find("activity-status").get("code") == "5"
    assert stopped.find("activity-date[@type='4']").get("iso-date") == "2027-04-10"
    _valid_package(
        three_sixty_giving(
            _published(), prefix=PREFIX, funder_id=FUNDER, funder_name=PROGRAMME, published=NOW
        )
    )


def test_the_iati_activities_have_no_personal_data(world):
    awards, _, document = _activities(world)
    text = document.decode()
    assert "@" not in text
    leaked = [value for value in _personal_data(world, awards.values()) if value in text]
    assert not leaked


def test_budgets_last_at_most_a_year_and_add_up_to_the_award():
    periods = _budget_periods(date(2027, 6, 1), date(2029, 11, 30), Decimal("50000.00"))
    assert [(start.isoformat(), end.isoformat()) for start, end, _ in periods] == [
        ("2027-06-01", "2028-05-31"),
        ("2028-06-01", "2029-05-31"),
        ("2029-06-01", "2029-11-30"),
    ]
    assert sum(amount for _, _, amount in periods) == Decimal("50000.00")
    assert all(amount > 0 for _, _, amount in periods)


# --- the public pages (need the blueprint registered in grants/web/__init__.py) ----------------


def test_route_open_data_pages_answer_without_login(client, world):
    _programme(world)
    page = client.get("/open-data/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "Grants published: 2" in html
    assert "/open-data/360giving.json" in html and "/open-data/iati.xml" in html
    assert "https://creativecommons.org/licenses/by/4.0/" in html

    package = client.get("/open-data/360giving.json")
    assert package.status_code == 200 and package.mimetype == "application/json"
    assert "Content-Disposition" not in package.headers
    assert package.cache_control.public and package.cache_control.max_age == 3600
    assert len(_valid_package(package.get_json())["grants"]) == 2

    xml = client.get("/open-data/iati.xml")
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    assert len(_valid_iati(xml.data)) == 2


def test_route_open_data_files_are_missing_while_nothing_is_published(client, world):
    make_award(world)  # offered: not published
    page = client.get("/open-data/")
    assert page.status_code == 200
    assert "No grant has been published yet." in page.get_data(as_text=True)
    assert client.get("/open-data/360giving.json").status_code == 404
    assert client.get("/open-data/iati.xml").status_code == 404


# --- the published files: written a batch at a time, kept until a grant changes ------------------


@pytest.fixture
def batches_of_one(monkeypatch):
    """Awards written one at a time, so every seam between batches is exercised."""
    from grants.exports import published

    monkeypatch.setattr(published, "BATCH", 1)


def test_the_files_written_in_batches_hold_what_the_builders_build(
    app, client, world, batches_of_one
):
    _programme(world)
    name = app.config["PROGRAMME_NAME"]
    expected = three_sixty_giving(
        _published(),
        prefix="diaspora-grants",
        funder_id=FUNDER,
        funder_name=name,
        published=PUBLISHED,
    )
    written = _valid_package(client.get("/open-data/360giving.json").get_json())
    assert written["grants"] == json.loads(json.dumps(expected["grants"]))
    assert {k: v for k, v in written.items() if k not in ("issued", "grants")} == {
        k: v for k, v in expected.items() if k not in ("issued", "grants")
    }
    db.session.expire_all()
    built = etree.fromstring(
        iati_activities(
            _published(),
            reporting_org_ref=FUNDER,
            reporting_org_name=name,
            prefix="diaspora-grants",
            generated=PUBLISHED,
        )
    )
    streamed = client.get("/open-data/iati.xml").data
    _valid_iati(streamed)
    # The same activities; only the indentation differs.
    blank = etree.XMLParser(remove_blank_text=True)
    assert [etree.tostring(a, method="c14n") for a in etree.fromstring(streamed, blank)] == [
        etree.tostring(a, method="c14n") for a in etree.fromstring(etree.tostring(built), blank)
    ]


def test_a_file_is_served_from_disk_until_a_published_grant_changes(client, world, app):
    awards = _programme(world)
    first = client.get("/open-data/360giving.json")
    folder = Path(app.config["INSTANCE_PATH"]) / "open-data"
    files = sorted(folder.glob("360giving-*.json"))
    assert len(files) == 1 and first.headers["ETag"]
    again = client.get(
        "/open-data/360giving.json", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304, "the same file: conditional requests are answered"
    assert sorted(folder.glob("360giving-*.json")) == files

    association = awards["active"].application.association
    association.name = "Association des Sénégalais de Lyon — renamed"
    db.session.flush()
    changed = client.get("/open-data/360giving.json")
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]
    names = {g["recipientOrganization"][0]["name"] for g in changed.get_json()["grants"]}
    assert "Association des Sénégalais de Lyon — renamed" in names
    assert sorted(folder.glob("360giving-*.json")) != files, "the older file is removed"
    assert len(list(folder.glob("360giving-*.json"))) == 1
    assert not list(folder.glob(".360giving-*")), "no temporary file is left behind"


def test_the_scheduler_writes_the_files_again_only_after_a_change(world, app):
    from notifications.scheduler import JOBS

    job = next(job for job in JOBS if job.name == "open-data")
    assert job.run(app, NOW) == 0, "nothing published: nothing to write"
    awards = _programme(world)
    assert job.run(app, NOW) == 2, "the 360Giving and IATI files"
    assert job.run(app, NOW) == 0, "still current"
    awards["active"].application.call.title = {"en": "Jobs for the young"}
    db.session.flush()
    assert job.run(app, NOW) == 2
