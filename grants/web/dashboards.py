"""Dashboards: the programme office's, finance's and an association's. Every chart is
drawn as SVG on the server, shown as a table, and sent as CSV with the page's own
filters (``?format=csv&chart=<name>``)."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_security import current_user
from markupsafe import Markup

from grants.exports import spreadsheets
from grants.kept import Keeper, Kept
from grants.roles import ADMIN, FINANCE_OFFICER, PROGRAMME_OFFICER
from grants.services import association_dashboard, finance_dashboard, programme_dashboard
from grants.services.associations import visible_association
from grants.services.dashboards import Filters, kept_charts
from grants.services.errors import DomainError, Forbidden, NotFound
from grants.services.figures import readers
from grants.web.access import login_required, role_required

blueprint = Blueprint("dashboards", __name__, url_prefix="/dashboard")


def dashboards_of(person) -> list[tuple[str, str]]:
    """The dashboards a person may open, as (label, address): the tabs of the pages."""
    found = []
    if {PROGRAMME_OFFICER, ADMIN} & person.role_names:
        found.append((_("Programme"), url_for("dashboards.programme")))
    if FINANCE_OFFICER in person.role_names:
        found.append((_("Finance"), url_for("dashboards.finance")))
    for membership in person.memberships:
        found.append(
            (
                membership.association.name,
                url_for("dashboards.association", association_id=membership.association_id),
            )
        )
    return found


@blueprint.get("/")
@login_required
def index():
    found = dashboards_of(current_user)
    if not found:
        raise Forbidden(
            _(
                "Your account has no dashboard: dashboards are for the programme office, "
                "finance, and members of an association."
            )
        )
    return redirect(found[0][1], code=303)


def _csv(chart) -> Response:
    return spreadsheets.response(chart.table(), spreadsheets.CSV)


def _wanted_csv(names) -> str | None:
    """The chart asked for as CSV, if any; an unknown format or chart is a 404."""
    kind = request.args.get("format")
    if kind is None:
        return None
    if kind != "csv":
        raise NotFound(_("The figures are downloaded as CSV only."))
    name = request.args.get("chart", "")
    if name not in names:
        raise NotFound(_("No such chart."))
    return name


def _page(template: str, filters=None, problem: DomainError | None = None, **context):
    return (
        render_template(
            template,
            tabs=dashboards_of(current_user),
            filters=filters or Filters(),
            problem=problem,
            args=request.args,
            **context,
        ),
        problem.status if problem else 200,
    )


#: Charts drawn as HTML, per kept computation and language: a dashboard's SVG and tables
#: took most of its page's time, the same for every officer reading the same figures.
_figures: Keeper[Markup] = Keeper(64)


def _drawn(kept: Kept, filters: Filters, endpoint: str) -> Markup:
    key = (endpoint, filters, str(get_locale()), kept.as_of, id(kept.value))
    return _figures.get(
        key,
        lambda: Markup(
            render_template(
                "dashboards/_figures.html", charts=kept.value, filters=filters, endpoint=endpoint
            )
        ),
    ).value


@blueprint.get("/programme")
@role_required(*readers("programme_dashboard"))
def programme():
    template = "dashboards/programme.html"
    calls = programme_dashboard.call_choices()
    try:
        filters = Filters.from_args(request.args)
        call = programme_dashboard.chosen_call(filters, calls)
    except DomainError as problem:
        return _page(template, problem=problem, calls=calls, charts=[])
    wanted = _wanted_csv(programme_dashboard.PROGRAMME_CHARTS)
    if wanted:
        return _csv(programme_dashboard.PROGRAMME_CHARTS[wanted](filters))
    kept = kept_charts("programme", filters, programme_dashboard.programme_charts)
    return _page(
        template,
        filters,
        calls=calls,
        call=call,
        charts=kept.value,
        figures=_drawn(kept, filters, "dashboards.programme"),
        as_of=kept.as_of,
    )


@blueprint.get("/finance")
@role_required(*readers("finance_dashboard"))
def finance():
    template = "dashboards/finance.html"
    try:
        filters = Filters.from_args(request.args, default_months=finance_dashboard.DEFAULT_MONTHS)
    except DomainError as problem:
        return _page(template, problem=problem, charts=[])
    wanted = _wanted_csv(finance_dashboard.FINANCE_CHARTS)
    if wanted:
        return _csv(finance_dashboard.FINANCE_CHARTS[wanted](filters))
    kept = kept_charts("finance", filters, finance_dashboard.finance_charts)
    return _page(
        template,
        filters,
        charts=kept.value,
        figures=_drawn(kept, filters, "dashboards.finance"),
        as_of=kept.as_of,
    )


@blueprint.get("/associations/<int:association_id>")
@login_required
def association(association_id: int):
    found = visible_association(current_user, association_id)
    timeline = association_dashboard.timeline(found)
    if _wanted_csv(("timeline",)):
        return _csv(timeline)
    return _page("dashboards/association.html", association=found, timeline=timeline)
