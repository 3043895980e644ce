"""Showing a service's field errors next to the fields of the form that sent them."""

from __future__ import annotations

from grants.services.errors import InvalidInput


def attach_errors(form, error: InvalidInput) -> None:
    for name, messages in error.errors.items():
        if name in form:
            form[name].errors = list(form[name].errors) + list(messages)
