"""Moments as people read them: a date and an hour and minute, never seconds.

Babel's datetime widths carry seconds from "medium" up ("7 Dec 2026, 11:25:22"), which
no reader of a deadline or a history needs. Here the date keeps the width asked for
and the time is always the locale's short one ("11:25 AM", "11:25"), joined as the
locale joins them.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time, get_datetime_format

WIDTHS = ("short", "medium", "long", "full")


def moment_text(moment: datetime, locale: Locale | str, zone: str, width: str = "medium") -> str:
    """``moment`` in ``zone``: the date at ``width``, the time as hour and minute."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return _moment_text(moment, str(locale), zone, width if width in WIDTHS else "medium")


@lru_cache(maxsize=4096)
def _moment_text(moment: datetime, locale: str, zone: str, width: str) -> str:
    local = moment.astimezone(ZoneInfo(zone))
    joined = get_datetime_format(width, locale=locale).replace("'", "")
    return joined.replace("{0}", format_time(local, "short", tzinfo=None, locale=locale)).replace(
        "{1}", format_date(local, width, locale=locale)
    )


def zoned_moment_text(
    moment: datetime, locale: Locale | str, zone: str, width: str = "medium"
) -> str:
    """``moment_text`` with the time zone named: "31 Mar 2027, 23:59 (Africa/Dakar)"."""
    return f"{moment_text(moment, locale, zone, width)} ({zone})"
