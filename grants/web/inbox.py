"""A person's in-app notifications."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_security import current_user

from grants.web.access import login_required
from notifications import outbox

blueprint = Blueprint("inbox", __name__, url_prefix="/notifications")


@blueprint.get("/")
@login_required
def index():
    return render_template(
        "inbox.html",
        notifications=outbox.inbox(current_user.id, request.args.get("page", 1, type=int)),
    )


@blueprint.post("/read")
@login_required
def read():
    outbox.mark_all_read(current_user.id)
    return redirect(url_for("inbox.index"), code=303)
