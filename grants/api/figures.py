"""Figures and files through the API: the programme, finance and association dashboards
as JSON, and the officers' exports (a call's applications and ranking, tranches and
payments, reports' indicators, a dashboard's chart) as streamed CSV or XLSX.

The figures are the pages' own (the same services, the same minute-old computation);
who reads what is ``services.figures``' and ``grants.policy``'s.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from grants.api.auth import authenticate
from grants.api.resources import blueprint
from grants.api.schemas import ApiErrorSchema, RecordIdField
from grants.exports import spreadsheets, tables
from grants.services import association_dashboard, audit, finance_dashboard, programme_dashboard
from grants.services import calls as call_service
from grants.services import ranking as ranking_service
from grants.services.associations import visible_association
from grants.services.dashboards import GROUPINGS, BadFilter, Chart, Filters, kept_charts
from grants.services.errors import InvalidInput, NotFound
from grants.services.figures import check_may_read

BINARY = {"type": "string", "format": "binary"}


def downloads(description: str) -> Callable:
    """Documents a streamed file: 200 as CSV or XLSX (binary), errors in the one shape."""

    def decorate(view: Callable) -> Callable:
        view = blueprint.alt_response(422, schema=ApiErrorSchema)(view)
        view = blueprint.alt_response(404, schema=ApiErrorSchema)(view)
        view = blueprint.alt_response(403, schema=ApiErrorSchema)(view)
        view = blueprint.alt_response(401, schema=ApiErrorSchema)(view)
        view = blueprint.alt_response(
            200,
            schema=BINARY,
            content_type=spreadsheets.MIME_TYPES[spreadsheets.XLSX],
            description=description,
            success=True,
        )(view)
        return blueprint.response(
            200,
            BINARY,
            content_type=spreadsheets.MIME_TYPES[spreadsheets.CSV],
            description=description,
            headers={"Content-Disposition": {"schema": {"type": "string"}}},
        )(view)

    return decorate


class FileArgs(Schema):
    format = fields.String(
        load_default=spreadsheets.CSV,
        validate=validate.OneOf(spreadsheets.FORMATS),
        metadata={"description": "csv (UTF-8 with a byte-order mark) or xlsx"},
    )


# --- dashboards --------------------------------------------------------------------------


class SeriesSchema(Schema):
    name = fields.String(required=True)
    kind = fields.String(
        required=True, metadata={"description": "count or money (then in the row's currency)"}
    )


def _figure(value: Any, kind: str) -> str | None:
    if value is None:
        return None
    if kind == "money":
        return f"{Decimal(str(value)):.2f}"
    return str(value)


class ChartRowSchema(Schema):
    label = fields.String(required=True)
    currency = fields.String(
        required=True, metadata={"description": "ISO 4217 of the row's money; empty without"}
    )
    values = fields.List(
        fields.String(allow_none=True),
        required=True,
        metadata={
            "description": "one per series, in its order: counts as whole numbers, money "
            "with two places (32000.50)"
        },
    )


class ChartSchema(Schema):
    name = fields.String(required=True)
    title = fields.String(required=True)
    description = fields.String(required=True)
    label_header = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "bars, or columns over time"})
    by_currency = fields.Boolean(
        required=True, metadata={"description": "money is never added across currencies"}
    )
    note = fields.String(required=True)
    empty = fields.String(required=True, metadata={"description": "what to say without rows"})
    series = fields.List(fields.Nested(SeriesSchema), required=True)
    rows = fields.List(fields.Nested(ChartRowSchema), required=True)


def _chart(chart: Chart) -> dict:
    """A chart with each figure written for its series: money with two places."""
    kinds = [series.kind for series in chart.series]
    return {
        **{name: getattr(chart, name) for name in ChartSchema._declared_fields},
        "rows": [
            {
                "label": row.label,
                "currency": row.currency,
                "values": [_figure(v, kind) for v, kind in zip(row.values, kinds, strict=True)],
            }
            for row in chart.rows
        ],
    }


class FiltersSchema(Schema):
    call = fields.Integer(allow_none=True, attribute="call_id", required=True)
    from_ = fields.Date(allow_none=True, data_key="from", attribute="start", required=True)
    to = fields.Date(allow_none=True, attribute="end", required=True)
    by = fields.String(required=True)


class DashboardSchema(Schema):
    as_of = fields.AwareDateTime(
        required=True, metadata={"description": "when the figures were computed"}
    )
    filters = fields.Nested(FiltersSchema, required=True)
    charts = fields.List(fields.Nested(ChartSchema), required=True)


class PeriodArgs(Schema):
    from_ = fields.Date(
        data_key="from", load_default=None, metadata={"description": "first day, YYYY-MM-DD"}
    )
    to = fields.Date(load_default=None, metadata={"description": "last day, YYYY-MM-DD"})


class ProgrammeArgs(PeriodArgs):
    call = RecordIdField(load_default=None, metadata={"description": "one call's id"})
    by = fields.String(load_default="sector", validate=validate.OneOf(GROUPINGS))


def _filters(args: dict, default_months: int | None = None) -> Filters:
    """The pages' own reading of the filters; what it refuses is bad input here."""
    raw = {
        "call": str(args.get("call") or ""),
        "from": args["from_"].isoformat() if args.get("from_") else "",
        "to": args["to"].isoformat() if args.get("to") else "",
        "by": args.get("by") or "",
    }
    try:
        return Filters.from_args(raw, default_months=default_months)
    except BadFilter as refused:
        raise InvalidInput(refused.message, refused.errors) from None


def _dashboard(kept: Any, filters: Filters) -> dict:
    return {"as_of": kept.as_of, "filters": filters, "charts": [_chart(c) for c in kept.value]}


@blueprint.route("/dashboards/programme", methods=["GET"])
@blueprint.arguments(ProgrammeArgs, location="query")
@blueprint.response(200, DashboardSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def programme_figures(args):
    """The programme dashboard's figures: applications per state, amounts by sector or
    country and currency, SDG targets, reports' punctuality, time to decision. For
    programme officers and admins; computed at most a minute ago (``as_of``)."""
    person = authenticate()
    check_may_read(person, "programme_dashboard")
    filters = _filters(args)
    programme_dashboard.chosen_call(filters, programme_dashboard.call_choices())
    kept = kept_charts("programme", filters, programme_dashboard.programme_charts)
    return _dashboard(kept, filters)


@blueprint.route("/dashboards/finance", methods=["GET"])
@blueprint.arguments(PeriodArgs, location="query")
@blueprint.response(200, DashboardSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def finance_figures(args):
    """The finance dashboard's figures: payments and refunds per month (the last twelve
    months unless a period is given), approvals waiting by age, committed and paid per
    call. For finance officers."""
    person = authenticate()
    check_may_read(person, "finance_dashboard")
    filters = _filters(args, default_months=finance_dashboard.DEFAULT_MONTHS)
    kept = kept_charts("finance", filters, finance_dashboard.finance_charts)
    return _dashboard(kept, filters)


class EventSchema(Schema):
    when = fields.Date(required=True)
    lane = fields.Integer(required=True, metadata={"description": "index in lanes"})
    application = fields.String(required=True)
    what = fields.String(required=True)
    state = fields.String(required=True)
    kind = fields.String(required=True)
    done = fields.Boolean(required=True)


class LaneSchema(Schema):
    label = fields.String(required=True)
    grant_start = fields.Date(allow_none=True, required=True)
    grant_end = fields.Date(allow_none=True, required=True)


class AssociationTimelineSchema(Schema):
    association_id = fields.Integer(required=True)
    today = fields.Date(required=True)
    first = fields.Date(required=True)
    last = fields.Date(required=True)
    lanes = fields.List(fields.Nested(LaneSchema), required=True)
    events = fields.List(fields.Nested(EventSchema), required=True)
    next_due = fields.Nested(EventSchema, allow_none=True, required=True)
    more = fields.Boolean(
        required=True,
        metadata={"description": f"more than {association_dashboard.LANES} applications"},
    )


@blueprint.route("/associations/<int:record_id>/dashboard", methods=["GET"])
@blueprint.response(200, AssociationTimelineSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
def association_figures(record_id: int):
    """An association's dashboard: its applications and grants on a timeline, and what is
    due next. Its members and the staff read it; anyone else is told it does not exist."""
    association = visible_association(authenticate(), record_id)
    timeline = association_dashboard.timeline(association)
    return {
        "association_id": association.id,
        "today": timeline.today,
        "first": timeline.first,
        "last": timeline.last,
        "lanes": timeline.lanes,
        "events": timeline.events,
        "next_due": timeline.next_due,
        "more": timeline.more,
    }


# --- exports -----------------------------------------------------------------------------


class ApplicationsFileArgs(FileArgs):
    call = fields.String(
        required=True, validate=validate.Length(min=1, max=40), metadata={"description": "code"}
    )


@blueprint.route("/exports/applications", methods=["GET"])
@blueprint.arguments(ApplicationsFileArgs, location="query")
@downloads("every application of the call, streamed")
def export_applications(args):
    """A call's applications (reference, association, title, country, state, amount
    requested, submitted at) as CSV or XLSX. For programme officers and admins."""
    person = authenticate()
    check_may_read(person, "applications_export")
    call = call_service.find_call(args["call"])
    table = audit.exported(person, tables.applications_of(call), args["format"], ("call", call.id))
    return spreadsheets.response(table, args["format"])


class RankingFileArgs(ApplicationsFileArgs):
    by = fields.String(
        load_default="normalised",
        validate=validate.OneOf(("normalised", "raw")),
        metadata={"description": "normalised (each evaluator against their own habits) or raw"},
    )


@blueprint.route("/exports/ranking", methods=["GET"])
@blueprint.arguments(RankingFileArgs, location="query")
@downloads("the call's whole ranking, as the ranking page's file")
def export_ranking(args):
    """A call's ranking (rank, reference, association, amounts and the funding line,
    means, spread, disagreement, reviews) as CSV or XLSX. For programme officers and
    admins."""
    person = authenticate()
    ranking_service.check_may_see(person)
    call = call_service.find_call(args["call"])
    found = ranking_service.ranking_for(person, call, args["by"], page=None)
    table = audit.exported(person, tables.ranking(call, found), args["format"], ("call", call.id))
    return spreadsheets.response(table, args["format"])


@blueprint.route("/exports/tranches", methods=["GET"])
@blueprint.arguments(FileArgs, location="query")
@downloads("every tranche and payment, streamed")
def export_tranches(args):
    """Every tranche with its state, request, payment date and bank reference, as CSV or
    XLSX. For the staff."""
    person = authenticate()
    check_may_read(person, "tranches_export")
    table = audit.exported(person, tables.tranches_and_payments(), args["format"])
    return spreadsheets.response(table, args["format"])


@blueprint.route("/exports/indicators", methods=["GET"])
@blueprint.arguments(FileArgs, location="query")
@downloads("one row per report and indicator, streamed")
def export_indicators(args):
    """Reports' indicators (the value, or women and men), as CSV or XLSX. For programme
    officers and admins."""
    person = authenticate()
    check_may_read(person, "indicators_export")
    table = audit.exported(person, tables.report_indicators(), args["format"])
    return spreadsheets.response(table, args["format"])


DASHBOARDS = {
    "programme": ("programme_dashboard", programme_dashboard.PROGRAMME_CHARTS, None),
    "finance": (
        "finance_dashboard",
        finance_dashboard.FINANCE_CHARTS,
        finance_dashboard.DEFAULT_MONTHS,
    ),
}


class ChartFileArgs(FileArgs, ProgrammeArgs):
    dashboard = fields.String(required=True, validate=validate.OneOf(sorted(DASHBOARDS)))
    chart = fields.String(
        required=True,
        validate=validate.OneOf(
            sorted({*programme_dashboard.PROGRAMME_CHARTS, *finance_dashboard.FINANCE_CHARTS})
        ),
        metadata={"description": "a chart's name, as in the dashboard's charts"},
    )


@blueprint.route("/exports/chart", methods=["GET"])
@blueprint.arguments(ChartFileArgs, location="query")
@downloads("the chart's rows, as its table")
def export_chart(args):
    """One chart of the programme or finance dashboard, with the same filters, as its
    table in CSV or XLSX (what the pages' "CSV" link sends)."""
    person = authenticate()
    reader, charts, months = DASHBOARDS[args["dashboard"]]
    check_may_read(person, reader)
    if args["chart"] not in charts:
        raise NotFound(_("No such chart."))
    filters = _filters(args, default_months=months)
    if args["dashboard"] == "programme":
        programme_dashboard.chosen_call(filters, programme_dashboard.call_choices())
    return spreadsheets.response(charts[args["chart"]](filters).table(), args["format"])


class TimelineFileArgs(FileArgs):
    association = RecordIdField(required=True, metadata={"description": "the association's id"})


@blueprint.route("/exports/timeline", methods=["GET"])
@blueprint.arguments(TimelineFileArgs, location="query")
@downloads("the association's timeline, as its table")
def export_timeline(args):
    """An association's dashboard timeline (date, application, what, state) as CSV or
    XLSX. Its members and the staff read it; anyone else is told it does not exist."""
    association = visible_association(authenticate(), args["association"])
    return spreadsheets.response(
        association_dashboard.timeline(association).table(), args["format"]
    )
