"""The officers' verdict on a pair of similar applications, from the application page's
duplicate check (the list itself is part of that page)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_security import current_user

from grants.services import applications as application_service
from grants.services import duplicates as service
from grants.services.errors import InvalidInput
from grants.web.access import login_required

blueprint = Blueprint("duplicates", __name__)


@blueprint.post("/applications/<int:application_id>/duplicates")
@login_required
def record_verdict(application_id: int):
    application = application_service.visible_application(current_user, application_id)
    service.check_may_check(current_user)
    back = url_for("applications.show", application_id=application.id, _anchor="duplicates")
    try:
        service.record_verdict(
            current_user,
            application,
            request.form.get("other_id", type=int),
            request.form.get("verdict", ""),
            request.form.get("comment", ""),
        )
    except InvalidInput as refused:
        for messages in (refused.errors or {}).values():
            for message in messages:
                flash(message, "error")
        if not refused.errors:
            flash(refused.message, "error")
        return redirect(back, code=303)
    flash(_("The verdict is recorded in both applications' history."), "success")
    return redirect(back, code=303)
