"""Domain errors. Each carries the HTTP status the web and API layers answer with."""

from __future__ import annotations


class DomainError(Exception):
    status = 400

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class NotFound(DomainError):
    """Missing, or not visible to this person: both look the same from outside."""

    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    """The object changed or is in a state that does not allow this."""

    status = 409


class InvalidInput(DomainError):
    status = 422
