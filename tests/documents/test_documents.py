"""The document upload service, on both databases with the local store, and on real S3.

Nothing of ours is mocked: files are real (if tiny), the store writes to a directory or to
a SeaweedFS bucket, and rollbacks are the database's own.
"""

from __future__ import annotations

import hashlib
import io
import logging
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from grants.extensions import db
from grants.filetypes import KINDS
from grants.models import Document, DocumentType
from grants.services.documents import (
    StorageUnavailable,
    Upload,
    add_document,
    current_document,
    download_url,
    open_document,
    versions,
)
from grants.services.errors import InvalidInput
from grants.storage import UNAVAILABLE, LocalDocumentStore
from tests.documents.conftest import bucket_keys
from tests.documents.test_filetypes import (
    docx_bytes,
    ods_bytes,
    pdf_bytes,
    png_bytes,
    windows_exe_bytes,
)
from tests.fixtures.programme import make_application, make_call, make_report

MB = 1024 * 1024


class Source(io.RawIOBase):
    """An upload stream that counts what is read from it.

    ``seekable=False`` makes it a one-way stream, like a request body; ``claimed_size``
    makes seeking to the end report a size other than the real one. ``bytes_read`` counts
    every byte handed out (the head twice when it is sniffed, then stored), ``furthest``
    how far into the file reading went.
    """

    def __init__(self, data: bytes, seekable: bool = True, claimed_size: int | None = None) -> None:
        super().__init__()
        self._data = io.BytesIO(data)
        self._seekable = seekable
        self._claimed_size = claimed_size
        self.bytes_read = 0
        self.furthest = 0  # how far into the file anything was read

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seekable

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if not self._seekable:
            raise io.UnsupportedOperation("seek")
        if whence == io.SEEK_END and self._claimed_size is not None:
            return self._claimed_size
        return self._data.seek(offset, whence)

    def tell(self) -> int:
        return self._data.tell()

    def readinto(self, buffer) -> int:
        count = self._data.readinto(buffer)
        self.bytes_read += count
        self.furthest = max(self.furthest, self._data.tell())
        return count


def upload(data: bytes, filename: str = "document.pdf", content_type: str = "") -> Upload:
    return Upload(io.BytesIO(data), filename, content_type)


def stored_files(store: LocalDocumentStore) -> set[Path]:
    """Every file under the store's directory, temporary ones included."""
    return {path for path in store.root.rglob("*") if path.is_file()}


def document_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Document))


@pytest.fixture(autouse=True)
def _in_a_request(app):
    """Services run inside a request, where the person's language is known."""
    with app.test_request_context():
        yield


@pytest.fixture
def store(app) -> LocalDocumentStore:
    store = app.extensions["document_store"]
    assert isinstance(store, LocalDocumentStore)
    return store


@pytest.fixture
def call(world):
    return make_call(world)


@pytest.fixture
def application(world, call):
    return make_application(world, call, complete=False)


@pytest.fixture
def budget(call) -> DocumentType:
    """The call's one document type: every kind, 10 MB."""
    return call.document_types[0]


@pytest.fixture
def statutes(call) -> DocumentType:
    """A stricter document type: PDF only, at most 1 MB."""
    document_type = DocumentType(
        call=call, position=2, name={"en": "Statutes"}, allowed_kinds=["pdf"], max_size_mb=1
    )
    db.session.add(document_type)
    db.session.flush()
    return document_type


# --- storing and reading back ------------------------------------------------------------


def test_a_document_round_trips_with_its_facts(app, world, application, budget, store, client):
    data = pdf_bytes(b"% budget for Thies\n")

    document = add_document(
        world.applicant,
        upload(data, "../../etc/pa\x00ss wd.pdf", "application/x-msdownload"),
        application=application,
        document_type=budget,
    )

    assert document.id is not None
    assert document.application_id == application.id
    assert document.document_type_id == budget.id
    assert document.uploaded_by_id == world.applicant.id
    assert document.size == len(data)
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    assert document.content_type == "application/pdf"  # the content's, not the client's
    assert document.filename == "pass wd.pdf"
    assert document.storage_key.startswith(f"applications/{application.id}/")
    assert "pass" not in document.storage_key
    assert store.exists(document.storage_key)
    with open_document(document) as stream:
        assert stream.read() == data
    assert current_document(application, budget) == document
    assert application.current_documents == [document]
    assert versions(document) == []

    response = client.get(download_url(document))
    assert response.status_code == 200
    assert response.data == data
    assert response.mimetype == "application/pdf"
    assert 'filename="pass wd.pdf"' in response.headers["Content-Disposition"]
    store.delete(document.storage_key)  # the download request committed, so the object stays


def test_the_stored_content_type_is_the_sniffed_kind(world, application, budget):
    document = add_document(
        world.applicant,
        upload(docx_bytes(), "plan.pdf", "application/pdf"),
        application=application,
        document_type=budget,
    )

    assert document.content_type == KINDS["docx"]
    assert document.filename == "plan.docx"  # the name follows the content


def test_replacing_a_document_keeps_the_earlier_versions(world, application, budget, store):
    first = add_document(
        world.applicant,
        upload(pdf_bytes(), "v1.pdf"),
        application=application,
        document_type=budget,
    )
    second = add_document(
        world.applicant,
        upload(png_bytes(), "v2.png"),
        application=application,
        document_type=budget,
    )
    third = add_document(
        world.applicant,
        upload(ods_bytes(), "v3.ods"),
        application=application,
        document_type=budget,
    )

    assert (first.replaced_by_id, second.replaced_by_id) == (second.id, third.id)
    assert third.replaced_by_id is None
    assert current_document(application, budget) == third
    assert application.current_documents == [third]
    assert versions(third) == [second, first]
    assert versions(second) == [first]
    assert all(store.exists(d.storage_key) for d in (first, second, third))


def test_documents_of_other_types_are_not_replaced(world, application, budget, statutes):
    budget_document = add_document(
        world.applicant, upload(pdf_bytes()), application=application, document_type=budget
    )
    statutes_document = add_document(
        world.applicant, upload(pdf_bytes()), application=application, document_type=statutes
    )

    assert budget_document.replaced_by_id is None
    assert current_document(application, budget) == budget_document
    assert current_document(application, statutes) == statutes_document


def test_association_documents_are_replaced_by_purpose(world, store):
    association = world.association
    statutes = add_document(
        world.applicant,
        upload(pdf_bytes(), "statutes.pdf"),
        association=association,
        purpose="statutes",
    )
    receipt = add_document(
        world.applicant,
        upload(png_bytes(), "receipt.png"),
        association=association,
        purpose="registration_receipt",
    )
    new_statutes = add_document(
        world.applicant,
        upload(pdf_bytes(), "statutes-2027.pdf"),
        association=association,
        purpose="statutes",
    )

    assert new_statutes.storage_key.startswith(f"associations/{association.id}/")
    assert statutes.replaced_by_id == new_statutes.id
    assert receipt.replaced_by_id is None
    assert versions(new_statutes) == [statutes]


def test_report_documents_are_stored_under_the_report(world, store):
    report = make_report(world)

    document = add_document(
        world.applicant,
        upload(pdf_bytes(), "activity report.pdf"),
        report=report,
        purpose="activity_report",
    )

    assert document.report_id == report.id
    assert document.storage_key.startswith(f"reports/{report.id}/")
    assert store.exists(document.storage_key)


@pytest.mark.parametrize(
    "owners",
    [{}, {"application": True, "association": True}],
    ids=["no-owner", "two-owners"],
)
def test_a_document_has_exactly_one_owner(world, application, owners):
    given = {
        "application": application if owners.get("application") else None,
        "association": world.association if owners.get("association") else None,
    }
    with pytest.raises(ValueError, match="exactly one"):
        add_document(world.applicant, upload(pdf_bytes()), **given)


# --- refusals ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename", "use_statutes", "expected"),
    [
        pytest.param(b"", "empty.pdf", False, "This file is empty", id="zero-bytes"),
        pytest.param(
            windows_exe_bytes(),
            "invoice.pdf",
            False,
            "not a document in one of the accepted formats (PDF, Word, Excel, OpenDocument,"
            " JPEG, or PNG), whatever its name says",
            id="program-renamed-pdf",
        ),
        pytest.param(
            png_bytes(),
            "statutes.png",
            True,
            "not a document in the accepted format (PDF)",
            id="png-where-only-pdf",
        ),
        pytest.param(
            pdf_bytes(b"%" + b"x" * (2 * MB) + b"\n"),
            "scan.pdf",
            True,
            "larger than 1 MB",
            id="over-the-size-limit",
        ),
    ],
)
def test_a_refused_file_leaves_no_row_and_no_object(
    world, application, budget, statutes, store, data, filename, use_statutes, expected
):
    rows, files = document_count(), stored_files(store)

    with pytest.raises(InvalidInput) as refused:
        add_document(
            world.applicant,
            upload(data, filename),
            application=application,
            document_type=statutes if use_statutes else budget,
        )

    assert expected in refused.value.message
    assert refused.value.errors == {"file": [refused.value.message]}
    assert refused.value.status == 422
    assert document_count() == rows
    assert stored_files(store) == files


@pytest.mark.parametrize("seekable", [True, False], ids=["seekable", "one-way"])
def test_an_oversized_file_is_refused_after_reading_at_most_the_limit(
    world, application, statutes, store, seekable
):
    source = Source(pdf_bytes(b"%" + b"x" * (5 * MB) + b"\n"), seekable=seekable)
    files = stored_files(store)

    with pytest.raises(InvalidInput, match="larger than 1 MB") as refused:
        add_document(
            world.applicant,
            Upload(source, "scan.pdf"),
            application=application,
            document_type=statutes,
        )

    assert source.bytes_read <= 1 * MB + 1
    assert refused.value.errors["file"] == [refused.value.message]
    assert stored_files(store) == files


def test_a_stream_that_understates_its_size_is_still_stopped(world, application, statutes, store):
    """The size a stream reports is a hint; the bytes actually read are the limit."""
    source = Source(pdf_bytes(b"%" + b"x" * (3 * MB) + b"\n"), claimed_size=1000)
    rows, files = document_count(), stored_files(store)

    with pytest.raises(InvalidInput, match="larger than 1 MB"):
        add_document(
            world.applicant,
            Upload(source, "scan.pdf"),
            application=application,
            document_type=statutes,
        )

    assert source.furthest == 1 * MB + 1
    assert document_count() == rows
    assert stored_files(store) == files


def test_a_file_exactly_at_the_limit_is_accepted(world, application, statutes):
    head = pdf_bytes()
    data = head + b"%" * (1 * MB - len(head))

    document = add_document(
        world.applicant, upload(data), application=application, document_type=statutes
    )

    assert document.size == 1 * MB


def test_a_one_way_stream_is_accepted(world, application, budget, store):
    data = docx_bytes()

    document = add_document(
        world.applicant,
        Upload(Source(data, seekable=False), "plan.docx"),
        application=application,
        document_type=budget,
    )

    assert document.content_type == KINDS["docx"]
    assert document.sha256 == hashlib.sha256(data).hexdigest()


# --- rollbacks delete what they orphan ---------------------------------------------------


def _add(world, application, document_type) -> Document:
    return add_document(
        world.applicant, upload(pdf_bytes()), application=application, document_type=document_type
    )


def test_rolling_back_a_savepoint_deletes_only_its_objects(
    world, application, budget, statutes, store
):
    outer = _add(world, application, budget)

    savepoint = db.session.begin_nested()
    inner = _add(world, application, statutes)
    assert store.exists(inner.storage_key)
    savepoint.rollback()

    assert not store.exists(inner.storage_key)
    assert store.exists(outer.storage_key)
    assert db.session.scalar(select(Document).where(Document.id == outer.id)) is not None
    assert (
        db.session.scalar(select(Document).where(Document.storage_key == inner.storage_key)) is None
    )


def test_an_unrelated_failing_savepoint_keeps_the_objects_around_it(
    world, application, budget, store
):
    document = _add(world, application, budget)

    with pytest.raises(IntegrityError):
        with db.session.begin_nested():
            db.session.add(
                Document(
                    association_id=world.association.id,
                    storage_key="not/really/stored",
                    filename="x.pdf",
                    content_type="application/pdf",
                    size=0,  # refused by the database
                    sha256="0" * 64,
                )
            )
            db.session.flush()

    assert store.exists(document.storage_key)
    db.session.commit()
    assert store.exists(document.storage_key)
    store.delete(document.storage_key)  # committed objects are not removed by the test harness


def test_an_object_in_a_released_savepoint_goes_with_the_outer_rollback(
    world, application, budget, store
):
    outer = db.session.begin_nested()
    inner = db.session.begin_nested()
    document = _add(world, application, budget)
    inner.commit()
    assert store.exists(document.storage_key)

    outer.rollback()

    assert not store.exists(document.storage_key)


def test_a_full_rollback_deletes_uncommitted_objects_and_keeps_committed_ones(
    world, application, budget, statutes, store
):
    db.session.commit()  # the world and the application, so the rollback below keeps them
    kept = _add(world, application, budget)
    db.session.commit()
    try:
        dropped = _add(world, application, statutes)
        assert store.exists(dropped.storage_key)

        db.session.rollback()

        assert not store.exists(dropped.storage_key)
        assert store.exists(kept.storage_key)
        assert db.session.get(Document, kept.id) is not None
    finally:
        store.delete(kept.storage_key)


def test_closing_the_session_without_commit_deletes_the_object(world, application, budget, store):
    document = _add(world, application, budget)
    key = document.storage_key

    db.session.close()

    assert not store.exists(key)


def test_a_failed_deletion_is_logged_and_does_not_break_the_rollback(
    world, application, budget, store, caplog
):
    document = _add(world, application, budget)
    path = store.root / document.storage_key
    path.unlink()
    path.mkdir()  # now the object cannot be deleted as a file
    try:
        with caplog.at_level(logging.WARNING, logger="grants.services.documents"):
            db.session.rollback()
        assert f"Could not delete document object {document.storage_key}" in caplog.text
    finally:
        path.rmdir()


# --- on a real S3 bucket -----------------------------------------------------------------


@pytest.mark.s3
def test_s3_round_trip_and_rollback(world, application, budget, statutes, on_s3):
    data = pdf_bytes(b"% budget on S3\n")

    document = add_document(
        world.applicant,
        upload(data, "budget 2027.pdf"),
        application=application,
        document_type=budget,
    )

    assert document.size == len(data)
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    assert document.content_type == "application/pdf"
    assert on_s3.exists(document.storage_key)
    with open_document(document) as stream:
        assert stream.read() == data
    with urllib.request.urlopen(download_url(document), timeout=10) as response:
        assert response.read() == data
        assert "budget 2027.pdf" in response.headers["Content-Disposition"]

    savepoint = db.session.begin_nested()
    dropped = _add(world, application, statutes)
    assert on_s3.exists(dropped.storage_key)
    savepoint.rollback()

    assert bucket_keys(on_s3) == {document.storage_key}


@pytest.mark.s3
def test_s3_unavailable_is_reported_and_leaves_nothing(
    world, application, budget, on_s3, seaweedfs
):
    first = add_document(
        world.applicant, upload(pdf_bytes()), application=application, document_type=budget
    )
    rows = document_count()

    seaweedfs.stop()
    try:
        with pytest.raises(StorageUnavailable) as unavailable:
            add_document(
                world.applicant,
                upload(pdf_bytes(), "second.pdf"),
                application=application,
                document_type=budget,
            )
    finally:
        seaweedfs.start()

    error = unavailable.value
    assert error.status == 503
    assert error.message == UNAVAILABLE
    assert error.errors == {"file": [UNAVAILABLE]}
    assert seaweedfs.secret_key not in error.message
    assert seaweedfs.access_key not in error.message
    assert document_count() == rows
    assert current_document(application, budget) == first
    assert bucket_keys(on_s3) == {first.storage_key}
    uploads = on_s3.client.list_multipart_uploads(Bucket=on_s3.bucket)
    assert not uploads.get("Uploads")
