"""Reading amounts typed by people who write 1,250.50, 1 250,50 or 1.250,50, and amounts
from the database as money."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

_SPACES = re.compile(r"[\s\u00a0\u202f']")


def parse_decimal(raw: object) -> Decimal:
    """The number in ``raw``; raises ``ValueError`` when it is not one.

    Spaces and apostrophes group digits. With both a comma and a point, the last one is
    the decimal mark; a lone comma followed by one or two digits is a decimal mark too
    (1250,50), otherwise commas group thousands (1,250).
    """
    text = _SPACES.sub("", str(raw if raw is not None else ""))
    if not text:
        raise ValueError("empty")
    if "," in text and "." in text:
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
        grouping = "." if decimal_mark == "," else ","
        text = text.replace(grouping, "").replace(decimal_mark, ".")
    elif "," in text:
        whole, _, fraction = text.rpartition(",")
        if text.count(",") == 1 and 1 <= len(fraction) <= 2:
            text = f"{whole}.{fraction}"
        else:
            text = text.replace(",", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value


def money_value(value: Any) -> Decimal:
    """A sum from the database (None, float on SQLite, Decimal) as money, to the cent."""
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))
