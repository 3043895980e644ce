"""Admin pages of the webhooks: the endpoints, their deliveries, and the replay button.

A secret is shown in the answer to the request that made it (creation, rotation), never
on a later page, and that answer is not cached."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_security import current_user

from forms.admin import WebhookEndpointForm
from grants.roles import ADMIN
from grants.services import webhooks as service
from grants.services.errors import Conflict, InvalidInput
from grants.web.access import role_required
from grants.web.forms import attach_errors

blueprint = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")


def _values(form: WebhookEndpointForm) -> dict:
    return dict(
        url=form.url.data or "",
        description=form.description.data or "",
        event_types=form.event_types.data or [],
    )


def _show(endpoint, form: WebhookEndpointForm | None = None, secret: str | None = None):
    """The endpoint's page; with ``secret``, the one answer that shows it."""
    if form is None:
        form = WebhookEndpointForm(formdata=None, obj=endpoint)
        form.event_types.data = endpoint.event_types
    before = request.args.get("before", type=int)
    deliveries, older = service.recent_deliveries(current_user, endpoint, before)
    return render_template(
        "admin/webhook.html",
        endpoint=endpoint,
        form=form,
        secret=secret,
        deliveries=deliveries,
        older=older,
        record_labels=service.RECORD_LABELS,
        event_label=service.event_label,
        delivery_states=service.DELIVERY_STATE_LABELS,
    )


def _secret_answer(page: str, status: int = 200):
    return page, status, {"Cache-Control": "no-store", "Pragma": "no-cache"}


@blueprint.get("/")
@role_required(ADMIN)
def index():
    endpoints = service.list_endpoints(current_user, request.args.get("page", 1, type=int))
    return render_template(
        "admin/webhooks.html",
        endpoints=endpoints,
        failed=service.failed_counts(e.id for e in endpoints.items),
        endpoint_states=service.ENDPOINT_STATE_LABELS,
    )


@blueprint.route("/new", methods=["GET", "POST"])
@role_required(ADMIN)
def create():
    form = WebhookEndpointForm()
    if form.validate_on_submit():
        try:
            endpoint, secret = service.create_endpoint(current_user, **_values(form))
        except InvalidInput as error:
            attach_errors(form, error)
        else:
            flash(_("The webhook is registered."), "success")
            return _secret_answer(_show(endpoint, secret=secret))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "admin/webhook_new.html", form=form, record_labels=service.RECORD_LABELS
    ), status


@blueprint.get("/<int:endpoint_id>")
@role_required(ADMIN)
def show(endpoint_id: int):
    return _show(service.get_endpoint(current_user, endpoint_id))


@blueprint.post("/<int:endpoint_id>")
@role_required(ADMIN)
def edit(endpoint_id: int):
    endpoint = service.get_endpoint(current_user, endpoint_id)
    form = WebhookEndpointForm()
    if form.validate_on_submit():
        try:
            service.update_endpoint(current_user, endpoint, **_values(form))
        except InvalidInput as error:
            attach_errors(form, error)
        else:
            flash(_("The webhook is saved."), "success")
            return redirect(url_for("webhooks.show", endpoint_id=endpoint.id), code=303)
    return _show(endpoint, form), 422


@blueprint.post("/<int:endpoint_id>/active/<int:active>")
@role_required(ADMIN)
def set_active(endpoint_id: int, active: int):
    if active not in (0, 1):
        abort(404)
    try:
        endpoint = service.get_endpoint(current_user, endpoint_id)
        service.set_active(current_user, endpoint, bool(active))
    except Conflict as refused:
        flash(refused.message, "error")
    else:
        flash(
            _("The webhook is active again.") if active else _("The webhook is paused."), "success"
        )
    return redirect(url_for("webhooks.show", endpoint_id=endpoint_id), code=303)


@blueprint.post("/<int:endpoint_id>/secret")
@role_required(ADMIN)
def rotate_secret(endpoint_id: int):
    endpoint = service.get_endpoint(current_user, endpoint_id)
    secret = service.rotate_secret(current_user, endpoint)
    flash(_("A new secret signs this webhook's deliveries from now on."), "success")
    return _secret_answer(_show(endpoint, secret=secret))


@blueprint.post("/<int:endpoint_id>/delete")
@role_required(ADMIN)
def delete(endpoint_id: int):
    service.delete_endpoint(current_user, service.get_endpoint(current_user, endpoint_id))
    flash(_("The webhook and its deliveries are deleted."), "success")
    return redirect(url_for("webhooks.index"), code=303)


@blueprint.post("/<int:endpoint_id>/deliveries/<int:delivery_id>/replay")
@role_required(ADMIN)
def replay(endpoint_id: int, delivery_id: int):
    try:
        service.replay(current_user, service.get_endpoint(current_user, endpoint_id), delivery_id)
    except Conflict as refused:
        flash(refused.message, "error")
    else:
        flash(_("The delivery will be sent again within a minute."), "success")
    return redirect(url_for("webhooks.show", endpoint_id=endpoint_id), code=303)
