"""SQLAlchemy models, one module per aggregate. Importing this registers them all."""

from grants.models.accounts import ApiToken, Role, User, user_roles
from grants.models.associations import Association, Invitation, Membership
from grants.models.calls import Call

__all__ = [
    "ApiToken",
    "Association",
    "Call",
    "Invitation",
    "Membership",
    "Role",
    "User",
    "user_roles",
]
