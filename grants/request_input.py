"""Input no field can hold is refused at the door, before any view reads it.

A NUL character cannot be stored in PostgreSQL text, and a lone surrogate ("\\ud800",
legal in JSON, meaningless in UTF-8) cannot be encoded to be sent to the database: both
used to reach a query and answer 500. JSON nested thousands of levels deep exhausted the
parser's recursion. Each is now refused with a clear 4xx naming the field, before the
request's transaction has written anything:

- text with a NUL or a lone surrogate, in the query string, a form, the JSON body or a
  segment of the address: 422 (API) or 400 (pages);
- a JSON body that is not JSON, or is nested deeper than ``MAX_JSON_DEPTH``: 400.

The JSON body is parsed here within these limits; what passes, the API's parser can
read again safely.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, request
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.exceptions import BadRequest, UnprocessableEntity

#: Deeper than any document the API describes (its deepest is three levels).
MAX_JSON_DEPTH = 64

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class UnreadableInput(UnprocessableEntity):
    """Text that cannot be stored; ``data["messages"]`` names the field (the API's
    error shape lists it under ``errors``)."""

    #: The error page shows this error's own sentence rather than its status's.
    shows_description = True

    def __init__(self, field: str):
        message = _(
            "“%(field)s” contains a character that cannot be stored (a NUL character or a "
            "broken character encoding). Remove it and send again.",
            field=field,
        )
        super().__init__(message)
        self.data = {"messages": {field: [message]}}


class MalformedJson(BadRequest):
    """A body that is not JSON, or JSON nested beyond what any request needs."""

    shows_description = True


def unstorable(text: str) -> bool:
    return bool(_UNSTORABLE.search(text))


def json_depth_and_text(document: Any) -> tuple[int, str | None]:
    """The nesting depth of a parsed JSON document and the path of its first string (or
    key) that cannot be stored, walking without recursion."""
    deepest = 0
    pending: list[tuple[Any, int, str]] = [(document, 1, "")]
    while pending:
        value, depth, path = pending.pop()
        if isinstance(value, str):
            if unstorable(value):
                return deepest, path or "body"
            continue
        if not isinstance(value, dict | list):
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return deepest, None
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            name = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and unstorable(key):
                return deepest, name
            pending.append((item, depth + 1, name))
    return deepest, None


def _too_deep() -> str:
    return ngettext(
        "The JSON body is nested too deeply (at most %(num)d level).",
        "The JSON body is nested too deeply (at most %(num)d levels).",
        MAX_JSON_DEPTH,
    )


def read_json_body() -> Any:
    """The request's JSON body, parsed within the limits; raises ``MalformedJson`` or
    ``UnreadableInput``."""
    raw = request.get_data(cache=True)
    try:
        document = json.loads(raw)
    except RecursionError:
        raise MalformedJson(_too_deep()) from None
    except (ValueError, UnicodeDecodeError) as error:
        raise MalformedJson(_("The body is not valid JSON: %(reason)s.", reason=error)) from None
    depth, field = json_depth_and_text(document)
    if depth > MAX_JSON_DEPTH:
        raise MalformedJson(_too_deep())
    if field is not None:
        raise UnreadableInput(field)
    return document


def _check_request() -> None:
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and unstorable(value):
            raise UnreadableInput(name)
    for source in (request.args, request.form):
        for key, values in source.lists():
            if unstorable(key):
                raise UnreadableInput(key.encode("unicode_escape").decode())
            if any(unstorable(value) for value in values):
                raise UnreadableInput(key)
    for storage in request.files.values():
        if storage.filename and unstorable(storage.filename):
            raise UnreadableInput(storage.name or "file")
    if request.is_json and request.get_data(cache=True):
        read_json_body()


def init_app(app: Flask) -> None:
    # First of all before_request hooks: nothing reads the input before it is checked.
    app.before_request_funcs.setdefault(None, []).insert(0, _check_request)
