"""What an upload may not be: a PDF that acts when opened, or one nobody can open; and the
name a file keeps, which follows what it is. On both databases, with the local store and
on a real S3 bucket."""

from __future__ import annotations

import io

import pikepdf
import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import Document
from grants.services.documents import Upload, add_document, download_url
from grants.services.errors import InvalidInput
from tests.documents.conftest import bucket_keys
from tests.documents.test_filetypes import docx_bytes, pdf_bytes, png_bytes
from tests.fixtures.programme import make_application, make_call


@pytest.fixture(autouse=True)
def _in_a_request(app):
    with app.test_request_context():
        yield


@pytest.fixture
def application(world):
    return make_application(world, make_call(world), complete=False)


@pytest.fixture
def budget(application):
    return application.call.document_types[0]


def _upload(world, application, budget, data: bytes, filename: str) -> Document:
    return add_document(
        world.applicant,
        Upload(io.BytesIO(data), filename, "application/octet-stream"),
        application=application,
        document_type=budget,
    )


def _rows() -> int:
    return db.session.scalar(select(func.count()).select_from(Document))


def _files(store) -> set:
    return {path for path in store.root.rglob("*") if path.is_file()}


# --- PDFs built with pikepdf, each with one kind of active content ------------------------


def built_pdf(change=None) -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    if change is not None:
        change(pdf)
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def _javascript_in_names(pdf):
    script = pdf.make_indirect(
        pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('hi')"))
    )
    pdf.Root.Names = pikepdf.Dictionary(
        JavaScript=pikepdf.Dictionary(Names=pikepdf.Array([pikepdf.String("start"), script]))
    )


def _javascript_on_open(pdf):
    pdf.Root.OpenAction = pikepdf.Dictionary(
        S=pikepdf.Name.JavaScript, JS=pikepdf.String("this.print()")
    )


def _javascript_in_a_link(pdf):
    pdf.pages[0].obj.Annots = pdf.make_indirect(
        pikepdf.Array(
            [
                pikepdf.Dictionary(
                    Type=pikepdf.Name.Annot,
                    Subtype=pikepdf.Name.Link,
                    Rect=[0, 0, 100, 100],
                    A=pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("x()")),
                )
            ]
        )
    )


def _launch_on_open(pdf):
    pdf.Root.OpenAction = pikepdf.Dictionary(
        S=pikepdf.Name.Launch, F=pikepdf.String("C:\\Windows\\System32\\cmd.exe")
    )


def _launch_when_a_page_opens(pdf):
    pdf.pages[0].obj.AA = pikepdf.Dictionary(
        O=pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("setup.exe"))
    )


def _embedded_file(pdf):
    pdf.attachments["setup.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ\x90\x00", mime_type="")


def _file_attachment_annotation(pdf):
    spec = pikepdf.AttachedFileSpec(pdf, b"MZ\x90\x00", mime_type="").obj
    pdf.pages[0].obj.Annots = pdf.make_indirect(
        pikepdf.Array(
            [
                pikepdf.Dictionary(
                    Type=pikepdf.Name.Annot,
                    Subtype=pikepdf.Name.FileAttachment,
                    Rect=[0, 0, 20, 20],
                    FS=spec,
                )
            ]
        )
    )


def _password_protected() -> bytes:
    buffer = io.BytesIO()
    with pikepdf.open(io.BytesIO(built_pdf())) as pdf:
        pdf.save(buffer, encryption=pikepdf.Encryption(user="secret", owner="secret"))
    return buffer.getvalue()


SCRIPTS = "contains JavaScript, which would run on the computer of whoever opens it"
LAUNCHES = "contains an action that starts a program or opens another file"
ATTACHMENTS = "has other files attached inside it"
REFUSED_PDFS = [
    pytest.param(built_pdf(_javascript_in_names), SCRIPTS, id="javascript-names-tree"),
    pytest.param(built_pdf(_javascript_on_open), SCRIPTS, id="javascript-open-action"),
    pytest.param(built_pdf(_javascript_in_a_link), SCRIPTS, id="javascript-link-action"),
    pytest.param(built_pdf(_launch_on_open), LAUNCHES, id="launch-open-action"),
    pytest.param(built_pdf(_launch_when_a_page_opens), LAUNCHES, id="launch-page-action"),
    pytest.param(built_pdf(_embedded_file), ATTACHMENTS, id="embedded-files"),
    pytest.param(built_pdf(_file_attachment_annotation), ATTACHMENTS, id="file-attachment"),
    pytest.param(_password_protected(), "protected by a password", id="password"),
    pytest.param(b"%PDF-1.7\n" + b"\x00garbage" * 50, "damaged and cannot be opened", id="broken"),
    pytest.param(built_pdf()[:200], "damaged and cannot be opened", id="cut-short-in-transit"),
]


@pytest.mark.parametrize(("data", "expected"), REFUSED_PDFS)
def test_a_pdf_that_acts_or_cannot_be_opened_is_refused_and_nothing_is_stored(
    app, world, application, budget, data, expected
):
    store = app.extensions["document_store"]
    rows, files = _rows(), _files(store)

    with pytest.raises(InvalidInput) as refused:
        _upload(world, application, budget, data, "budget.pdf")

    assert expected in refused.value.message
    assert refused.value.status == 422
    assert refused.value.errors["file"] and all(
        sentence in refused.value.message for sentence in refused.value.errors["file"]
    )
    assert _rows() == rows
    assert _files(store) == files


def test_the_refusal_speaks_the_uploaders_language(world, application, budget):
    with force_locale("fr"), pytest.raises(InvalidInput) as refused:
        _upload(world, application, budget, built_pdf(_javascript_on_open), "budget.pdf")

    assert "JavaScript" in refused.value.message
    assert "Ce PDF" in refused.value.message


def test_a_pdf_with_several_problems_names_each(world, application, budget):
    def scripted_and_attached(pdf):
        _javascript_on_open(pdf)
        _embedded_file(pdf)

    with pytest.raises(InvalidInput) as refused:
        _upload(world, application, budget, built_pdf(scripted_and_attached), "budget.pdf")

    assert len(refused.value.errors["file"]) == 2
    assert SCRIPTS in refused.value.message and ATTACHMENTS in refused.value.message


def test_a_plain_pdf_and_one_protected_only_against_editing_are_accepted(
    world, application, budget
):
    owner_only = io.BytesIO()
    with pikepdf.open(io.BytesIO(built_pdf())) as pdf:
        pdf.save(owner_only, encryption=pikepdf.Encryption(user="", owner="office"))

    plain = _upload(world, application, budget, built_pdf(), "budget.pdf")
    protected = _upload(world, application, budget, owner_only.getvalue(), "budget-v2.pdf")

    assert plain.id and protected.id
    assert plain.replaced_by_id == protected.id


@pytest.mark.s3
@pytest.mark.parametrize(("data", "expected"), REFUSED_PDFS[:1] + REFUSED_PDFS[5:6])
def test_on_s3_a_refused_pdf_leaves_no_object_and_no_row(
    world, application, budget, on_s3, data, expected
):
    kept = _upload(world, application, budget, pdf_bytes(), "budget.pdf")
    rows = _rows()

    with pytest.raises(InvalidInput, match=expected):
        _upload(world, application, budget, data, "budget-v2.pdf")

    assert _rows() == rows
    assert bucket_keys(on_s3) == {kept.storage_key}
    assert not on_s3.client.list_multipart_uploads(Bucket=on_s3.bucket).get("Uploads")


# --- the name follows the kind ------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        pytest.param(pdf_bytes(), "setup.exe", "setup.pdf", id="pdf-named-exe"),
        pytest.param(pdf_bytes(), "budget", "budget.pdf", id="no-extension"),
        pytest.param(docx_bytes(), "plan.pdf", "plan.docx", id="word-named-pdf"),
        pytest.param(png_bytes(), "photo.JPG", "photo.png", id="png-named-jpg"),
        pytest.param(pdf_bytes(), "Budget.PDF", "Budget.PDF", id="right-extension-kept"),
        pytest.param(pdf_bytes(), "budget v2.final draft", "budget v2.final draft.pdf", id="dots"),
        pytest.param(pdf_bytes(), "x" * 300 + ".exe", "x" * 196 + ".pdf", id="long"),
    ],
)
def test_a_stored_file_is_named_for_what_it_is(
    world, application, budget, data, filename, expected
):
    document = _upload(world, application, budget, data, filename)

    assert document.filename == expected


def test_a_pdf_named_setup_exe_is_served_as_setup_pdf(world, application, budget, client):
    document = _upload(world, application, budget, pdf_bytes(), "setup.exe")

    response = client.get(download_url(document))

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert "filename=setup.pdf" in disposition and "exe" not in disposition


def test_a_row_stored_before_names_followed_kinds_is_served_under_its_kind(
    world, application, budget, client
):
    document = _upload(world, application, budget, pdf_bytes(), "budget.pdf")
    document.filename = "setup.exe"  # as an older version of the service kept it

    response = client.get(download_url(document))

    assert "filename=setup.pdf" in response.headers["Content-Disposition"]


@pytest.mark.s3
def test_on_s3_a_pdf_named_setup_exe_is_stored_and_served_as_setup_pdf(
    world, application, budget, on_s3
):
    import urllib.request

    document = _upload(world, application, budget, pdf_bytes(), "setup.exe")

    assert document.filename == "setup.pdf"
    with urllib.request.urlopen(download_url(document), timeout=10) as response:
        disposition = response.headers["Content-Disposition"]
        assert response.read() == pdf_bytes()
    assert 'filename="setup.pdf"' in disposition and "exe" not in disposition
