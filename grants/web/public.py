"""Pages anyone can open: home, open calls, the language switcher, health."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, session
from flask_babel import get_timezone
from flask_security import current_user
from sqlalchemy import func, select, text

from forms.accounts import LanguageForm
from grants.extensions import db
from grants.models.accounts import LOCALES, User
from grants.models.associations import Association
from grants.security import safe_next
from grants.services import calls as call_service
from grants.services.applications import applications_of
from grants.services.associations import pending_invitations

blueprint = Blueprint("public", __name__)


@blueprint.get("/")
def home():
    context: dict = {"calls": call_service.open_calls(per_page=5)}
    if current_user.is_authenticated:
        roles = current_user.role_names
        context.update(
            roles=roles,
            memberships=current_user.memberships,
            invitations=pending_invitations(current_user),
            reads=", ".join(current_user.languages or []),
            applications=applications_of(current_user),
        )
        if "programme_officer" in roles:
            context["officer_calls"] = call_service.calls_run_by(current_user)
            context["pending_associations"] = db.session.scalar(
                select(func.count(Association.id)).where(Association.state == "pending")
            )
        if "admin" in roles:
            context["user_count"] = db.session.scalar(select(func.count(User.id)))
    return render_template("home.html", **context)


@blueprint.get("/calls")
def open_calls():
    page = request.args.get("page", 1, type=int)
    return render_template(
        "public/open_calls.html",
        calls=call_service.open_calls(page=page),
        reader_timezone=str(get_timezone()),
    )


@blueprint.post("/language")
def set_language():
    form = LanguageForm()
    if form.validate_on_submit() and form.locale.data in LOCALES:
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            current_user.locale = form.locale.data
    return redirect(safe_next(form.next.data))


@blueprint.get("/health")
def health():
    db.session.execute(text("SELECT 1"))
    return jsonify(status="ok")
