"""URL converters. Record ids in URLs are database integers: a larger number is simply
not found, instead of an overflow error from PostgreSQL's 32-bit columns."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1


class RecordId(IntegerConverter):
    """``<int:…>`` for every route: 0 to 2,147,483,647; beyond that, 404."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def openapi_schema(converter: RecordId) -> dict:
    return {"type": "integer", "format": "int32", "minimum": 0, "maximum": MAX_ID}
