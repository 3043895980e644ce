"""Programme officers assign evaluators to a call's eligible applications: by hand, or
from an automatic proposal they see before it is saved."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_security import current_user
from markupsafe import Markup

from grants.exports import spreadsheets, tables
from grants.extensions import db
from grants.kept import Keeper
from grants.minus_sign import minus_in_front
from grants.models.accounts import User
from grants.models.applications import Application
from grants.models.reviews import Review
from grants.numbers import NumberRefused, read_typed
from grants.roles import ADMIN, PROGRAMME_OFFICER
from grants.services import audit, decisions, duplicates
from grants.services import calls as call_service
from grants.services import evaluation as service
from grants.services import ranking as ranking_service
from grants.services.errors import DomainError, InvalidInput, NotFound
from grants.web import isolated
from grants.web.access import role_required
from grants.web.translations import locale_name

blueprint = Blueprint("assignments", __name__, url_prefix="/office/calls/<code>/assignments")


def _page(call, proposal=None, status: int = 200):
    applications = service.eligible_for_review(call.id)
    people = service.evaluators()
    names = {person.id: person.display_name for person in people}
    return render_template(
        "assignments/index.html",
        call=call,
        applications=applications,
        people=people,
        names=names,
        proposal=proposal,
        choices=service.assignment_choices(applications, people),
        loads={
            p.id: sum(
                1
                for a in applications
                for r in a.reviews
                if r.evaluator_id == p.id and r.state != "conflicted"
            )
            for p in people
        },
    ), status


@blueprint.get("/")
@role_required(PROGRAMME_OFFICER)
def index(code: str):
    call = call_service.find_call(code)
    proposal = (
        service.propose_assignments(current_user, call) if request.args.get("propose") else None
    )
    return _page(call, proposal)


@blueprint.post("/")
@role_required(PROGRAMME_OFFICER)
def assign(code: str):
    call = call_service.find_call(code)
    application = db.session.get(Application, request.form.get("application_id", type=int) or 0)
    person = db.session.get(User, request.form.get("evaluator_id", type=int) or 0)
    if application is None or application.call_id != call.id or person is None:
        raise NotFound(_("No such application or evaluator."))
    try:
        service.assign(current_user, application, person)
    except DomainError as refused:
        flash(refused.message, "error")
        return redirect(url_for("assignments.index", code=code), code=303)
    flash(
        isolated(
            _l("%(name)s is assigned to %(reference)s."),
            name=person.display_name,
            reference=application.reference,
        ),
        "success",
    )
    return redirect(url_for("assignments.index", code=code), code=303)


@blueprint.post("/proposal")
@role_required(PROGRAMME_OFFICER)
def save_proposal(code: str):
    call = call_service.find_call(code)
    pairs = []
    for value in request.form.getlist("pair"):
        application_id, _sep, evaluator_id = value.partition(":")
        if not (application_id.isdigit() and evaluator_id.isdigit()):
            raise NotFound(_("No such assignment."))
        pairs.append((int(application_id), int(evaluator_id)))
    saved = service.save_proposal(current_user, call, pairs)
    flash(
        ngettext("%(num)d assignment saved.", "%(num)d assignments saved.", len(saved)),
        "success",
    )
    return redirect(url_for("assignments.index", code=code), code=303)


@blueprint.post("/<int:review_id>/remove")
@role_required(PROGRAMME_OFFICER)
def remove(code: str, review_id: int):
    call = call_service.find_call(code)
    review = db.session.get(Review, review_id)
    if review is None or review.application.call_id != call.id:
        raise NotFound(_("No such assignment."))
    service.unassign(current_user, review)
    flash(_("The assignment is removed."), "success")
    return redirect(url_for("assignments.index", code=code), code=303)


@blueprint.post("/start")
@role_required(PROGRAMME_OFFICER)
def start(code: str):
    call = call_service.find_call(code)
    started = service.start_review(current_user, call)
    if started:
        message = ngettext(
            "%(num)d application is now in review.",
            "%(num)d applications are now in review.",
            started,
        )
    else:
        message = _("No application was put in review: none has an evaluator assigned.")
    flash(message, "success" if started else "error")
    return redirect(url_for("assignments.index", code=code), code=303)


#: The states in which the committee decides an application on the ranking page.
DECIDED_HERE = ("reviewed", "waitlisted")

ranking_blueprint = Blueprint("ranking", __name__, url_prefix="/office/calls/<code>/ranking")


@ranking_blueprint.get("/")
@role_required(PROGRAMME_OFFICER, ADMIN)
def ranking_page(code: str):
    call = call_service.find_call(code)
    by = request.args.get("by", "normalised")
    kind = request.args.get("format")
    if kind in spreadsheets.FORMATS:
        found = ranking_service.ranking_for(current_user, call, by, page=None)
        table = audit.exported(current_user, tables.ranking(call, found), kind, ("call", call.id))
        return spreadsheets.response(table, kind)
    result = ranking_service.ranking_for(
        current_user, call, by, page=request.args.get("page", 1, type=int)
    )
    return _ranking_page(call, result)


def _ranking_page(call, result=None, form=None, errors=None, completing=()):
    """The ranking page; after a refused form, its first page by normalised score with the
    form's values and the errors beside their rows."""
    if result is None:
        page = request.args.get("page", 1, type=int)
        result = ranking_service.ranking(call, "normalised", page=page)
    context = dict(
        call=call,
        ranking=result,
        deciding=current_user.has_role(PROGRAMME_OFFICER),
        double_funding_notes=_double_funding_notes(result),
        form=form or {},
        errors=errors or {},
        completing=set(completing),
    )
    return render_template(
        "assignments/ranking.html",
        rows=None if form or errors or completing else _rows(context),
        in_review=result.in_review,
        **context,
    )


def _double_funding_notes(result: ranking_service.Ranking) -> dict[int, Markup]:
    """The warning of each application about to be decided whose similar projects already
    hold a grant, rendered: grants of other calls move them, not this call's stamp."""
    if not any(result.states.get(row.application_id) in DECIDED_HERE for row in result.rows):
        return {}
    deciding = [a for a in result.applications.values() if a.state in DECIDED_HERE]
    found = duplicates.double_funding(current_user, deciding)
    return {
        application.id: Markup(
            render_template(
                "assignments/_double_funding.html",
                application=application,
                double_funding=found,
            )
        )
        for application in deciding
        if found.get(application.id)
    }


#: The ranking's rows rendered for a view without a form, per kept ranking (its stamp
#: changes with anything the rows show) and reader's language: they were most of the
#: page's time, the same for every officer reading the same page.
_kept_rows: Keeper[Markup] = Keeper(32)


def _rows(context: dict) -> Markup:
    result: ranking_service.Ranking = context["ranking"]
    call = context["call"]
    key = (
        (call.id, call.code, call.currency, result.stamp, result.by, result.page, locale_name()),
        (context["deciding"], url_for("applications.show", application_id=0)),
        tuple(context["double_funding_notes"].items()),
    )
    return _kept_rows.get(
        key, lambda: Markup(render_template("assignments/_ranking_rows.html", **context))
    ).value


@ranking_blueprint.post("/complete")
@role_required(PROGRAMME_OFFICER)
def complete(code: str):
    """Complete the review of the ticked applications, so the committee can decide them."""
    call = call_service.find_call(code)
    chosen = [int(value) for value in request.form.getlist("complete") if value.isdigit()]
    try:
        done = service.complete_reviews(current_user, call, chosen)
    except InvalidInput as refused:
        return _ranking_page(call, errors=refused.errors, completing=chosen), 422
    flash(
        ngettext(
            "The review of %(num)d application is complete: decide it below.",
            "The reviews of %(num)d applications are complete: decide them below.",
            done,
        ),
        "success",
    )
    return redirect(url_for("ranking.ranking_page", code=code), code=303)


@ranking_blueprint.post("/decisions")
@role_required(PROGRAMME_OFFICER)
def decide(code: str):
    """Record the committee's meeting: the chosen outcome for each selected application.
    Every problem is reported at once, next to the row it concerns."""
    call = call_service.find_call(code)
    outcomes, unreadable = [], {}
    for key, kind in request.form.items():
        if not key.startswith("outcome-") or not kind:
            continue
        application_id = int(key.removeprefix("outcome-")) if key[8:].isdigit() else 0
        numbers = {}
        for name, places, label in (
            ("amount", 2, _("The amount “%(value)s”: %(why)s")),
            ("rate", 6, _("The exchange rate “%(value)s”: %(why)s")),
        ):
            raw = (request.form.get(f"{name}-{application_id}") or "").strip()
            try:
                numbers[name] = (
                    read_typed(minus_in_front(raw), places=places, positive=True) if raw else None
                )
            except NumberRefused as refused:
                numbers[name] = None
                unreadable[f"{name}-{application_id}"] = [
                    label % {"value": raw, "why": refused.message}
                ]
        text = request.form.get(f"text-{application_id}", "")
        outcomes.append(
            decisions.Outcome(
                application_id,
                kind,
                numbers["amount"],
                conditions=text if kind == "award" else "",
                feedback=text if kind != "award" else "",
                exchange_rate=numbers["rate"],
            )
        )
    try:
        meeting = date.fromisoformat(request.form.get("meeting_date", ""))
    except ValueError:
        meeting = None
    if unreadable:
        errors = {**decisions.problems(call, meeting, outcomes), **unreadable}
    else:
        try:
            decisions.record(
                current_user,
                call,
                meeting,
                request.form.get("present", ""),
                request.form.get("minutes", ""),
                outcomes,
            )
        except InvalidInput as refused:
            errors = refused.errors
        else:
            flash(_("The committee's decisions are recorded."), "success")
            return redirect(url_for("ranking.ranking_page", code=code), code=303)
    return _ranking_page(call, form=request.form, errors=errors), 422
