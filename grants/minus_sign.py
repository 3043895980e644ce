"""A minus sign however a person typed it.

"-5" is read as a negative number and refused for what it is ("cannot be negative").
"- 5", "5-" (a right-to-left keyboard puts the sign where the eye expects it) and the
typographic minus "−5" are the same number typed otherwise: they are moved in front of
the digits before reading, so that the answer is the same true reason, never "give the
amount as a number".
"""

from __future__ import annotations

import re

_MINUS = "-\u2212\u2012\u2013\u2014"
_LEADING = re.compile(rf"^\s*[{_MINUS}]\s*(?=[0-9\u0660-\u0669\u06f0-\u06f9])")
_TRAILING = re.compile(rf"(?<=[0-9\u0660-\u0669\u06f0-\u06f9])\s*[{_MINUS}]\s*$")


def minus_in_front(raw: str) -> str:
    """``raw`` with a stray minus sign put in front of its digits ("5-" → "-5");
    anything else unchanged, for the reader of numbers to judge."""
    leading, trailing = _LEADING.search(raw), _TRAILING.search(raw)
    if bool(leading) == bool(trailing):
        return raw
    return "-" + (_LEADING.sub("", raw) if leading else _TRAILING.sub("", raw)).strip()


def is_negative(raw: str) -> bool:
    """Whether ``raw`` carries one minus sign, before or after its digits."""
    return minus_in_front(raw).startswith("-") and bool(
        _LEADING.search(raw) or _TRAILING.search(raw)
    )
