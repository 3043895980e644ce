"""Downloads from the local document store, through signed expiring links.

On S3 the browser goes straight to a presigned URL; the local store has no such server,
so this route plays its part and checks the same kind of signature and expiry.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, send_file
from flask_babel import gettext as _

from grants.storage import LINK_EXPIRED, LocalDocumentStore, StorageError

blueprint = Blueprint("files", __name__, url_prefix="/files")


@blueprint.get("/<token>")
def download(token: str):
    store = current_app.extensions["document_store"]
    if not isinstance(store, LocalDocumentStore):
        abort(404)
    try:
        key, filename, content_type = store.resolve_token(token)
    except StorageError as refused:
        # An expired link says so (the page it came from gives a fresh one); a forged
        # one is simply not found.
        if str(refused) == LINK_EXPIRED:
            return render_template(
                "errors/error.html", heading=_("Link expired"), message=str(refused)
            ), 410
        abort(404)
    try:
        stream = store.open(key)
    except StorageError:
        abort(404)
    return send_file(
        stream,
        mimetype=content_type or "application/octet-stream",
        as_attachment=True,
        download_name=filename,
        max_age=0,
    )
