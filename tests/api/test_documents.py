"""Documents through the API: multipart upload checked by content, metadata, download
(the bytes on the local store, a 302 to a short-lived link on S3), and who may."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from grants.extensions import db
from grants.models import Document
from grants.services.accounts import issue_token
from tests.documents.test_filetypes import pdf_bytes
from tests.fixtures.programme import make_application, make_award, make_call

PDF = pdf_bytes()


def bearer(user) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(user, user, 'test', 30)}"}


def _upload(client, headers, owner, owner_id, content=PDF, name="budget.pdf", **extra):
    return client.post(
        "/api/v1/documents",
        data={
            "owner": owner,
            "owner_id": str(owner_id),
            "file": (io.BytesIO(content), name),
            **extra,
        },
        headers=headers,
        content_type="multipart/form-data",
        csrf=False,
    )


def test_upload_read_and_download_on_the_local_store(world, client):
    application = make_application(world, make_call(world))
    headers = bearer(world.applicant)
    document_type = application.call.document_types[0]
    created = _upload(
        client, headers, "application", application.id, document_type_id=str(document_type.id)
    )
    assert created.status_code == 201, created.get_data(as_text=True)
    body = created.get_json()
    assert body["filename"] == "budget.pdf" and body["content_type"] == "application/pdf"
    meta = client.get(f"/api/v1/documents/{body['id']}", headers=headers).get_json()
    assert meta["sha256"] == body["sha256"]
    content = client.get(f"/api/v1/documents/{body['id']}/content", headers=headers)
    assert content.status_code == 200 and content.data == PDF
    assert "budget.pdf" in content.headers["Content-Disposition"]
    outsider = bearer(world.outsider)
    assert client.get(f"/api/v1/documents/{body['id']}", headers=outsider).status_code == 404
    assert (
        client.get(f"/api/v1/documents/{body['id']}/content", headers=outsider).status_code == 404
    )


def test_a_disguised_file_is_refused_and_nothing_is_kept(world, client):
    application = make_application(world, make_call(world), complete=False)
    before = db.session.scalars(select(Document.id)).all()
    refused = _upload(
        client,
        bearer(world.applicant),
        "application",
        application.id,
        b"MZ\x90\x00binary",
        "budget.pdf",
    )
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["code"] == "invalid" and body["errors"]["file"]
    assert db.session.scalars(select(Document.id)).all() == before


def test_supporting_documents_of_a_report_and_an_s3_redirect(world, client, app, s3_store):
    award = make_award(world, state="active")
    report = award.reports[0]
    saved = app.extensions["document_store"]
    app.extensions["document_store"] = s3_store
    try:
        created = _upload(client, bearer(world.applicant), "report", report.id, name="receipt.pdf")
        assert created.status_code == 201, created.get_data(as_text=True)
        document_id = created.get_json()["id"]
        officer = bearer(world.officer)
        link = client.get(f"/api/v1/documents/{document_id}/content", headers=officer)
        assert link.status_code == 302 and "X-Amz-Signature" in link.location
        staff = _upload(client, officer, "report", report.id)
        assert staff.status_code == 403
    finally:
        app.extensions["document_store"] = saved


def test_an_applications_documents_are_listed_with_their_earlier_versions(world, client):
    application = make_application(world, make_call(world))
    headers = bearer(world.applicant)
    document_type = application.call.document_types[0]
    first = _upload(
        client, headers, "application", application.id, document_type_id=str(document_type.id)
    ).get_json()
    second = _upload(
        client, headers, "application", application.id, document_type_id=str(document_type.id)
    ).get_json()
    url = f"/api/v1/applications/{application.id}/documents"
    listed = {d["id"]: d for d in client.get(url, headers=headers).get_json()["items"]}
    assert list(listed)[-2:] == [first["id"], second["id"]]  # after the fixture's own
    assert listed[first["id"]]["replaced_by_id"] == second["id"]
    assert listed[second["id"]]["replaced_by_id"] is None
    assert client.get(url, headers=bearer(world.officer)).status_code == 200
    assert client.get(url, headers=bearer(world.outsider)).status_code == 404
    assert client.get(url, headers=bearer(world.evaluator)).status_code == 404
    association = f"/api/v1/associations/{world.association.id}/documents"
    assert client.get(association, headers=headers).get_json()["items"] == []
    assert client.get(association, headers=bearer(world.outsider)).status_code == 404


def test_a_body_over_the_limit_is_refused_with_the_limit(world, client, app):
    application = make_application(world, make_call(world))
    before = db.session.scalar(select(func.count(Document.id)))
    limit = app.config["MAX_CONTENT_LENGTH"]
    refused = _upload(client, bearer(world.applicant), "application", application.id, b"x" * limit)
    assert refused.status_code == 413
    body = refused.get_json()
    assert body["code"] == "too_large"
    assert f"{limit // (1024 * 1024)} MB" in body["message"]
    assert body["errors"] == {"body": [f"At most {limit} bytes."]}
    assert db.session.scalar(select(func.count(Document.id))) == before
