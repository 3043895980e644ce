"""Documents through the API: upload to an application, a report or an association
(multipart), read the metadata, download (302 to a short-lived link on S3, the bytes on
the local store). Who may touch what is decided as on the pages."""

from __future__ import annotations

from flask import Response, current_app, redirect
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict

from grants import policy
from grants.api.auth import authenticate
from grants.api.schemas import ApiErrorSchema, PageArgs, RecordIdField, page_of, page_schema
from grants.extensions import db
from grants.models.accounts import User
from grants.models.documents import Document
from grants.services import applications as application_service
from grants.services import associations as association_service
from grants.services import awards as award_service
from grants.services import documents as document_service
from grants.services.errors import InvalidInput, NotFound
from grants.storage import LocalDocumentStore, content_disposition


class _Parser(FlaskParser):
    """Reads a multipart body's fields and files together, so that one schema (and one
    OpenAPI request body) describes them."""

    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, request, schema):
        return MultiDictProxy(CombinedMultiDict([request.form, request.files]), schema)


class _MultipartBlueprint(Blueprint):
    ARGUMENTS_PARSER = _Parser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }


blueprint = _MultipartBlueprint("api_documents", __name__, description="Documents")


@blueprint.before_request
def _authenticate() -> None:
    authenticate()


class DocumentSchema(Schema):
    id = fields.Integer()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    sha256 = fields.String()
    purpose = fields.String()
    application_id = fields.Integer(allow_none=True)
    report_id = fields.Integer(allow_none=True)
    association_id = fields.Integer(allow_none=True)
    document_type_id = fields.Integer(allow_none=True)
    uploaded_at = fields.AwareDateTime()
    replaced_by_id = fields.Integer(
        allow_none=True, metadata={"description": "the newer version that replaced it, if any"}
    )


DocumentPage = page_schema(DocumentSchema)


class UploadForm(Schema):
    """One multipart body: the file and what it belongs to."""

    file = Upload(required=True, metadata={"description": "the file (PDF, image, office)"})
    owner = fields.String(
        required=True, validate=validate.OneOf(["application", "report", "association"])
    )
    owner_id = RecordIdField(required=True)
    document_type_id = fields.Integer(load_default=None, validate=validate.Range(min=1))
    purpose = fields.String(load_default="", validate=validate.Length(max=60))


def _readable(person, document: Document) -> Document:
    """The document if the caller may read its owner; else 404."""
    if document.application_id:
        application_service.visible_application(person, document.application_id)
    elif document.report_id:
        report = document.report
        award_service.visible_report(person, report.award_id, report.id)
    elif document.association_id:
        association_service.visible_association(person, document.association_id)
    else:
        raise NotFound("No such document.")
    return document


@blueprint.route("/documents", methods=["POST"])
@blueprint.arguments(UploadForm, location="multipart")
@blueprint.response(201, DocumentSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
@blueprint.alt_response(
    413,
    schema=ApiErrorSchema,
    description="the body is larger than MAX_UPLOAD_MB (25 MB unless the programme set "
    "another); the message and errors.body state the limit",
)
def upload(form):
    """Upload a file for an application (with its document type), a report or an
    association; checked by content, stored, the previous version kept."""
    person = authenticate()
    owner = {}
    if form["owner"] == "application":
        application = application_service.visible_application(person, form["owner_id"])
        application_service.check_editable(person, application)
        owner["application"] = application
        if form["document_type_id"]:
            try:
                owner["document_type"] = application_service.document_type_of(
                    application, form["document_type_id"]
                )
            except NotFound as missing:
                raise InvalidInput(
                    missing.message, {"document_type_id": [missing.message]}
                ) from None
    elif form["owner"] == "report":
        from grants.models.awards import Report

        report = db.session.get(Report, form["owner_id"])
        if report is None:
            raise NotFound("No such report.")
        try:
            owner["report"] = award_service.report_taking_documents(
                person, report.award_id, report.id
            )
        except InvalidInput as refused:
            raise refused.renamed({"report": "owner_id"}) from None
    else:
        association = association_service.member_association(person, form["owner_id"])
        owner["association"] = association
    upload = form["file"]
    document = document_service.add_document(
        person,
        document_service.Upload(upload.stream, upload.filename or "file", upload.mimetype),
        purpose=form["purpose"],
        **owner,
    )
    db.session.flush()
    return document


@blueprint.route("/documents/<int:document_id>", methods=["GET"])
@blueprint.response(200, DocumentSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
def get_document(document_id: int):
    """A document's metadata."""
    document = db.session.get(Document, document_id)
    if document is None:
        raise NotFound("No such document.")
    return _readable(authenticate(), document)


@blueprint.route("/documents/<int:document_id>/content", methods=["GET"])
@blueprint.response(200, description="the file (local store)")
@blueprint.alt_response(302, description="a short-lived link (S3)")
@blueprint.alt_response(404, schema=ApiErrorSchema)
def download(document_id: int):
    """The file: a redirect to a short-lived link on S3, the bytes on the local store."""
    document = db.session.get(Document, document_id)
    if document is None:
        raise NotFound("No such document.")
    person = authenticate()
    _readable(person, document)
    return serve(person, document)


def serve(person: User, document: Document) -> Response:
    """A document ``person`` may read: a redirect to a short-lived link on S3, the bytes
    in chunks on the local store (a message's attachment is served the same way)."""
    if isinstance(current_app.extensions["document_store"], LocalDocumentStore):
        stream = document_service.open_for(person, document)

        def chunks():
            try:
                while chunk := stream.read(64 * 1024):
                    yield chunk
            finally:
                stream.close()

        return Response(
            chunks(),
            mimetype=document.content_type,
            headers={
                "Content-Disposition": content_disposition(document_service.download_name(document))
            },
        )
    return redirect(document_service.download_for(person, document), code=302)


# --- a record's documents ---------------------------------------------------------------


def _documents(column, record_id: int) -> list[Document]:
    """Every document of one record, oldest first; replaced versions say by which."""
    return list(
        db.session.scalars(select(Document).where(column == record_id).order_by(Document.id))
    )


@blueprint.route("/applications/<int:record_id>/documents", methods=["GET"])
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, DocumentPage)
@blueprint.alt_response(404, schema=ApiErrorSchema)
def application_documents(args, record_id: int):
    """An application's documents (its call's document types and letters of support)."""
    application_service.visible_application(authenticate(), record_id)
    return page_of(_documents(Document.application_id, record_id), args)


@blueprint.route("/reports/<int:record_id>/documents", methods=["GET"])
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, DocumentPage)
@blueprint.alt_response(404, schema=ApiErrorSchema)
def report_documents(args, record_id: int):
    """A report's supporting documents."""
    policy.REPORTS.get(authenticate(), record_id)
    return page_of(_documents(Document.report_id, record_id), args)


@blueprint.route("/associations/<int:record_id>/documents", methods=["GET"])
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, DocumentPage)
@blueprint.alt_response(404, schema=ApiErrorSchema)
def association_documents(args, record_id: int):
    """An association's registration certificate and statutes, with earlier versions."""
    association_service.visible_association(authenticate(), record_id)
    return page_of(_documents(Document.association_id, record_id), args)
