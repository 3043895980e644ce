"""Domain errors, shared with the state machines (see ``workflows.errors``)."""

from workflows.errors import (
    Conflict,
    DomainError,
    Forbidden,
    GuardFailed,
    InvalidInput,
    NotFound,
    NotPermitted,
    TransitionNotAllowed,
)

__all__ = [
    "Conflict",
    "DomainError",
    "Forbidden",
    "GuardFailed",
    "InvalidInput",
    "NotFound",
    "NotPermitted",
    "TransitionNotAllowed",
]
