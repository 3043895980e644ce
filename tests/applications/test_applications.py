"""The Senegal journey up to a submitted and screened application, through the pages."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import Application, Document, HistoryEntry
from grants.orm import utcnow
from tests.clients import text_of
from tests.documents.test_filetypes import pdf_bytes
from tests.fixtures.people import make_user
from tests.fixtures.programme import NOW, make_application, make_call
from tests.queries import cost_of

PDF = pdf_bytes()
FORM = {
    "title": "Training young tailors in Thiès",
    "summary": "A workshop that trains and employs 40 young people.",
    "objectives": "Train 40, employ 25.",
    "sector": "employment",
    "country": "SN",
    "locality": "Thiès",
    "start_date": "2027-06-01",
    "duration_months": "12",
    "beneficiaries_count": "40",
    "beneficiaries_women": "22",
    "beneficiaries_men": "18",
    "beneficiaries_description": "Young people from Thiès, 18 to 30.",
    "budget_currency": "XOF",
    "amount_requested": "32000",
    "budget_lines-0-category": "equipment",
    "budget_lines-0-description": "Sewing machines",
    "budget_lines-0-quantity": "10",
    "budget_lines-0-unit_cost": "1200000",
    "budget_lines-1-category": "training",
    "budget_lines-1-description": "Trainers, 12 months",
    "budget_lines-1-quantity": "12",
    "budget_lines-1-unit_cost": "1000000",
    "cofinancing-0-source": "association_cash",
    "cofinancing-0-description": "Members' contributions",
    "cofinancing-0-amount": "3960000",
}


@pytest.fixture
def applicant(world, login):
    return world.applicant, login(world.applicant)


@pytest.fixture
def call(world):
    """Open now and closing in ten days: the tests travel to its deadline, and a signed
    session cookie stays valid for 31 days, so the deadline must be near the real now."""
    now = utcnow()
    return make_call(
        world,
        code="SN-EMP-2027",
        timezone="Africa/Dakar",
        opens_at=now - timedelta(days=20),
        closes_at=now + timedelta(days=10),
    )


def _start(client, call) -> Application:
    response = client.post(
        f"/calls/{call.code}/apply", data={"association_id": str(_association_id(client))}
    )
    assert response.status_code == 302, text_of(response)
    return db.session.get(Application, int(response.location.split("?")[0].rsplit("/", 1)[-1]))


def _association_id(client) -> int:
    page = client.get("/").get_data(as_text=True)
    return int(re.search(r"/associations/(\d+)", page).group(1))


def _save(client, application, **changes):
    data = {**FORM, "version": str(application.version), **changes}
    return client.post(f"/applications/{application.id}", data=data)


def _upload_all(client, application, content=PDF, name="budget.pdf"):
    for document_type in application.call.document_types:
        response = client.post(
            f"/applications/{application.id}/documents/{document_type.id}",
            data={"file": (io.BytesIO(content), name)},
            content_type="multipart/form-data",
        )
        assert response.status_code == 303


def test_anyone_reads_the_call_its_rubric_and_its_questions(client, call):
    page = text_of(client.get(f"/calls/{call.code}"))
    assert "Relevance" in page and "60 %" in page and "Detailed budget" in page
    assert "Log in to apply" in page
    questions = text_of(client.get(f"/calls/{call.code}/questions"))
    assert "Amount requested from the programme" in questions and "Detailed budget" in questions


def test_a_draft_call_is_not_public(client, world):
    draft = make_call(world, state="draft")
    assert client.get(f"/calls/{draft.code}").status_code == 404


def test_members_draft_save_upload_and_submit(applicant, call, world, login):
    user, client = applicant
    application = _start(client, call)
    assert application.reference == "SN-EMP-2027-0001"
    assert application.state == "draft"
    page = text_of(client.get(f"/applications/{application.id}"))
    assert "These parts are missing" in page

    assert _save(client, application).status_code == 303
    assert application.budget_total == Decimal("24000000.00")
    assert application.cofinancing_share == Decimal("16.50")
    assert [line.total for line in application.budget_lines] == [
        Decimal("12000000.00"),
        Decimal("12000000.00"),
    ]
    page = text_of(client.get(f"/applications/{application.id}"))
    assert "These documents are missing: Detailed budget." in page

    # Another member of the same association continues the draft.
    colleague = make_user("applicant")
    from grants.models import Membership

    db.session.add(Membership(user_id=colleague.id, association_id=application.association_id))
    colleague_client = login(colleague)
    _upload_all(colleague_client, application)
    assert len(application.current_documents) == 1
    page = text_of(colleague_client.get(f"/applications/{application.id}"))
    assert "Everything is in place." in page

    with time_machine.travel(call.closes_at - timedelta(hours=2), tick=False):
        response = client.post(
            f"/applications/{application.id}/submit", data={"version": str(application.version)}
        )
        assert response.status_code == 303
        again = client.post(
            f"/applications/{application.id}/submit", data={"version": str(application.version - 1)}
        )
        assert again.status_code == 303  # a double click shows the confirmation again
    assert application.state == "submitted"
    confirmation = text_of(client.get(response.location))
    assert "SN-EMP-2027-0001" in confirmation
    assert (
        db.session.scalar(
            select(func.count(HistoryEntry.id)).where(
                HistoryEntry.entity_type == "application", HistoryEntry.entity_id == application.id
            )
        )
        == 1
    )

    # Submitted: readable, no longer editable.
    refused = _save(client, application, title="Changed after submission")
    assert refused.status_code == 409
    assert "can be read but not changed" in text_of(refused)
    assert application.title == FORM["title"]


def test_a_stale_save_keeps_the_text_and_changes_nothing(applicant, call):
    _, client = applicant
    application = _start(client, call)
    loaded_version = application.version
    assert _save(client, application, title="First member's title").status_code == 303
    stale = client.post(
        f"/applications/{application.id}",
        data={**FORM, "version": str(loaded_version), "title": "Second member's title"},
    )
    assert stale.status_code == 409
    assert "Someone else saved this application" in text_of(stale)
    assert 'value="Second member&#39;s title"' in stale.get_data(as_text=True)
    assert application.title == "First member's title"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("amount_requested", "-5", "Must not be negative."),
        ("amount_requested", "5-", "Must not be negative."),
        ("budget_lines-0-unit_cost", "- 1", "Must not be negative."),
        ("amount_requested", "lots", "Give the amount as a number, such as 1,250.50."),
        ("amount_requested", "1.250", "Did you mean 1,250.00?"),
        ("amount_requested", "NaN", "Give the amount as a number, such as 1,250.50."),
        ("amount_requested", "1000000000000", "At most 999,999,999,999.99."),
        ("budget_lines-0-unit_cost", "-1", "Must not be negative."),
        ("budget_lines-0-unit_cost", "12.345", "Did you mean 12,345.00?"),
        ("budget_currency", "XXQ", "Choose a currency in use"),
        ("budget_currency", "XXX", "Choose a currency in use"),
        ("language", "xx", "Not a valid choice"),
        ("summary", "x" * 19_500, "The summary can be at most 3,000 characters; it has 19,500."),
        ("title", "x" * 301, "The title can be at most 300 characters; it has 301."),
        ("start_date", "2020-01-01", "The start date cannot be in the past."),
        ("country", "ZZ", "Choose a country from the list."),
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_nothing_changes(
    applicant, call, field, value, message
):
    _, client = applicant
    application = _start(client, call)
    assert _save(client, application).status_code == 303
    before = (
        application.version,
        application.amount_requested,
        application.summary,
        [line.unit_cost for line in application.budget_lines],
    )
    response = _save(client, application, **{field: value})
    assert response.status_code == 422
    assert message in text_of(response)
    assert 'aria-invalid="true"' in response.get_data(
        as_text=True
    ) or "-error" in response.get_data(as_text=True)
    db.session.expire_all()
    assert (
        application.version,
        application.amount_requested,
        application.summary,
        [line.unit_cost for line in application.budget_lines],
    ) == before


def test_an_application_is_in_its_authors_language_until_they_say_otherwise(applicant, call):
    user, client = applicant
    user.locale = "fr"
    application = _start(client, call)  # an English call, written in French
    assert call.language == "en" and application.language == "fr"
    assert _save(client, application, language="ar").status_code == 303
    assert application.language == "ar"
    user.locale = "wo"  # not a language of the interface: the call's language
    assert _start(client, call).language == "en"


def test_html_and_script_are_shown_as_text(applicant, call):
    _, client = applicant
    application = _start(client, call)
    _save(client, application, title="<script>alert('x')</script>")
    html = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;" in html


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"MZ\x90\x00" + b"\x00" * 200, "budget.pdf", "whatever its name says"),
        (b"", "empty.pdf", "This file is empty"),
        (b"x" * (11 * 1024 * 1024), "big.pdf", "larger than 10 MB"),
    ],
)
def test_bad_files_are_refused_with_a_reason_and_leave_nothing(
    applicant, call, app, content, name, message
):
    _, client = applicant
    application = _start(client, call)
    response = client.post(
        f"/applications/{application.id}/documents/{call.document_types[0].id}",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    assert message in text_of(client.get(response.location))
    assert db.session.scalar(select(func.count(Document.id))) == 0


def test_a_filename_with_path_separators_is_cleaned(applicant, call):
    _, client = applicant
    application = _start(client, call)
    _upload_all(client, application, name="../../etc/bud\x07get.pdf")
    [document] = application.current_documents
    assert "/" not in document.filename and "\x07" not in document.filename
    assert document.filename.endswith(".pdf")


def test_a_request_over_the_limit_gets_a_readable_413(applicant, call, app):
    _, client = applicant
    application = _start(client, call)
    body = b"%PDF-" + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 10)
    response = client.post(
        f"/applications/{application.id}/documents/{call.document_types[0].id}",
        data={"file": (io.BytesIO(body), "huge.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413 and "MB" in text_of(response)


def test_documents_download_only_for_the_association_and_officers(applicant, call, world, login):
    _, client = applicant
    application = _start(client, call)
    _upload_all(client, application)
    [document] = application.current_documents
    assert client.get(f"/documents/{document.id}").status_code == 302
    download = client.get(client.get(f"/documents/{document.id}").location)
    assert download.status_code == 200 and download.data == PDF
    assert login(world.officer).get(f"/documents/{document.id}").status_code == 302
    assert login(world.outsider).get(f"/documents/{document.id}").status_code == 404
    assert login(world.evaluator).get(f"/documents/{document.id}").status_code == 404


@pytest.mark.parametrize(("offset", "accepted"), [(-1, True), (1, False)])
def test_the_deadline_to_the_second_in_the_calls_time_zone(applicant, call, offset, accepted):
    _, client = applicant
    application = _start(client, call)
    _save(client, application)
    _upload_all(client, application)
    with time_machine.travel(call.closes_at + timedelta(seconds=offset), tick=False):
        response = client.post(
            f"/applications/{application.id}/submit", data={"version": str(application.version)}
        )
    if accepted:
        assert response.status_code == 303 and application.state == "submitted"
    else:
        assert response.status_code == 422
        assert "The deadline passed on" in text_of(response) and "(Africa/Dakar)" in text_of(
            response
        )
        assert application.state == "draft"


@pytest.mark.parametrize("state", ["closed", "cancelled"])
def test_no_application_to_a_closed_or_cancelled_call(applicant, call, state):
    _, client = applicant
    application = _start(client, call)
    _save(client, application)
    _upload_all(client, application)
    call.state = state
    response = client.post(
        f"/applications/{application.id}/submit", data={"version": str(application.version)}
    )
    assert response.status_code == 422
    assert f"The call is {state}" in text_of(response)
    assert application.state == "draft"
    assert (
        client.post(
            f"/calls/{call.code}/apply", data={"association_id": str(application.association_id)}
        ).status_code
        == 409
    )


def test_another_associations_application_is_not_found(applicant, call, world, login):
    _, client = applicant
    application = _start(client, call)
    outsider = login(world.outsider)
    assert outsider.get(f"/applications/{application.id}").status_code == 404
    assert _save(outsider, application).status_code == 404
    assert (
        outsider.post(f"/applications/{application.id}/submit", data={"version": "1"}).status_code
        == 404
    )


def test_officers_screen_and_mark_ineligible_with_a_reason(applicant, call, world, login):
    _, client = applicant
    application = _start(client, call)
    _save(client, application, **{"cofinancing-0-amount": "2160000"})  # 9 %
    officer = login(world.officer)
    application.state = "submitted"
    application.submitted_at = NOW
    db.session.flush()
    page = text_of(officer.get(f"/calls/{call.code}/applications"))
    assert application.reference in page and "9%" in page
    detail = text_of(officer.get(f"/applications/{application.id}"))
    assert "Co-financing share — 9.0 % (≥ 15 %)" in detail
    response = officer.post(
        f"/transitions/application/{application.id}/mark_ineligible",
        data={"comment": "Co-financing is 9 %, below the 15 % minimum."},
    )
    assert response.status_code == 303 and application.state == "ineligible"
    seen_by_applicant = text_of(client.get(f"/applications/{application.id}"))
    assert "Co-financing is 9 %, below the 15 % minimum." in seen_by_applicant


def test_the_screening_list_costs_the_same_queries_for_10_or_200(world, login, call):
    officer = login(world.officer)

    def cost(count: int, code: str) -> int:
        listed = make_call(world, code=code)
        for _ in range(count):
            application = make_application(world, listed, state="submitted")
            application.submitted_at = NOW
        db.session.flush()
        return cost_of(officer, f"/calls/{code}/applications")

    assert cost(10, "LIST-10") == cost(200, "LIST-200")


def test_the_autosave_answers_with_the_new_version_or_says_why_not(applicant, call):
    _, client = applicant
    application = _start(client, call)
    headers = {"X-Requested-With": "autosave"}
    saved = client.post(
        f"/applications/{application.id}",
        headers=headers,
        data={**FORM, "version": str(application.version)},
    )
    assert saved.status_code == 200
    assert (
        saved.json["version"] == application.version
        and "Saved automatically" in saved.json["message"]
    )
    stale = client.post(
        f"/applications/{application.id}",
        headers=headers,
        data={**FORM, "version": "1", "title": "Stale"},
    )
    assert stale.status_code == 409 and "Someone else saved" in stale.json["message"]
    invalid = client.post(
        f"/applications/{application.id}",
        headers=headers,
        data={**FORM, "version": str(application.version), "amount_requested": "-1"},
    )
    assert invalid.status_code == 422
    assert application.title == FORM["title"] and application.amount_requested == 32000


def test_a_two_stage_call_concept_note_then_invited_full_proposal(world, login):
    now = utcnow()
    call = make_call(
        world,
        code="MG-HEA-2099",
        countries=["MG"],
        two_stage=True,
        language="fr",
        title={"fr": "Santé communautaire — Madagascar"},
        opens_at=now - timedelta(days=5),
        closes_at=now + timedelta(days=10),
    )
    client = login(world.applicant)
    application = _start(client, call)
    concept = {
        "title": "Agents de santé à Toamasina",
        "summary": "Former 30 agents.",
        "sector": "health",
        "country": "MG",
        "amount_requested": "20000",
        "budget_currency": "MGA",
        "version": str(application.version),
    }
    assert client.post(f"/applications/{application.id}", data=concept).status_code == 303
    page = text_of(client.get(f"/applications/{application.id}"))
    assert "Submit the concept note" in page and "Everything is in place." in page
    assert "Concept note" in page and "Budget lines" not in page
    client.post(
        f"/applications/{application.id}/submit", data={"version": str(application.version)}
    )
    assert application.state == "concept_submitted"

    officer = login(world.officer)
    officer.post(f"/transitions/application/{application.id}/invite_proposal")
    assert application.state == "proposal_draft"
    page = client.get(f"/applications/{application.id}?part=project").get_data(as_text=True)
    assert 'value="Agents de santé à Toamasina"' in page  # the full form starts from the note
    _save(
        client,
        application,
        **{
            "title": "Agents de santé à Toamasina",
            "sector": "health",
            "country": "MG",
            "amount_requested": "20000",
        },
    )
    _upload_all(client, application)
    response = client.post(
        f"/applications/{application.id}/submit", data={"version": str(application.version)}
    )
    assert response.status_code == 303 and application.state == "submitted"
    transitions = [
        e.transition
        for e in db.session.scalars(
            select(HistoryEntry)
            .where(
                HistoryEntry.entity_id == application.id, HistoryEntry.entity_type == "application"
            )
            .order_by(HistoryEntry.id)
        )
    ]
    assert transitions == ["submit_concept", "invite_proposal", "submit_proposal"]


def test_documents_live_in_the_s3_bucket_and_a_stopped_store_leaves_nothing(
    applicant, call, app, s3_store, seaweedfs
):
    _, client = applicant
    application = _start(client, call)
    saved = app.extensions["document_store"]
    app.extensions["document_store"] = s3_store
    try:
        _upload_all(client, application)
        [document] = application.current_documents
        assert s3_store.exists(document.storage_key)
        link = client.get(f"/documents/{document.id}").location
        assert "X-Amz-Signature" in link and "response-content-disposition" in link
        seaweedfs.stop()
        try:
            response = client.post(
                f"/applications/{application.id}/documents/{call.document_types[0].id}",
                data={"file": (io.BytesIO(PDF), "second.pdf")},
                content_type="multipart/form-data",
            )
            assert response.status_code == 503
            assert "try again" in text_of(response)
        finally:
            seaweedfs.start()
        assert [d.id for d in application.current_documents] == [document.id]
        assert db.session.scalar(select(func.count(Document.id))) == 1
    finally:
        app.extensions["document_store"] = saved


def test_partners_with_their_letters_the_team_and_sdg_targets(applicant, call):
    _, client = applicant
    application = _start(client, call)
    data = {
        "sdg_targets": ["8.6", "4.4"],
        "partners-0-name": "Chambre de métiers de Thiès",
        "partners-0-country": "SN",
        "partners-0-role": "Hosts the workshop",
        "team-0-name": "Awa Ndiaye",
        "team-0-role": "Project lead",
    }
    assert _save(client, application, **data).status_code == 303
    assert application.sdg_targets == ["8.6", "4.4"]
    [partner] = application.partners
    assert (partner.name, partner.country, partner.position) == (
        "Chambre de métiers de Thiès",
        "SN",
        1,
    )
    assert [(m.name, m.role) for m in application.team] == [("Awa Ndiaye", "Project lead")]
    response = client.post(
        f"/applications/{application.id}/partners/1/letter",
        data={"file": (io.BytesIO(PDF), "lettre.pdf")},
        content_type="multipart/form-data",
    )
    assert "The letter of Chambre de métiers de Thiès is uploaded." in text_of(
        client.get(response.location)
    )
    # Saving again keeps the partner, so the letter stays with it.
    _save(client, application, **{**data, "partners-0-role": "Hosts and certifies"})
    assert application.partners[0].id == partner.id
    page = text_of(client.get(f"/applications/{application.id}"))
    assert "Letter of commitment from Chambre de métiers de Thiès" in page and "lettre.pdf" in page
    unknown = _save(client, application, sdg_targets=["18.1"])
    assert unknown.status_code == 422 and application.sdg_targets == ["8.6", "4.4"]
    assert (
        client.post(f"/applications/{application.id}/partners/9/letter", data={}).status_code == 404
    )


def test_withdrawing_asks_for_confirmation(applicant, call):
    _, client = applicant
    application = _start(client, call)
    page = client.get(f"/applications/{application.id}").get_data(as_text=True)
    assert 'name="confirmed"' in page
    unconfirmed = client.post(f"/transitions/application/{application.id}/withdraw")
    assert "Tick the box to confirm" in text_of(client.get(unconfirmed.location))
    assert application.state == "draft"
    client.post(f"/transitions/application/{application.id}/withdraw", data={"confirmed": "yes"})
    assert application.state == "withdrawn"


def test_replacing_a_document_lists_the_earlier_version(applicant, call):
    _, client = applicant
    application = _start(client, call)
    _upload_all(client, application, name="budget-v1.pdf")
    _upload_all(client, application, name="budget-v2.pdf")
    page = text_of(client.get(f"/applications/{application.id}"))
    assert "budget-v2.pdf" in page and "Earlier versions (1)" in page and "budget-v1.pdf" in page


def test_an_amount_outside_the_limits_is_refused_at_submission(applicant, call, world, login):
    _, client = applicant
    application = _start(client, call)
    _save(client, application, amount_requested="45000")
    _upload_all(client, application)
    response = client.post(
        f"/applications/{application.id}/submit", data={"version": str(application.version)}
    )
    assert response.status_code == 422
    assert "must be between 10,000.00 and 40,000.00 USD" in text_of(response)
    assert application.state == "draft"


def test_screening_flags_amounts_and_cofinancing(world, login, call):
    good = make_application(world, call, state="submitted")
    too_much = make_application(world, call, state="submitted")
    too_much.amount_requested = Decimal("45000")
    thin = make_application(world, call, state="submitted")
    thin.cofinancing[0].amount = Decimal("100")
    db.session.flush()
    officer = login(world.officer)
    amount = text_of(officer.get(f"/calls/{call.code}/applications?flag=amount"))
    assert too_much.reference in amount and good.reference not in amount
    cofinancing = text_of(officer.get(f"/calls/{call.code}/applications?flag=cofinancing"))
    assert thin.reference in cofinancing and good.reference not in cofinancing


def test_an_expired_download_link_says_so_and_a_forged_one_is_not_found(applicant, call):
    _, client = applicant
    application = _start(client, call)
    _upload_all(client, application)
    [document] = application.current_documents
    link = client.get(f"/documents/{document.id}").location
    with time_machine.travel(utcnow() + timedelta(hours=1), tick=False):
        expired = client.get(link)
    assert expired.status_code == 410 and "expired" in text_of(expired).lower()
    assert client.get(link[:-3] + "xyz").status_code == 404
    assert client.get(link).status_code == 200


def test_the_home_page_lists_an_associations_applications_ten_at_a_time(world, login):
    """An association that has applied for years keeps a light home page: its newest
    ten applications, then the next ten a page further."""
    call = make_call(world)
    for number in range(12):
        make_application(world, call).title = f"Project {number:02d}"
    db.session.flush()
    member = login(world.applicant)
    first = text_of(member.get("/"))
    assert "Project 11" in first and "Project 02" in first and "Project 01" not in first
    assert "Page 1 of 2" in first
    second = text_of(member.get("/?page=2"))
    assert "Project 01" in second and "Project 00" in second and "Project 02" not in second
    beyond = member.get("/?page=9")
    assert beyond.status_code == 200 and "Project 0" not in text_of(beyond)


def test_the_form_librarys_own_messages_are_in_the_readers_language(applicant, call):
    """WTForms' own refusals come from its catalogs, read once per language per process:
    a French and then a Spanish reader each get theirs, request after request."""
    user, client = applicant
    application = _start(client, call)
    for locale, message in (
        ("fr", "pas un choix valide."),
        ("es", "Opción inválida."),
        ("fr", "pas un choix valide."),
        ("en", "Not a valid choice."),
    ):
        user.locale = locale
        db.session.commit()
        response = _save(client, application, language="xx")
        assert response.status_code == 422
        assert message in text_of(response)
