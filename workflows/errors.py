"""Errors of the domain, each with the HTTP status the web and API layers answer with.

They live here, below everything else, because the state machines raise them and
``workflows`` imports nothing of the application.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """``message`` and ``errors`` may be sentences (``workflows.sentences``): they are
    read now, when the error is raised, in the language of the person who caused it."""

    status = 400

    def __init__(self, message: Any, errors: dict[str, list[Any]] | None = None):
        message = str(message)
        super().__init__(message)
        self.message = message
        self.errors = {
            field: [str(item) for item in items] if isinstance(items, (list, tuple)) else items
            for field, items in (errors or {}).items()
        }

    def renamed(self, names: dict[str, str]) -> DomainError:
        """The same error with its fields named as the caller knows them (the API's dotted
        paths into its body for a service's form names); other fields keep theirs."""
        copy = type(self).__new__(type(self))
        copy.__dict__.update(vars(self))
        copy.args = self.args
        copy.errors = {names.get(field, field): items for field, items in self.errors.items()}
        return copy


class NotFound(DomainError):
    """Missing, or not visible to this person: both look the same from outside."""

    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    """The object changed meanwhile, or is in a state that does not allow this."""

    status = 409


class InvalidInput(DomainError):
    status = 422


class TransitionNotAllowed(Conflict):
    """The transition does not leave the entity's current state."""


class NotPermitted(Forbidden):
    """This person's roles or relation to the object do not allow the transition."""


class GuardFailed(InvalidInput):
    """One or more guards refused; ``reasons`` holds every sentence, not just the first."""

    def __init__(self, reasons: list[Any], errors: dict[str, list[Any]] | None = None):
        reasons = [str(reason) for reason in reasons]
        super().__init__(" ".join(reasons), errors or {"transition": reasons})
        self.reasons = reasons
