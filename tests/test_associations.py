"""Associations: registration, editing, invitations, and the admin lists."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from grants.extensions import db
from grants.models.associations import Association, Membership
from tests.clients import text_of
from tests.fixtures.people import make_association, make_user

FORM = {
    "name": "Association des Sénégalais de Lyon",
    "registration_number": "W691234567",
    "registration_country": "FR",
    "residence_country": "FR",
    "countries_of_work": ["SN"],
    "founded_on": "2009-05-16",
    "contact_name": "Awa Ndiaye",
    "contact_email": "contact@asld.example.org",
    "contact_phone": "+33 4 00 00 00 00",
    "website": "https://asld.example.org",
    "description": "Jobs and training for young people in Thiès.",
    "working_languages": ["fr", "wo"],
}


def _count() -> int:
    return db.session.scalar(select(func.count(Association.id)))


def test_a_member_registers_an_association(as_role):
    user, client = as_role("applicant")
    response = client.post("/associations/new", data=FORM)
    assert response.status_code == 302
    association = db.session.scalar(select(Association).where(Association.name == FORM["name"]))
    assert association.state == "pending"
    assert association.countries_of_work == ["SN"] and association.working_languages == ["fr", "wo"]
    assert [m.user_id for m in association.memberships] == [user.id]
    page = client.get(response.location)
    assert "waiting for verification" in text_of(page)


def test_bad_association_input_is_refused_field_by_field(as_role):
    _, client = as_role("applicant")
    before = _count()
    bad = dict(
        FORM,
        registration_country="XX",
        countries_of_work=[],
        website="not a url",
        contact_email="nope",
        founded_on="2999-01-01",
        name="",
    )
    response = client.post("/associations/new", data=bad)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for field in (
        "name",
        "registration_country",
        "countries_of_work",
        "website",
        "contact_email",
        "founded_on",
    ):
        assert f'id="{field}-error"' in page, field
    assert _count() == before


def test_a_description_too_long_is_refused_with_its_length(as_role):
    _, client = as_role("applicant")
    before = _count()
    assert 'data-characters="5000"' in client.get("/associations/new").get_data(as_text=True)
    response = client.post("/associations/new", data=dict(FORM, description="d" * 5_200))
    page = response.get_data(as_text=True)
    assert (
        '<p class="error" id="description-error">'
        "The description can be at most 5,000 characters; it has 5,200.</p>"
    ) in page
    assert _count() == before


def test_html_in_a_text_field_is_shown_as_text(as_role):
    _, client = as_role("applicant")
    response = client.post(
        "/associations/new", data=dict(FORM, description="<script>alert(1)</script>")
    )
    page = client.get(response.location).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_duplicate_name_is_refused(as_role):
    make_association(name=FORM["name"])
    _, client = as_role("applicant")
    before = _count()
    response = client.post("/associations/new", data=FORM)
    assert 'id="name-error"' in response.get_data(as_text=True)
    assert _count() == before


def test_another_associations_page_is_not_found(as_role):
    owner = make_user("applicant")
    association = make_association(owner)
    _, stranger = as_role("applicant")
    assert stranger.get(f"/associations/{association.id}").status_code == 404
    assert stranger.get(f"/associations/{association.id}/edit").status_code == 404


def test_invitation_by_email_brings_in_a_member(as_role, login, mailbox):
    founder, client = as_role("applicant")
    association = make_association(founder)
    response = client.post(
        f"/associations/{association.id}/invitations", data={"email": "moussa@example.org"}
    )
    assert response.status_code == 302
    [message] = mailbox.to("moussa@example.org")
    link = re.search(r"https?://\S+/invitations/\S+", mailbox.body(message)).group(0)
    path = link.replace("http://grants.test", "")

    invitee = make_user("applicant", email="moussa@example.org")
    invitee_client = login(invitee)
    assert association.name in text_of(invitee_client.get(path))
    accepted = invitee_client.post(path)
    assert accepted.status_code == 302
    assert db.session.scalar(
        select(Membership).where(
            Membership.user_id == invitee.id, Membership.association_id == association.id
        )
    )
    # A link works once.
    again = invitee_client.post(path)
    assert again.status_code == 409 and "already been used" in text_of(again)


def test_an_invitation_for_someone_else_is_refused(as_role, login, mailbox):
    founder, client = as_role("applicant")
    association = make_association(founder)
    client.post(f"/associations/{association.id}/invitations", data={"email": "a@example.org"})
    link = re.search(r"/invitations/\S+", mailbox.body(mailbox.to("a@example.org")[0])).group(0)
    other = make_user("applicant", email="b@example.org")
    response = login(other).post(link)
    assert response.status_code == 409
    assert "a@example.org" in text_of(response)
    assert not any(m.association_id == association.id for m in other.memberships)


def test_officers_see_the_queue_of_associations_waiting(as_role):
    make_association(name="Waiting One", state="pending")
    make_association(name="Verified One", state="verified")
    _, client = as_role("programme_officer")
    page = text_of(client.get("/admin/associations?state=pending"))
    assert "Waiting One" in page and "Verified One" not in page


def test_members_upload_verification_documents_and_officers_read_them(as_role, login):
    import io

    from grants.models import Document
    from grants.services.associations import verification_documents

    member, client = as_role("applicant")
    association = make_association(member)
    from tests.documents.test_filetypes import pdf_bytes

    pdf = pdf_bytes()
    response = client.post(
        f"/associations/{association.id}/documents/statutes",
        data={"file": (io.BytesIO(pdf), "statuts.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    document = verification_documents(association)["statutes"]
    assert document.filename == "statuts.pdf"
    officer = login(make_user("programme_officer"))
    assert "statuts.pdf" in text_of(officer.get(f"/associations/{association.id}"))
    assert officer.get(f"/associations/documents/{document.id}").status_code == 302
    stranger = login(make_user("applicant"))
    assert stranger.get(f"/associations/documents/{document.id}").status_code == 404
    # A script renamed .pdf is refused, and nothing is added.
    refused = client.post(
        f"/associations/{association.id}/documents/registration_certificate",
        data={"file": (io.BytesIO(b"#!/bin/sh\nrm -rf /\n"), "certificate.pdf")},
        content_type="multipart/form-data",
    )
    assert "whatever its name says" in text_of(client.get(refused.location))
    assert db.session.scalar(select(func.count(Document.id))) == 1
    assert (
        client.post(f"/associations/{association.id}/documents/passport", data={}).status_code
        == 404
    )
