"""Retention: applications never awarded lose their documents and personal data years
after their call closed; admins preview it; a setting of 0 deletes nothing and says why;
objects leave the store only after the commit."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from config import ConfigError, load_settings
from grants.extensions import db
from grants.models import Application, Document, JobRun, Partner, TeamMember
from grants.models.audit import AuditRow
from grants.services import retention
from grants.services.documents import Upload, add_document
from notifications.scheduler import JOBS, run_job
from tests.documents.conftest import bucket_keys
from tests.documents.test_filetypes import pdf_bytes
from tests.fixtures.programme import make_application, make_award, make_call

NOW = datetime(2033, 6, 1, 12, 0, tzinfo=UTC)
RETENTION_JOB = next(job for job in JOBS if job.name == "retention")


@pytest.fixture
def old_call(world):
    """A call that closed six years before ``NOW``: past the default five years."""
    return make_call(world, state="closed", closes_at=datetime(2027, 4, 30, tzinfo=UTC))


def _with_personal_data(app, world, call, state: str) -> Application:
    application = make_application(world, call, state=state)
    application.team = [TeamMember(position=1, name="Awa Ndiaye", role="Coordinator")]
    application.partners = [Partner(position=1, name="GIE Thiès", role="Workshop")]
    with app.test_request_context():
        add_document(
            world.applicant,
            Upload(io.BytesIO(pdf_bytes(f"% {state}".encode())), "cv.pdf"),
            application=application,
            purpose="cv",
        )
    db.session.flush()
    return application


@pytest.mark.parametrize("raw", ["0", "-2", "five", ""])
def test_an_unusable_setting_stops_the_start_with_the_reason(raw):
    with pytest.raises(ConfigError, match="RETENTION_YEARS_UNAWARDED"):
        load_settings({"RETENTION_YEARS_UNAWARDED": raw})


def test_the_default_keeps_five_years():
    assert load_settings({})["RETENTION_YEARS_UNAWARDED"] == 5


def test_the_preview_lists_what_the_next_run_deletes(app, world, old_call, login):
    rejected = _with_personal_data(app, world, old_call, "rejected")
    _with_personal_data(app, world, old_call, "withdrawn")
    recent = make_call(world, state="closed", closes_at=datetime(2030, 1, 1, tzinfo=UTC))
    _with_personal_data(app, world, recent, "rejected")
    award = make_award(world, state="active")
    award.application.call.closes_at = datetime(2026, 1, 1, tzinfo=UTC)
    db.session.flush()

    preview = retention.preview(NOW, per_page=1)
    assert preview.applications == 2
    assert preview.documents == 4  # the fixture's budget and a cv each
    assert preview.team_members == 2 and preview.partners == 2
    assert [a.id for a in preview.page.items] == [rejected.id]
    assert preview.page.pages == 2

    import time_machine

    with time_machine.travel(NOW, tick=False):
        page = login(world.admin).get("/admin/retention").get_data(as_text=True)
    assert rejected.reference in page and award.application.reference not in page


def test_a_run_deletes_documents_and_personal_data_after_the_commit(app, world, old_call):
    application = _with_personal_data(app, world, old_call, "rejected")
    amount = application.amount_requested
    store = app.extensions["document_store"]
    keys = db.session.scalars(
        select(Document.storage_key).where(Document.application_id == application.id)
    ).all()
    cv_key = [key for key in keys if store.exists(key)]
    assert cv_key
    db.session.commit()

    with db.session.begin_nested() as savepoint:
        retention.clear([application.id], NOW)
        assert all(store.exists(key) for key in cv_key)  # not before the commit
        savepoint.rollback()
    assert all(store.exists(key) for key in cv_key)  # a rollback keeps them

    assert run_job(app, RETENTION_JOB, now=NOW).items == 1
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    assert application.personal_data_deleted_at is not None
    assert application.summary == "" and application.locality == ""
    assert application.created_by_id is None
    assert application.team == [] and application.partners == []
    assert application.current_documents == []
    assert application.amount_requested == amount  # the figures stay
    assert [line.description for line in application.budget_lines] == ["", ""]
    assert not any(store.exists(key) for key in cv_key)
    assert run_job(app, RETENTION_JOB, now=NOW).items == 0  # nothing twice
    runs = db.session.scalars(
        select(AuditRow).where(AuditRow.kind == "retention.run").order_by(AuditRow.id)
    ).all()
    assert [run.changes for run in runs] == [
        {"applications": [application.id], "documents": 2},
        {"applications": [], "documents": 0},
    ]


def test_on_s3_the_objects_go_after_the_commit(app, world, old_call, on_s3):
    application = _with_personal_data(app, world, old_call, "ineligible")
    key = db.session.scalars(
        select(Document.storage_key).where(
            Document.application_id == application.id, Document.purpose == "cv"
        )
    ).one()
    db.session.commit()
    assert key in bucket_keys(on_s3)
    assert retention.run(NOW) == 1
    assert key not in bucket_keys(on_s3)


def test_a_retention_of_zero_deletes_nothing_and_says_why(app, world, old_call, login):
    application = _with_personal_data(app, world, old_call, "rejected")
    documents = db.session.scalar(select(func.count(Document.id)))
    app.config["RETENTION_YEARS_UNAWARDED"] = 0
    try:
        outcome = run_job(app, RETENTION_JOB, now=NOW)
        page = login(world.admin).get("/admin/retention")
    finally:
        app.config["RETENTION_YEARS_UNAWARDED"] = 5
    assert outcome.items == 0
    assert "RETENTION_YEARS_UNAWARDED must be a whole number of years of at least 1" in (
        outcome.error
    )
    run = db.session.scalars(select(JobRun).where(JobRun.job == "retention")).one()
    assert "nothing is deleted" in run.error
    assert page.status_code == 200
    assert "nothing is deleted until it is corrected" in page.get_data(as_text=True)
    refused = db.session.scalars(select(AuditRow).where(AuditRow.kind == "retention.refused"))
    assert "RETENTION_YEARS_UNAWARDED" in refused.one().note
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Document.id))) == documents
    assert db.session.get(Application, application.id).personal_data_deleted_at is None


def test_awarded_applications_are_kept_whatever_their_age(app, world):
    award = make_award(world, state="active")
    award.application.call.closes_at = NOW - timedelta(days=365 * 20)
    db.session.flush()
    assert retention.run(NOW) == 0
    assert award.application.summary
    assert award.amount == Decimal("32000")
