"""Form errors for people: next to the field that has them, and in the summary at the
top of the form, as sentences in the reader's language, whatever the form's nesting."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from wtforms import FieldList, FormField

from grants.services.errors import InvalidInput


def attach_errors(form, error: InvalidInput) -> None:
    """The service's errors on the fields they name; a row's cell is named as the page
    names it (``budget_lines-0-description``)."""
    for name, messages in error.errors.items():
        field = _field_named(form, name)
        if field is not None:
            field.errors = list(field.errors) + list(messages)


def _field_named(form, name: str):
    if name in form:
        return form[name]
    table, _, rest = name.partition("-")
    number, _, cell = rest.partition("-")
    if table in form and isinstance(form[table], FieldList) and number.isdigit():
        entries = form[table].entries
        if int(number) < len(entries) and cell in entries[int(number)].form:
            return entries[int(number)].form[cell]
    return None


@dataclass(frozen=True)
class FieldError:
    """One message, the id of the element it concerns (for a link) and what that
    element is called, down to the row and cell of a table of rows."""

    anchor: str
    label: str
    message: str


def _messages(errors: Any) -> list[str]:
    """The sentences of a field's errors: a table's own messages, not its rows' dicts."""
    return [str(error) for error in errors or () if not isinstance(error, dict | list)]


def field_errors(form) -> list[FieldError]:
    """Every error of ``form``, in the order of its fields (the CSRF token aside)."""
    return [
        problem
        for field in form
        if field.type != "CSRFTokenField"
        for problem in _errors_of(field, str(field.label.text))
    ]


def _errors_of(field, label: str) -> Iterator[FieldError]:
    if isinstance(field, FieldList):
        for message in _messages(field.errors):
            yield FieldError(field.id, label, message)
        for number, entry in enumerate(field.entries, start=1):
            row = _("%(table)s, row %(number)s", table=label, number=number)
            yield from _errors_of(entry, row)
    elif isinstance(field, FormField):
        for message in field.form.form_errors:
            yield FieldError(field.id, label, str(message))
        for sub in field.form:
            if sub.type != "CSRFTokenField":
                cell = _("%(row)s, %(field)s", row=label, field=sub.label.text)
                yield from _errors_of(sub, cell)
    else:
        for message in _messages(field.errors):
            yield FieldError(field.id, label, message)
