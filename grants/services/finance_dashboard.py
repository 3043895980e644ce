"""The finance officer's dashboard: payments over time, approvals waiting and their
age, committed versus paid per call. Three queries, whatever the size."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import case, func, literal, select

from grants.extensions import db
from grants.models.awards import Award, LedgerEntry, Tranche
from grants.numbers import money_value
from grants.orm import UTCDateTime, utcnow
from grants.services import disbursements
from grants.services.dashboards import (
    Chart,
    Filters,
    Row,
    Series,
    bucket_labels,
    month_label,
    months_before,
    without_jit,
)
from grants.sqldates import days_between, month_of

#: Finance reads the payments of the last twelve months unless a period is chosen.
DEFAULT_MONTHS = 12


def finance_charts(filters: Filters) -> list[Chart]:
    without_jit()
    return [build(filters) for build in FINANCE_CHARTS.values()]


def payments_over_time(filters: Filters) -> Chart:
    """Payments and refunds per month of their value date, per currency; every month of
    the period has its row."""
    month = month_of(LedgerEntry.value_date)
    statement = (
        select(
            month,
            LedgerEntry.currency,
            func.sum(case((LedgerEntry.kind == "payment", LedgerEntry.amount), else_=0)),
            func.sum(case((LedgerEntry.kind == "refund", LedgerEntry.amount), else_=0)),
        )
        .where(LedgerEntry.kind.in_(("payment", "refund")), *filters.days(LedgerEntry.value_date))
        .group_by(month, LedgerEntry.currency)
    )
    found = {
        (m, c): (money_value(p), money_value(r)) for m, c, p, r in db.session.execute(statement)
    }
    currencies = sorted({currency for _m, currency in found})
    months = sorted({m for m, _c in found})
    if filters.start and filters.end:
        months, cursor = [], filters.start.replace(day=1)
        while cursor <= filters.end:
            months.append(f"{cursor.year:04d}-{cursor.month:02d}")
            cursor = months_before(cursor, -1)
    zero = (Decimal("0.00"), Decimal("0.00"))
    rows = tuple(
        Row(
            month_label(m),
            found.get((m, currency), zero),
            currency,
            tick=month_label(m, "MMM"),
            year=m[:4] if index == 0 or m.endswith("-01") else "",
        )
        for currency in currencies
        for index, m in enumerate(months)
    )
    return Chart(
        name="payments",
        title=_("Payments over time"),
        description=_(
            "Per month and currency: the tranches paid and the refunds received, by value "
            "date. Each currency is drawn to its own scale."
        ),
        label_header=_("Month"),
        series=(Series(_("Paid"), "money"), Series(_("Refunded"), "money")),
        rows=rows,
        by_currency=True,
        empty=_("No payment in this period."),
        kind="columns",
    )


#: Upper bounds (days) of the groups of the age of a tranche waiting for approval.
WAITING_BUCKETS = (2, 7, 14, 30)


def approvals_waiting(now: datetime | None = None) -> Chart:
    """Tranches requested and waiting for approval, by how long they have waited."""
    now = now or utcnow()
    ages = (
        select(
            days_between(literal(now, UTCDateTime()), Tranche.requested_at).label("age"),
            Award.currency.label("currency"),
            Tranche.amount.label("amount"),
        )
        .join(Award, Award.id == Tranche.award_id)
        .where(Tranche.state == "requested")
        .subquery()
    )
    bucket = case(
        *[(ages.c.age < limit, index) for index, limit in enumerate(WAITING_BUCKETS)],
        else_=len(WAITING_BUCKETS),
    )
    grouped = select(bucket.label("bucket"), ages.c.currency, ages.c.amount).subquery()
    found = {
        (index, currency): (count, money_value(total))
        for index, currency, count, total in db.session.execute(
            select(
                grouped.c.bucket, grouped.c.currency, func.count(), func.sum(grouped.c.amount)
            ).group_by(grouped.c.bucket, grouped.c.currency)
        )
    }
    labels = bucket_labels(WAITING_BUCKETS)
    rows = tuple(
        Row(labels[index], found[(index, currency)], currency) for index, currency in sorted(found)
    )
    return Chart(
        name="waiting",
        title=_("Approvals waiting, by age"),
        description=_(
            "Tranches requested and not yet approved, grouped by the days since the "
            "request: how many, and their amount per currency."
        ),
        label_header=_("Waiting for"),
        series=(Series(_("Tranches")), Series(_("Amount"), "money")),
        rows=rows,
        by_currency=True,
        empty=_("No tranche waits for approval."),
    )


def committed_and_paid() -> Chart:
    """Committed versus paid per call, from the ledger (the programme totals' figures)."""
    rows = tuple(
        Row(code, (committed, paid), currency)
        for code, currency, committed, paid in disbursements.programme_totals("call")
    )
    return Chart(
        name="committed",
        title=_("Committed and paid per call"),
        description=_(
            "Per call and currency: what the accepted grants commit, and what was paid so "
            "far. Each currency is drawn to its own scale."
        ),
        label_header=_("Call"),
        series=(Series(_("Committed"), "money"), Series(_("Paid"), "money")),
        rows=rows,
        by_currency=True,
        empty=_("Nothing is committed yet."),
    )


#: The charts by name, in the order of the page.
FINANCE_CHARTS: dict[str, Callable[[Filters], Chart]] = {
    "payments": payments_over_time,
    "waiting": lambda filters: approvals_waiting(),
    "committed": lambda filters: committed_and_paid(),
}
