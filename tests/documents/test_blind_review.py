"""Blind means blind: what an evaluator of a blind call reads and downloads of the
application's documents names nobody, while the officer still sees the originals. On a
real S3 bucket, as in production."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime

import pikepdf
import pytest
from lxml import etree

from grants.extensions import db
from grants.models import DocumentType
from grants.services.documents import Upload, add_document
from tests.clients import text_of
from tests.documents.test_filetypes import CONTENT_TYPES, zip_bytes
from tests.fixtures.programme import make_application, make_call, make_review

pytestmark = pytest.mark.s3

LYON = "Association des Sénégalais de Lyon"
AUTHOR = "Awa Ndiaye"
BUDGET_NAME = f"Budget {LYON} 2027.pdf"


def named_pdf() -> bytes:
    """A budget whose every metadata field names the association or its treasurer."""
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.docinfo["/Author"] = AUTHOR
    pdf.docinfo["/Creator"] = f"Word for {LYON}"
    pdf.docinfo["/Producer"] = f"Acrobat, licensed to {LYON}"
    pdf.docinfo["/Title"] = f"Budget {LYON}"
    pdf.docinfo["/Subject"] = f"Demande de {LYON}"
    pdf.docinfo["/Keywords"] = f"{LYON}, Thiès"
    with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
        xmp["dc:creator"] = [AUTHOR]
        xmp["dc:title"] = f"Budget {LYON}"
        xmp["pdf:Producer"] = LYON
    pdf.pages[0].obj.Annots = pdf.make_indirect(
        pikepdf.Array(
            [
                pikepdf.Dictionary(
                    Type=pikepdf.Name.Annot,
                    Subtype=pikepdf.Name.Text,
                    Rect=[0, 0, 20, 20],
                    T=pikepdf.String(AUTHOR),
                    Contents=pikepdf.String("Vérifier la ligne 3"),
                )
            ]
        )
    )
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


CORE = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties
  xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <dc:title>Plan de {LYON}</dc:title><dc:subject>{LYON}</dc:subject>
  <dc:creator>{AUTHOR}</dc:creator><cp:keywords>{LYON}</cp:keywords>
  <dc:description>{LYON}</dc:description><cp:lastModifiedBy>{AUTHOR}</cp:lastModifiedBy>
  <cp:revision>3</cp:revision>
  <dcterms:created xsi:type="dcterms:W3CDTF">2027-01-10T09:00:00Z</dcterms:created>
</cp:coreProperties>""".encode()
APP = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">
  <Application>Microsoft Office Word</Application><Company>{LYON}</Company>
  <Manager>{AUTHOR}</Manager><Template>C:\\Users\\awa\\{LYON}.dotx</Template><Pages>2</Pages>
</Properties>""".encode()
ODF_META = f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
  xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"
  xmlns:dc="http://purl.org/dc/elements/1.1/" office:version="1.3">
  <office:meta><meta:generator>LibreOffice ({LYON})</meta:generator>
  <dc:title>{LYON}</dc:title><meta:initial-creator>{AUTHOR}</meta:initial-creator>
  <dc:creator>{AUTHOR}</dc:creator><meta:keyword>{LYON}</meta:keyword>
  <meta:user-defined meta:name="Association">{LYON}</meta:user-defined>
  <meta:creation-date>2027-01-10T09:00:00</meta:creation-date>
  <meta:document-statistic meta:page-count="2"/></office:meta>
</office:document-meta>""".encode()


def named_docx() -> bytes:
    return zip_bytes(
        [
            ("[Content_Types].xml", CONTENT_TYPES),
            ("_rels/.rels", b"<Relationships/>"),
            ("word/document.xml", b"<document>Le plan</document>"),
            ("docProps/core.xml", CORE),
            ("docProps/app.xml", APP),
        ]
    )


def named_ods() -> bytes:
    return zip_bytes(
        [
            ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
            ("content.xml", b"<office:document-content/>"),
            ("meta.xml", ODF_META),
            ("META-INF/manifest.xml", b"<m/>"),
        ]
    )


@pytest.fixture
def blind_call(world):
    call = make_call(world, blind_review=True)
    call.document_types[0].name = {"en": "Detailed budget", "fr": "Budget détaillé"}
    call.document_types += [
        DocumentType(position=2, name={"en": "Work plan", "fr": "Plan de travail"}),
        DocumentType(position=3, name={"en": "Cash flow", "fr": "Trésorerie"}),
        DocumentType(position=4, name={"en": "Registration", "fr": "Enregistrement"}),
    ]
    call.document_types[3].identifying = True
    db.session.flush()
    return call


@pytest.fixture
def reviewed(app, world, blind_call, on_s3):
    """An application of the blind call with four documents, and its attested review."""
    application = make_application(world, blind_call, state="in_review", complete=False)
    budget, plan, cash, registration = blind_call.document_types
    uploads = [
        (budget, named_pdf(), BUDGET_NAME),
        (plan, named_docx(), f"Plan {LYON}.docx"),
        (cash, named_ods(), f"Trésorerie {LYON}.ods"),
        (registration, named_pdf(), f"Récépissé {LYON}.pdf"),
    ]
    with app.test_request_context():
        documents = [
            add_document(
                world.applicant,
                Upload(io.BytesIO(data), name),
                application=application,
                document_type=document_type,
            )
            for document_type, data, name in uploads
        ]
    review = make_review(world, application, scored=False)
    review.no_conflict_attested_at = datetime(2027, 3, 2, tzinfo=UTC)
    world.evaluator.locale = "fr"
    db.session.flush()
    db.session.expire(application, ["documents"])
    return review, documents


def _download(client, review, document):
    return client.get(f"/reviews/{review.id}/documents/{document.id}")


def test_the_evaluator_of_a_blind_call_reads_neutral_names_in_their_language(
    world, reviewed, login
):
    review, (budget, plan, cash, registration) = reviewed
    page = login(world.evaluator).get(f"/reviews/{review.id}").get_data(as_text=True)

    for shown in ("Budget détaillé", "Plan de travail", "Trésorerie"):
        assert shown in page
    assert LYON not in page and "Sénégalais" not in page
    assert ".pdf" not in page and ".docx" not in page
    # The type that names the association is not offered at all.
    assert f"/documents/{registration.id}" not in page


def test_the_officer_still_sees_the_original_file_names(world, reviewed, login):
    review, (budget, *_) = reviewed
    page = text_of(login(world.officer).get(f"/applications/{review.application_id}"))

    assert BUDGET_NAME in page


def test_the_evaluators_pdf_is_a_copy_without_metadata_under_a_neutral_name(
    world, reviewed, login, on_s3
):
    review, (budget, *_) = reviewed
    client = login(world.evaluator)

    response = _download(client, review, budget)

    assert response.status_code == 200  # sent from here: no link to the stored original
    assert response.mimetype == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert "Budget%20d%C3%A9taill%C3%A9.pdf" in disposition
    assert "Lyon" not in disposition and "S%C3%A9n%C3%A9galais" not in disposition
    assert "no-store" in response.headers["Cache-Control"]
    data = response.data
    assert AUTHOR.encode() not in data and b"Lyon" not in data
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert "/Info" not in pdf.trailer
        assert "/Metadata" not in pdf.Root
        assert len(pdf.pages) == 1
        annotation = pdf.pages[0].obj.Annots[0]
        assert "/T" not in annotation and str(annotation.Contents) == "Vérifier la ligne 3"
    with on_s3.open(budget.storage_key) as stored:
        assert AUTHOR.encode() in stored.read()  # the original is kept, for the officer


def test_the_evaluators_office_files_lose_their_personal_properties(world, reviewed, login):
    review, (_, plan, cash, _) = reviewed
    client = login(world.evaluator)

    word = _download(client, review, plan)
    spreadsheet = _download(client, review, cash)

    assert "Plan de travail.docx" in word.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(word.data)) as archive:
        core = etree.fromstring(archive.read("docProps/core.xml"))
        app = etree.fromstring(archive.read("docProps/app.xml"))
        assert archive.read("word/document.xml") == b"<document>Le plan</document>"
    assert {etree.QName(child).localname for child in core} == {"revision", "created"}
    assert {etree.QName(child).localname for child in app} == {"Application", "Pages"}
    assert "Tr%C3%A9sorerie.ods" in spreadsheet.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(spreadsheet.data)) as archive:
        first = archive.infolist()[0]
        assert first.filename == "mimetype" and first.compress_type == zipfile.ZIP_STORED
        meta = archive.read("meta.xml")
    assert AUTHOR.encode() not in meta and b"Lyon" not in meta
    assert b"creation-date" in meta and b"page-count" in meta


def test_the_evaluator_cannot_reach_the_hidden_document_nor_before_attesting(
    world, reviewed, login
):
    review, (budget, _, _, registration) = reviewed
    client = login(world.evaluator)

    assert _download(client, review, registration).status_code == 404
    review.no_conflict_attested_at = None
    db.session.flush()
    assert _download(client, review, budget).status_code == 404


def test_two_documents_of_one_name_are_numbered(world, reviewed, login):
    review, (budget, plan, cash, _) = reviewed
    call = review.application.call
    call.document_types[2].name = {"en": "Detailed budget", "fr": "Budget détaillé"}
    db.session.flush()

    page = login(world.evaluator).get(f"/reviews/{review.id}").get_data(as_text=True)

    assert "Budget détaillé 1" in page and "Budget détaillé 2" in page


def test_outside_a_blind_call_the_evaluator_gets_the_file_itself(world, reviewed, login):
    review, (budget, *_) = reviewed
    review.application.call.blind_review = False
    db.session.flush()
    client = login(world.evaluator)

    page = client.get(f"/reviews/{review.id}").get_data(as_text=True)
    response = _download(client, review, budget)

    assert BUDGET_NAME in page
    assert response.status_code == 302  # a short-lived link to the stored file
