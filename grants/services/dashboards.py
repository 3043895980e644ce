"""What a dashboard is made of: charts and their filters.

Each dashboard (``programme_dashboard``, ``finance_dashboard``, ``association_dashboard``)
is a fixed handful of GROUP BY queries, whatever the number of applications. Each chart
is a ``Chart`` whose rows the page draws as SVG, shows as a table and sends as CSV, so
the three always hold the same figures. Money is never added across currencies: every
money figure carries its currency and bars are scaled per currency.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from babel.dates import format_skeleton
from flask import current_app
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import and_, func, text

from grants.exports.spreadsheets import INTEGER, MONEY, NUMBER, Column, Table
from grants.extensions import db
from grants.kept import Keeper, Kept
from grants.orm import utcnow
from grants.services.errors import DomainError

GROUPINGS = ("sector", "country")


class BadFilter(DomainError):
    """A filter of a dashboard that cannot be read: 400, with the reason per field."""

    status = 400


# --- what a chart is ---------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """One measure of a chart: its name and whether it is a count, money or days."""

    name: str
    kind: str = "count"


@dataclass(frozen=True)
class Row:
    label: str
    values: tuple[Any, ...]
    #: The currency of the row's money figures ("" when it has none).
    currency: str = ""
    #: On a time axis: the short name under the column, and the year where it changes.
    tick: str = ""
    year: str = ""


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    description: str
    label_header: str
    series: tuple[Series, ...]
    rows: tuple[Row, ...]
    by_currency: bool = False
    note: str = ""
    empty: str = ""
    #: "bars" (horizontal, one row each) or "columns" (a time axis, a panel per currency).
    kind: str = "bars"

    def maximum(self, index: int, currency: str = "") -> Any:
        """The value of the longest bar on the scale of series ``index``: series of one
        kind share a scale; money is scaled per currency, never across."""
        kind = self.series[index].kind
        values = [
            value
            for row in self.rows
            if kind != "money" or row.currency == currency
            for series, value in zip(self.series, row.values, strict=True)
            if series.kind == kind and value
        ]
        return max(values, default=0)

    @property
    def header(self) -> tuple[str, ...]:
        currency = (_("Currency"),) if self.by_currency else ()
        return (self.label_header, *currency, *(s.name for s in self.series))

    def csv_rows(self) -> Iterator[tuple[Any, ...]]:
        for row in self.rows:
            currency = (row.currency,) if self.by_currency else ()
            yield (row.label, *currency, *row.values)

    def table(self) -> Table:
        """The chart's figures as an export, the same columns as its table."""
        kinds = {"count": INTEGER, "money": MONEY}
        currency = (Column(_("Currency"), width=9),) if self.by_currency else ()
        columns = (
            Column(self.label_header, width=24),
            *currency,
            *(Column(s.name, kinds.get(s.kind, NUMBER)) for s in self.series),
        )
        return Table(self.name, self.title, columns, self.csv_rows())


# --- filters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    call_id: int | None = None
    start: date | None = None
    end: date | None = None
    by: str = "sector"

    @classmethod
    def from_args(cls, args: Mapping[str, str], default_months: int | None = None) -> Filters:
        """Read ``call``, ``from``, ``to`` and ``by``; every problem is named, as a 400.

        With ``default_months``, a missing period is the last months up to today."""
        errors: dict[str, list[str]] = {}
        call_id = None
        raw_call = (args.get("call") or "").strip()
        if raw_call:
            if raw_call.isdigit() and len(raw_call) < 10:
                call_id = int(raw_call)
            else:
                errors["call"] = [_("Choose the call from the list.")]
        dates: dict[str, date | None] = {}
        for name in ("from", "to"):
            raw = (args.get(name) or "").strip()
            dates[name] = None
            if raw:
                try:
                    dates[name] = date.fromisoformat(raw)
                except ValueError:
                    errors[name] = [_("Give the date as year-month-day, e.g. 2027-03-01.")]
        start, end = dates["from"], dates["to"]
        if start and end and start > end:
            errors["to"] = [_("The end of the period is before its start.")]
        by = args.get("by") or "sector"
        if by not in GROUPINGS:
            errors["by"] = [_("Group the amounts by sector or by country.")]
        if errors:
            raise BadFilter(" ".join(m for ms in errors.values() for m in ms), errors)
        if default_months and start is None and end is None:
            end = utcnow().date()
            start = months_before(end.replace(day=1), default_months - 1)
        return cls(call_id=call_id, start=start, end=end, by=by)

    def args(self) -> dict[str, str]:
        """The filters as query arguments (the CSV links carry them)."""
        values = {
            "call": str(self.call_id) if self.call_id else "",
            "from": self.start.isoformat() if self.start else "",
            "to": self.end.isoformat() if self.end else "",
            "by": self.by if self.by != "sector" else "",
        }
        return {key: value for key, value in values.items() if value}

    def moments(self, column: Any) -> list[Any]:
        """Conditions keeping timestamps within the period (whole UTC days)."""
        conditions = []
        if self.start:
            conditions.append(column >= datetime.combine(self.start, time(), UTC))
        if self.end:
            conditions.append(column < datetime.combine(self.end + timedelta(days=1), time(), UTC))
        return conditions

    def days(self, column: Any) -> list[Any]:
        conditions = []
        if self.start:
            conditions.append(column >= self.start)
        if self.end:
            conditions.append(column <= self.end)
        return conditions


# --- figures kept a short while ------------------------------------------------------------

#: Programme and finance dashboards' charts, per dashboard, filters and language.
_kept: Keeper[list[Chart]] = Keeper(64)


def kept_charts(name: str, filters: Filters, build: Callable[[Filters], list[Chart]]) -> Kept:
    """The charts of dashboard ``name`` for ``filters`` in the reader's language, as of
    when they were last computed in this worker: at most ``DASHBOARD_MAX_AGE_SECONDS``
    ago. Their aggregates read every application; officers reading the dashboard at
    once share one computation, and the page says how old its figures are."""
    max_age = current_app.config["DASHBOARD_MAX_AGE_SECONDS"]
    return _kept.get((name, filters, str(get_locale())), lambda: build(filters), max_age)


def months_before(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def month_label(month: str, skeleton: str = "yMMMM") -> str:
    """A ``YYYY-MM`` month in the reader's language (``skeleton`` as in Babel)."""
    year, number = (int(part) for part in month.split("-"))
    return format_skeleton(skeleton, date(year, number, 1), locale=get_locale())


def bucket_labels(bounds: tuple[int, ...]) -> list[str]:
    """Names of groups of days cut at ``bounds``: under the first, between, the rest."""
    labels = [ngettext("Under %(num)d day", "Under %(num)d days", bounds[0])]
    labels += [
        ngettext("%(low)s to %(num)d day", "%(low)s to %(num)d days", high - 1, low=low)
        for low, high in zip(bounds, bounds[1:], strict=False)
    ]
    labels.append(ngettext("%(num)d day or more", "%(num)d days or more", bounds[-1]))
    return labels


def in_buckets(days: Any, bounds: tuple[int, ...], value: Any = None) -> list[Any]:
    """One aggregate per group of days cut at ``bounds`` (how many, or the sum of
    ``value``, in it): a single pass with FILTER clauses, without grouping on an
    expression, which the database would sort."""
    edges = [None, *bounds, None]
    sums = []
    for low, high in zip(edges, edges[1:], strict=False):
        conditions = [
            c
            for c in (low is not None and days >= low, high is not None and days < high)
            if c is not False
        ]
        aggregate = func.count() if value is None else func.sum(value)
        sums.append(func.coalesce(aggregate.filter(and_(*conditions)), 0))
    return sums


def without_jit() -> None:
    """No JIT compilation for this request's queries on PostgreSQL: a dashboard's short
    GROUP BYs spend more compiling (tens of ms each) than the JIT saves."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))
