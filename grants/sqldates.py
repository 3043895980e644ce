"""Date arithmetic in SQL that reads the same on PostgreSQL and SQLite.

Aggregates group by a day, a month or a number of days inside the database; each
backend spells these differently, so each expression compiles to its own dialect.
Timestamps are UTC (see ``grants.orm.UTCDateTime``), so a day is a UTC day.
"""

from __future__ import annotations

from sqlalchemy import Date, Float, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class day_of(FunctionElement):  # noqa: N801 - reads as a SQL function
    """The UTC calendar day of a timestamp."""

    type = Date()
    inherit_cache = True
    name = "day_of"


@compiles(day_of)
def _day_of(element, compiler, **kw):
    (moment,) = list(element.clauses)
    return f"CAST(({compiler.process(moment, **kw)}) AT TIME ZONE 'UTC' AS DATE)"


@compiles(day_of, "sqlite")
def _day_of_sqlite(element, compiler, **kw):
    (moment,) = list(element.clauses)
    return f"date({compiler.process(moment, **kw)})"


class month_of(FunctionElement):  # noqa: N801
    """The month of a date as ``YYYY-MM`` text (sorts in time order)."""

    type = String()
    inherit_cache = True
    name = "month_of"


@compiles(month_of)
def _month_of(element, compiler, **kw):
    (day,) = list(element.clauses)
    return f"to_char({compiler.process(day, **kw)}, 'YYYY-MM')"


@compiles(month_of, "sqlite")
def _month_of_sqlite(element, compiler, **kw):
    (day,) = list(element.clauses)
    return f"strftime('%Y-%m', {compiler.process(day, **kw)})"


class days_between(FunctionElement):  # noqa: N801
    """Days (with fractions) from the second timestamp to the first."""

    type = Float()
    inherit_cache = True
    name = "days_between"


@compiles(days_between)
def _days_between(element, compiler, **kw):
    end, start = list(element.clauses)
    # date_part gives a double precision: much faster to compare than EXTRACT's numeric.
    return (
        f"(date_part('epoch', ({compiler.process(end, **kw)}) - "
        f"({compiler.process(start, **kw)})) / 86400.0)"
    )


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    end, start = list(element.clauses)
    return (
        f"(julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)}))"
    )
