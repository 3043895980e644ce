"""Pages anyone can open: home, open calls, the language switcher, health checks."""

from __future__ import annotations

import contextlib
import logging

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session
from flask_babel import get_timezone
from flask_security import current_user
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from forms.accounts import LanguageForm
from grants.extensions import db
from grants.models.accounts import LOCALES, User
from grants.models.associations import Association
from grants.security import safe_next
from grants.services import calls as call_service
from grants.services.applications import applications_of
from grants.services.associations import pending_invitations
from grants.storage import StorageError

log = logging.getLogger(__name__)
blueprint = Blueprint("public", __name__)


@blueprint.get("/")
def home():
    context: dict = {"calls": call_service.open_calls(per_page=5, count=False)}
    if current_user.is_authenticated:
        roles = current_user.role_names
        context.update(
            roles=roles,
            memberships=current_user.memberships,
            invitations=pending_invitations(current_user),
            reads=", ".join(current_user.languages or []),
            applications=applications_of(current_user, request.args.get("page", 1, type=int)),
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


@blueprint.get("/health/live")
def liveness():
    """The process answers requests. No database, no store: a slow dependency must not
    get healthy workers restarted."""
    return _health_answer({"status": "ok"}, 200)


@blueprint.get("/health/ready")
@blueprint.get("/health")
def health():
    """Ready to serve: the database answers ``SELECT 1`` and the document store its
    bucket or folder. Otherwise 503, naming each part that is down."""
    checks = {"database": _database_state(), "document_store": _document_store_state()}
    down = [part for part, state in checks.items() if state != "ok"]
    body = {"status": "unavailable" if down else "ok", "checks": checks, "down": down}
    return _health_answer(body, 503 if down else 200)


def _health_answer(body: dict, status: int):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _database_state() -> str:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log.error("Readiness: the database does not answer: %s", error)
        with contextlib.suppress(SQLAlchemyError):
            db.session.rollback()
        return "The database does not answer."
    return "ok"


def _document_store_state() -> str:
    try:
        current_app.extensions["document_store"].check()
    except StorageError as error:
        return str(error)
    return "ok"
