"""Admin pages: users and their roles, and the list of associations."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_security import current_user

from forms.admin import RoleForm
from grants.models.associations import VERIFICATION_STATES
from grants.roles import ADMIN, PROGRAMME_OFFICER, ROLE_NAMES
from grants.services import accounts as account_service
from grants.services import associations as association_service
from grants.services import audit
from grants.services.errors import Conflict
from grants.web.access import role_required
from notifications import monitor, reminders
from notifications.scheduler import JOB_NAMES

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


@blueprint.get("/users")
@role_required(ADMIN)
def users():
    return render_template(
        "admin/users.html",
        users=account_service.search_users(
            request.args.get("q", ""),
            request.args.get("role", ""),
            page=request.args.get("page", 1, type=int),
        ),
        role_names=ROLE_NAMES,
    )


def _user_page(person, role_form=None, status: int = 200):
    return render_template(
        "admin/user.html",
        user=person,
        role_form=role_form or RoleForm(),
        removal_problems={
            role.name: account_service.removal_problem(current_user, person, role.name)
            for role in person.roles
        },
        deactivation_problem=account_service.deactivation_problem(current_user, person),
        audit_rows=audit.record_trail(current_user, "user", person.id),
    ), status


@blueprint.get("/users/<int:user_id>")
@role_required(ADMIN)
def user(user_id: int):
    return _user_page(account_service.get_user(user_id))


@blueprint.post("/users/<int:user_id>/roles")
@role_required(ADMIN)
def grant_role(user_id: int):
    person = account_service.get_user(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _user_page(person, form, 422)
    account_service.grant_role(current_user, person, form.role.data)
    flash(_("Role granted."), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@blueprint.post("/users/<int:user_id>/roles/<role>/remove")
@role_required(ADMIN)
def remove_role(user_id: int, role: str):
    person = account_service.get_user(user_id)
    try:
        account_service.remove_role(current_user, person, role)
    except Conflict as refused:
        flash(refused.message, "error")
        return _user_page(person, status=refused.status)
    flash(_("Role removed."), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@blueprint.post("/users/<int:user_id>/active/<int:active>")
@role_required(ADMIN)
def set_active(user_id: int, active: int):
    if active not in (0, 1):
        abort(404)
    person = account_service.get_user(user_id)
    try:
        account_service.set_active(current_user, person, bool(active))
    except Conflict as refused:
        flash(refused.message, "error")
        return _user_page(person, status=refused.status)
    flash(_("Account reactivated.") if active else _("Account deactivated."), "success")
    return redirect(url_for("admin.user", user_id=user_id))


@blueprint.get("/associations")
@role_required(ADMIN, PROGRAMME_OFFICER)
def associations():
    state = request.args.get("state", "")
    return render_template(
        "admin/associations.html",
        associations=association_service.list_associations(
            request.args.get("q", ""),
            state if state in VERIFICATION_STATES else "",
            page=request.args.get("page", 1, type=int),
        ),
        states=VERIFICATION_STATES,
    )


@blueprint.get("/scheduler")
@role_required(*monitor.WATCHERS)
def scheduler():
    """The scheduler's plan and last runs, the outbox, and the reminder rules."""
    monitor.check_may_watch(current_user)
    job = request.args.get("job", "")
    return render_template(
        "admin/scheduler.html",
        plan=monitor.plan(),
        health=monitor.health(),
        runs=monitor.recent_runs(
            job if job in JOB_NAMES else "", request.args.get("page", 1, type=int)
        ),
        job=job,
        job_names=JOB_NAMES,
        counts=monitor.outbox_counts(),
        failed=monitor.failed(request.args.get("failed_page", 1, type=int)),
        rules=reminders.table(current_app.config),
    )


@blueprint.post("/outbox/<int:notification_id>/retry")
@role_required(*monitor.WATCHERS)
def retry_notification(notification_id: int):
    try:
        monitor.retry(current_user, notification_id)
    except Conflict as refused:
        flash(refused.message, "error")
    else:
        flash(_("The email will be sent again within a minute."), "success")
    return redirect(url_for("admin.scheduler"), code=303)


@blueprint.post("/outbox/retry-failed")
@role_required(*monitor.WATCHERS)
def retry_failed():
    count = monitor.retry_all_failed(current_user)
    flash(
        ngettext(
            "%(num)d failed email will be sent again.",
            "%(num)d failed emails will be sent again.",
            count,
        ),
        "success",
    )
    return redirect(url_for("admin.scheduler"), code=303)
