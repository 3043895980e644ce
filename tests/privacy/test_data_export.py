""" "Download my data": the ZIP, small at once and large by the scheduler, the email in
the person's language, the link only for them until it expires, one at a time."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from grants.extensions import db
from grants.models import DataExport, Document, Notification
from grants.models.audit import AuditRow
from grants.orm import utcnow
from grants.services import personal_data
from grants.services.documents import Upload, add_document
from grants.services.errors import Conflict
from notifications.scheduler import JOBS, run_job
from tests.documents.conftest import bucket_keys
from tests.documents.test_filetypes import pdf_bytes
from tests.fixtures.programme import make_application, make_call

EXPORT_JOB = next(job for job in JOBS if job.name == "data-exports")


def _zip_of(export: DataExport, app) -> zipfile.ZipFile:
    store = app.extensions["document_store"]
    with store.open(export.storage_key) as stream:
        return zipfile.ZipFile(io.BytesIO(stream.read()))


def _exports(person) -> list[DataExport]:
    return db.session.scalars(
        select(DataExport).where(DataExport.user_id == person.id).order_by(DataExport.id)
    ).all()


@pytest.fixture
def written(app, world):
    """The applicant wrote an application with a real uploaded document, in French."""
    world.applicant.locale = "fr"
    call = make_call(world)
    application = make_application(world, call)
    with app.test_request_context():
        document = add_document(
            world.applicant,
            Upload(io.BytesIO(pdf_bytes(b"% budget")), "budget.pdf"),
            application=application,
            purpose="annex",
        )
    db.session.flush()
    return application, document


def test_a_small_account_gets_its_zip_at_once_with_an_email_in_its_language(
    app, world, written, login
):
    application, document = written
    client = login(world.applicant)
    response = client.post("/account/data")
    assert response.status_code == 303
    (export,) = _exports(world.applicant)
    assert export.state == "ready"
    assert export.expires_at == export.ready_at + timedelta(hours=72)
    archive = _zip_of(export, app)
    names = set(archive.namelist())
    assert {"account.json", "memberships.json", "applications.json", "notifications.json"} <= names
    account = json.loads(archive.read("account.json"))
    assert account["email"] == world.applicant.email
    assert "tf_totp_secret" not in account and "password" not in account
    memberships = json.loads(archive.read("memberships.json"))
    assert [m["association"] for m in memberships] == [world.association.name]
    applications = json.loads(archive.read("applications.json"))
    assert [a["reference"] for a in applications] == [application.reference]
    assert applications[0]["budget_lines"][0]["description"] == "Sewing machines"
    stored_name = f"documents/{document.id}-{document.filename}"
    assert archive.read(stored_name) == pdf_bytes(b"% budget")
    email = db.session.scalars(
        select(Notification).where(
            Notification.recipient_id == world.applicant.id,
            Notification.rule == personal_data.READY_RULE,
            Notification.channel == "email",
        )
    ).one()
    assert email.subject == "Vos données sont prêtes à être téléchargées"
    assert email.link == "/account/data"
    page = client.get("/account/data").get_data(as_text=True)
    assert f"/account/data/{export.id}/download" in page
    download = client.get(f"/account/data/{export.id}/download")
    assert download.status_code == 303
    inbox = client.get("/notifications/").get_data(as_text=True)
    assert "Vos données sont prêtes à être téléchargées" in inbox
    trail = db.session.execute(
        select(AuditRow.kind, AuditRow.actor_id, AuditRow.record_id).order_by(AuditRow.id)
    ).all()
    assert [tuple(row) for row in trail if row.kind.startswith("data_export")] == [
        ("data_export.requested", world.applicant.id, export.id),
        ("data_export.downloaded", world.applicant.id, export.id),
    ]


def test_the_database_refuses_two_copies_prepared_at_once(world):
    db.session.add(DataExport(user_id=world.applicant.id, state="preparing", error=""))
    db.session.flush()
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(DataExport(user_id=world.applicant.id, state="preparing", error=""))
    assert len(_exports(world.applicant)) == 1


def test_the_notifications_addressed_to_the_person_are_in_it(app, world, login):
    client = login(world.applicant)
    client.post("/account/data")
    client.post("/account/data")  # the first is ready: a second copy may be asked for
    first, second = _exports(world.applicant)
    notifications = json.loads(_zip_of(second, app).read("notifications.json"))
    assert {(n["channel"], n["subject"]) for n in notifications} == {
        ("in_app", "Your data is ready to download"),
        ("email", "Your data is ready to download"),
    }
    assert first.storage_key != second.storage_key


def test_a_large_account_is_prepared_by_the_scheduler_and_a_second_request_waits(app, world, login):
    call = make_call(world)
    application = make_application(world, call)
    for number in range(personal_data.SMALL_DOCUMENTS + 1):
        db.session.add(
            Document(
                application_id=application.id,
                purpose=f"annex-{number}",
                storage_key=f"applications/large/{number}",
                filename=f"annex-{number}.pdf",
                content_type="application/pdf",
                size=1024,
                sha256="0" * 64,
                uploaded_by_id=world.applicant.id,
            )
        )
    db.session.flush()
    client = login(world.applicant)
    response = client.post("/account/data")
    assert response.status_code == 303
    (export,) = _exports(world.applicant)
    assert export.state == "preparing" and export.storage_key is None
    page = client.get("/account/data").get_data(as_text=True)
    assert "being prepared" in page

    again = client.post("/account/data")
    assert again.status_code == 409
    assert "already being prepared" in again.get_data(as_text=True)
    assert len(_exports(world.applicant)) == 1
    with pytest.raises(Conflict):
        personal_data.request_export(world.applicant)
    assert len(_exports(world.applicant)) == 1

    assert run_job(app, EXPORT_JOB).items == 1
    db.session.expire_all()
    export = db.session.get(DataExport, export.id)
    assert export.state == "ready"
    # The fixture's rows point to no object: the ZIP lists them without a file.
    assert "annex-0.pdf" in export.error
    listing = json.loads(_zip_of(export, app).read("documents.json"))
    assert len(listing) == personal_data.SMALL_DOCUMENTS + 2  # and the budget
    assert all(item["file"] is None for item in listing)
    emails = db.session.scalar(
        select(func.count(Notification.id)).where(
            Notification.rule == personal_data.READY_RULE, Notification.channel == "email"
        )
    )
    assert emails == 1
    assert run_job(app, EXPORT_JOB).items == 0  # nothing twice


def test_another_persons_link_does_not_exist_for_them(app, world, login):
    login(world.applicant).post("/account/data")
    (export,) = _exports(world.applicant)
    other = login(world.outsider).get(f"/account/data/{export.id}/download")
    assert other.status_code == 404
    staff = login(world.admin).get(f"/account/data/{export.id}/download")
    assert staff.status_code == 404


def test_an_expired_link_says_so_and_the_scheduler_deletes_the_zip_after_commit(app, world, login):
    client = login(world.applicant)
    client.post("/account/data")
    (export,) = _exports(world.applicant)
    store = app.extensions["document_store"]
    key = export.storage_key
    assert store.exists(key)
    with time_machine.travel(export.expires_at + timedelta(minutes=1), tick=False):
        response = client.get(f"/account/data/{export.id}/download")
        assert response.status_code == 410
        assert "expired" in response.get_data(as_text=True)
        db.session.expire_all()
        assert db.session.get(DataExport, export.id).state == "ready"  # a read wrote nothing
        assert store.exists(key)
        assert run_job(app, EXPORT_JOB).items == 1
    db.session.expire_all()
    export = db.session.get(DataExport, export.id)
    assert export.state == "expired" and export.storage_key is None
    assert not store.exists(key)


def test_a_rolled_back_expiry_keeps_the_zip(app, world, login):
    login(world.applicant).post("/account/data")
    (export,) = _exports(world.applicant)
    store = app.extensions["document_store"]
    with db.session.begin_nested() as savepoint:
        personal_data.expire_old(export.expires_at + timedelta(seconds=1))
        savepoint.rollback()
    db.session.commit()
    assert store.exists(export.storage_key)


def test_on_s3_the_zip_is_stored_in_the_bucket(app, world, written, on_s3, login):
    application, _ = written
    # The document was stored in the local store before the switch: re-upload it on S3.
    with app.test_request_context():
        add_document(
            world.applicant,
            Upload(io.BytesIO(pdf_bytes(b"% s3")), "plan.pdf"),
            application=application,
            purpose="plan",
        )
    export = personal_data.request_export(world.applicant, utcnow())
    db.session.commit()
    assert export.state == "ready"
    assert export.storage_key in bucket_keys(on_s3)
    archive = _zip_of(export, app)
    assert any(name.endswith("plan.pdf") for name in archive.namelist())
