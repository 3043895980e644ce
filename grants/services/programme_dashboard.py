"""The programme officer's dashboard: applications per call by state, amounts by
sector or country and currency, SDG targets, reports' punctuality, time to decision.
Seven queries (the calls, one per chart, two for the amounts), whatever the size."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import Select, case, func, literal, select, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import lazyload, load_only

from grants.extensions import db
from grants.labels import REPORT_KIND_LABELS, SECTOR_LABELS, state_label
from grants.models.applications import Application
from grants.models.awards import Award, LedgerEntry, Report
from grants.models.calls import Call
from grants.numbers import money_value
from grants.orm import utcnow
from grants.reference import country_name
from grants.services import disbursements
from grants.services.dashboards import (
    Chart,
    Filters,
    Row,
    Series,
    bucket_labels,
    in_buckets,
    without_jit,
)
from grants.services.errors import NotFound
from grants.sqldates import day_of, days_between
from workflows.application import ApplicationLifecycle

#: The application states in the order of a funnel: the way forward, then the exits.
FUNNEL = (
    "draft",
    "concept_submitted",
    "proposal_draft",
    "submitted",
    "eligible",
    "in_review",
    "reviewed",
    "waitlisted",
    "awarded",
    "concept_declined",
    "ineligible",
    "rejected",
    "withdrawn",
)
assert set(FUNNEL) == set(ApplicationLifecycle.state_values()), "a state is missing"
#: Where the decisions lead: an application with a decision is in one of these.
DECIDED = ("awarded", "waitlisted", "rejected")
#: Awards whose reports are owed: running or finished grants.
REPORTING_AWARDS = ("active", "suspended", "completed")
TOP_TARGETS = 20


@dataclass(frozen=True)
class CallChoice:
    id: int
    code: str
    title: str


def call_choices() -> list[CallChoice]:
    """The calls to choose from, newest first, in one query of a few columns."""
    locale = str(get_locale())
    calls = db.session.scalars(
        select(Call)
        .options(load_only(Call.id, Call.code, Call.title, Call.language), lazyload("*"))
        .order_by(Call.created_at.desc(), Call.id.desc())
    )
    return [CallChoice(call.id, call.code, call.text("title", locale)) for call in calls]


def chosen_call(filters: Filters, calls: list[CallChoice]) -> CallChoice | None:
    if filters.call_id is None:
        return None
    found = next((call for call in calls if call.id == filters.call_id), None)
    if found is None:
        raise NotFound(_("No such call: choose one from the list."))
    return found


def _of_call(statement: Select, filters: Filters) -> Select:
    if filters.call_id is not None:
        statement = statement.where(Application.call_id == filters.call_id)
    return statement


def programme_charts(filters: Filters) -> list[Chart]:
    without_jit()
    return [build(filters) for build in PROGRAMME_CHARTS.values()]


def funnel(filters: Filters) -> Chart:
    statement = _of_call(
        # count(*), not count(id): PostgreSQL answers from the state index alone.
        select(Application.state, func.count()).group_by(Application.state),
        filters,
    ).where(*filters.moments(Application.submitted_at))
    counts = dict(db.session.execute(statement).all())
    rows = tuple(
        Row(state_label("application", state), (counts[state],))
        for state in FUNNEL
        if counts.get(state)
    )
    return Chart(
        name="funnel",
        title=_("Applications by state"),
        description=_(
            "How far the applications went: one bar per state, from draft to the decision, "
            "then the applications that left the way."
        ),
        label_header=_("State"),
        series=(Series(_("Applications")),),
        rows=rows,
        note=_("Within a period, only the applications submitted in it are counted.")
        if filters.start or filters.end
        else "",
        empty=_("No application yet."),
    )


def _group_label(by: str, key: str | None) -> str:
    if not key:
        return _("not given")
    if by == "sector":
        return str(SECTOR_LABELS.get(key, key))
    return country_name(key, str(get_locale()))


def amounts(filters: Filters) -> Chart:
    """Requested (from the applications submitted), committed and paid (from the ledger,
    as the finance dashboard and the programme totals read them: the accepted awards'
    commitments, payments minus refunds), per sector or country and per currency.

    The committed figure is the ledger's, not the applications' ``amount_awarded``: an
    award offered and not accepted commits nothing, and both dashboards must show the
    same money for the same call."""
    key = (
        func.coalesce(Application.sector, Call.sector)
        if filters.by == "sector"
        else Application.country
    )
    # Per call first (one pass over the applications, no join), then per call currency.
    raw = Application.sector if filters.by == "sector" else Application.country
    per_call = _of_call(
        select(
            Application.call_id.label("call_id"),
            raw.label("raw"),
            func.sum(Application.amount_requested).label("requested"),
        )
        .where(Application.submitted_at.is_not(None), *filters.moments(Application.submitted_at))
        .group_by(Application.call_id, raw),
        filters,
    ).subquery()
    group = func.coalesce(per_call.c.raw, Call.sector) if filters.by == "sector" else per_call.c.raw
    asked = (
        select(group, Call.currency, func.sum(per_call.c.requested))
        .join(Call, Call.id == per_call.c.call_id)
        .group_by(group, Call.currency)
    )
    ledger = _of_call(
        select(
            key,
            LedgerEntry.currency,
            func.sum(disbursements.COMMITTED),
            func.sum(disbursements.PAID),
        )
        .select_from(LedgerEntry)
        .join(Award, Award.id == LedgerEntry.award_id)
        .join(Application, Application.id == Award.application_id)
        .join(Call, Call.id == Application.call_id)
        .where(*filters.days(LedgerEntry.value_date))
        .group_by(key, LedgerEntry.currency),
        filters,
    )
    zero = Decimal("0.00")
    figures: dict[tuple[str | None, str], list[Decimal]] = {}
    for group, currency, requested in db.session.execute(asked):
        figures[(group, currency)] = [money_value(requested), zero, zero]
    for group, currency, committed, paid in db.session.execute(ledger):
        row = figures.setdefault((group, currency), [zero, zero, zero])
        row[1], row[2] = money_value(committed), money_value(paid)
    rows = sorted(
        (
            Row(_group_label(filters.by, group), tuple(values), currency)
            for (group, currency), values in figures.items()
        ),
        key=lambda row: (row.label, row.currency),
    )
    return Chart(
        name="amounts",
        title=_("Amounts requested, committed and paid by sector")
        if filters.by == "sector"
        else _("Amounts requested, committed and paid by country"),
        description=_(
            "Three bars per group and currency: requested, committed by the accepted "
            "grants, paid (from the ledger, as on the finance dashboard). Each currency is "
            "drawn to its own scale."
        ),
        label_header=_("Sector") if filters.by == "sector" else _("Country"),
        series=(
            Series(_("Requested"), "money"),
            Series(_("Committed"), "money"),
            Series(_("Paid"), "money"),
        ),
        rows=tuple(rows),
        by_currency=True,
        empty=_("No application submitted yet."),
    )


def _targets_of(column: Any) -> Any:
    """The SDG targets of an application, one row each, as a table-valued function."""
    if db.session.get_bind().dialect.name == "postgresql":
        array = case(
            (func.jsonb_typeof(column) == "array", column), else_=literal("[]").cast(JSONB)
        )
        return func.jsonb_array_elements_text(array).table_valued("value")
    return func.json_each(column).table_valued("value")


def sdg_targets(filters: Filters) -> Chart:
    """The SDG targets of submitted applications, the most covered first."""
    target = _targets_of(Application.sdg_targets)
    count = func.count()
    statement = _of_call(
        select(
            target.c.value,
            count,
            func.count().filter(Application.state == "awarded"),
            func.count().over(),
        )
        .select_from(Application)
        .join(target, true())
        .where(
            Application.submitted_at.is_not(None),
            target.c.value.is_not(None),
            *filters.moments(Application.submitted_at),
        )
        .group_by(target.c.value)
        .order_by(count.desc(), target.c.value)
        .limit(TOP_TARGETS),
        filters,
    )
    found = db.session.execute(statement).all()
    covered = found[0][3] if found else 0
    rows = tuple(
        Row(str(code), (int(total), int(awarded or 0))) for code, total, awarded, _n in found
    )
    return Chart(
        name="sdg",
        title=_("SDG targets covered"),
        description=_(
            "Per target of the 2030 Agenda: the submitted applications that name it, and "
            "those awarded."
        ),
        label_header=_("SDG target"),
        series=(Series(_("Applications")), Series(_("Awarded"))),
        rows=rows,
        note=_(
            "The %(shown)s targets named most often, of %(covered)s targets covered.",
            shown=len(rows),
            covered=covered,
        )
        if covered > len(rows)
        else "",
        empty=_("No submitted application names a target yet."),
    )


PUNCTUALITY = ("on_time", "late", "overdue", "upcoming")


def report_punctuality(filters: Filters) -> Chart:
    """Reports on time, late, overdue or not yet due, by kind. A report handed in on its
    due date (UTC, as the reminders count) is on time."""
    today = utcnow().date()
    status = case(
        (Report.submitted_at.is_(None) & (Report.due_date < today), "overdue"),
        (Report.submitted_at.is_(None), "upcoming"),
        (day_of(Report.submitted_at) <= Report.due_date, "on_time"),
        else_="late",
    )
    inner = (
        select(status.label("status"), Report.kind.label("kind"))
        .join(Award, Award.id == Report.award_id)
        .where(Award.state.in_(REPORTING_AWARDS), *filters.days(Report.due_date))
    )
    if filters.call_id is not None:  # the applications are read only to filter by call
        inner = _of_call(inner.join(Application, Application.id == Award.application_id), filters)
    inner = inner.subquery()
    counts = {
        (state, kind): total
        for state, kind, total in db.session.execute(
            select(inner.c.status, inner.c.kind, func.count()).group_by(
                inner.c.status, inner.c.kind
            )
        )
    }
    labels = {
        "on_time": _("On time"),
        "late": _("Late"),
        "overdue": _("Overdue"),
        "upcoming": _("Not yet due"),
    }
    rows = tuple(
        Row(labels[state], (counts.get((state, "interim"), 0), counts.get((state, "final"), 0)))
        for state in PUNCTUALITY
    )
    return Chart(
        name="reports",
        title=_("Reports on time, late and overdue"),
        description=_(
            "Reports of running and finished grants: handed in by their due date, after "
            "it, not handed in though due, and not yet due; interim and final reports."
        ),
        label_header=_("Reports"),
        series=(
            Series(str(REPORT_KIND_LABELS["interim"]).capitalize()),
            Series(str(REPORT_KIND_LABELS["final"]).capitalize()),
        ),
        rows=rows if any(any(row.values) for row in rows) else (),
        empty=_("No report is expected yet."),
    )


#: Upper bounds (days) of the groups of the time to a decision.
DECISION_BUCKETS = (30, 60, 90, 180)


def decision_times(filters: Filters) -> Chart:
    """Days from submission to the first decision (award, waiting list or rejection)."""
    spans = _of_call(
        select(days_between(Application.decided_at, Application.submitted_at).label("days")).where(
            Application.state.in_(DECIDED),
            Application.decided_at.is_not(None),
            Application.submitted_at.is_not(None),
            *filters.moments(Application.decided_at),
        ),
        filters,
    ).subquery()
    *counts, total = db.session.execute(
        select(*in_buckets(spans.c.days, DECISION_BUCKETS), func.sum(spans.c.days))
    ).one()
    labels = bucket_labels(DECISION_BUCKETS)
    rows = tuple(Row(label, (int(count),)) for label, count in zip(labels, counts, strict=True))
    decided_count = sum(int(count) for count in counts)
    average = float(total or 0) / (decided_count or 1)
    return Chart(
        name="decisions",
        title=_("Time from submission to decision"),
        description=_("Decided applications grouped by the days from submission to decision."),
        label_header=_("Time to decision"),
        series=(Series(_("Applications")),),
        rows=rows if decided_count else (),
        note=" ".join(
            (
                ngettext("%(num)d decision.", "%(num)d decisions.", decided_count),
                ngettext("%(num)d day on average.", "%(num)d days on average.", round(average)),
            )
        )
        if decided_count
        else "",
        empty=_("No application has been decided yet."),
    )


#: The charts by name, in the order of the page.
PROGRAMME_CHARTS: dict[str, Callable[[Filters], Chart]] = {
    "funnel": funnel,
    "amounts": amounts,
    "sdg": sdg_targets,
    "reports": report_punctuality,
    "decisions": decision_times,
}
