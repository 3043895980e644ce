"""Staff invitations: an admin invites from the people page; the invited person accepts
from the emailed link by choosing a password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_security import current_user

from forms.admin import AcceptInvitationForm, InvitationForm
from grants.freshness import fresh_required
from grants.roles import ADMIN
from grants.services import staff_invitations as service
from grants.services.errors import Conflict, InvalidInput, NotFound
from grants.web.access import role_required
from grants.web.forms import attach_errors

blueprint = Blueprint("invitations", __name__)


@blueprint.post("/admin/invitations")
@role_required(ADMIN)
@fresh_required
def invite():
    from grants.web.admin import users_page

    form = InvitationForm()
    if not form.validate_on_submit():
        return users_page(form, status=422)
    try:
        invitation = service.invite(
            current_user,
            form.email.data,
            form.roles.data or [],
            full_name=form.full_name.data or "",
            locale=form.locale.data,
        )
    except (InvalidInput, Conflict) as refused:
        attach_errors(form, refused)
        return users_page(form, status=refused.status)
    flash(_("The invitation is sent to %(email)s.", email=invitation.email), "success")
    return redirect(url_for("admin.users", _anchor="invitations"), code=303)


@blueprint.post("/admin/invitations/<int:invitation_id>/revoke")
@role_required(ADMIN)
def revoke(invitation_id: int):
    try:
        invitation = service.revoke(current_user, invitation_id)
    except Conflict as refused:
        flash(refused.message, "error")
    else:
        flash(_("The invitation of %(email)s is withdrawn.", email=invitation.email), "success")
    return redirect(url_for("admin.users", _anchor="invitations"), code=303)


@blueprint.route("/invitations/staff/<token>", methods=["GET", "POST"])
def accept(token: str):
    try:
        invitation = service.open_invitation(token)
    except (Conflict, NotFound) as refused:
        return render_template("invitations/refused.html", message=refused.message), refused.status
    form = AcceptInvitationForm(
        full_name=invitation.user.full_name if request.method == "GET" else None
    )
    if form.validate_on_submit():
        try:
            service.accept(token, form.password.data, form.full_name.data)
        except InvalidInput as refused:
            attach_errors(form, refused)
        else:
            flash(
                _("Your account is ready: log in with your email address and new password."),
                "success",
            )
            return redirect(url_for("security.login", email=invitation.email), code=303)
    status = 422 if form.errors else 200
    return render_template("invitations/accept.html", invitation=invitation, form=form), status
