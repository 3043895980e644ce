"""The one way a page hands an uploaded file to the document service."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request
from flask_babel import gettext as _
from flask_security import current_user

from grants.services import documents as document_service
from grants.services.errors import InvalidInput


def store_upload(back_to: str, success: str | None = None, **owner: Any):
    """Store the request's ``file`` for ``owner`` (application=…, purpose=…, etc.), say
    how it went, and go back to the page. A refused file explains itself there."""
    file = request.files.get("file")
    if file is None or not file.filename:
        flash(_("Choose a file to upload."), "error")
        return redirect(back_to, code=303)
    try:
        document_service.add_document(
            current_user,
            document_service.Upload(file.stream, file.filename, file.mimetype),
            **owner,
        )
    except InvalidInput as refused:
        for message in refused.errors.get("file", [refused.message]):
            flash(message, "error")
        return redirect(back_to, code=303)
    flash(success or _("The document is uploaded."), "success")
    return redirect(back_to, code=303)
