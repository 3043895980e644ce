"""Associations: register one, edit it, invite members, accept an invitation."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_security import current_user

from forms.associations import AssociationForm, InvitationForm
from grants.extensions import db
from grants.models.documents import Document
from grants.services import associations as service
from grants.services import documents as document_service
from grants.services.errors import InvalidInput
from grants.services.workflow import allowed_transitions, history_of
from grants.web import isolated
from grants.web.access import login_required
from grants.web.forms import attach_errors
from grants.web.uploads import store_upload

blueprint = Blueprint("associations", __name__)


def _data(form: AssociationForm) -> dict:
    return {name: form[name].data for name in service.EDITABLE_FIELDS}


@blueprint.route("/associations/new", methods=["GET", "POST"])
@login_required
def create():
    form = AssociationForm()
    if form.validate_on_submit():
        try:
            association = service.create_association(current_user, _data(form))
        except InvalidInput as error:
            attach_errors(form, error)
        else:
            flash(
                _("The association is registered. A programme officer will verify it."), "success"
            )
            return redirect(url_for("associations.show", association_id=association.id))
    return render_template(
        "associations/form.html", form=form, heading=_("Register an association")
    )


@blueprint.get("/associations/<int:association_id>")
@login_required
def show(association_id: int):
    association = service.visible_association(current_user, association_id)
    return render_template(
        "associations/show.html",
        association=association,
        members=service.members_of(association),
        member=service.is_member(current_user, association),
        invite_form=InvitationForm(),
        options=allowed_transitions(association, current_user, only_own_roles=True),
        history=history_of(association),
        documents=service.verification_documents(association),
        document_names=service.VERIFICATION_DOCUMENTS,
    )


@blueprint.route("/associations/<int:association_id>/edit", methods=["GET", "POST"])
@login_required
def edit(association_id: int):
    association = service.member_association(current_user, association_id)
    form = AssociationForm(obj=association)
    if form.validate_on_submit():
        try:
            service.update_association(current_user, association, _data(form))
        except InvalidInput as error:
            attach_errors(form, error)
        else:
            flash(_("The association is saved."), "success")
            return redirect(url_for("associations.show", association_id=association.id))
    return render_template("associations/form.html", form=form, heading=association.name)


@blueprint.post("/associations/<int:association_id>/invitations")
@login_required
def invite(association_id: int):
    association = service.member_association(current_user, association_id)
    form = InvitationForm()
    if form.validate_on_submit():
        try:
            service.invite_member(current_user, association, form.email.data)
        except InvalidInput as error:
            attach_errors(form, error)
        else:
            flash(_("The invitation is sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("associations.show", association_id=association.id))
    return render_template(
        "associations/show.html",
        association=association,
        members=service.members_of(association),
        member=service.is_member(current_user, association),
        invite_form=form,
        options=allowed_transitions(association, current_user, only_own_roles=True),
        history=history_of(association),
        documents=service.verification_documents(association),
        document_names=service.VERIFICATION_DOCUMENTS,
    ), 422


@blueprint.post("/associations/<int:association_id>/documents/<purpose>")
@login_required
def upload_document(association_id: int, purpose: str):
    association = service.member_association(current_user, association_id)
    if purpose not in service.VERIFICATION_DOCUMENTS:
        abort(404)
    back_to = url_for("associations.show", association_id=association.id, _anchor="documents")
    return store_upload(back_to, association=association, purpose=purpose)


@blueprint.get("/associations/documents/<int:association_document_id>")
@login_required
def download_document(association_document_id: int):
    document = db.session.get(Document, association_document_id)
    if document is None or document.association_id is None:
        abort(404)
    service.visible_association(current_user, document.association_id)
    return redirect(document_service.download_for(current_user, document), code=302)


@blueprint.route("/invitations/<token>", methods=["GET", "POST"])
@login_required
def accept_invitation(token: str):
    invitation = service.find_invitation(token)
    if request.method == "POST":
        association = service.accept_invitation(current_user, token)
        flash(isolated(_l("Welcome to %(association)s."), association=association.name), "success")
        return redirect(url_for("associations.show", association_id=association.id))
    return render_template("associations/accept.html", invitation=invitation)
