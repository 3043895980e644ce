"""Object rules shared by several machines: whose record is this?"""

from __future__ import annotations

from typing import Any

from workflows.base import Actor


def member_of_association(entity: Any, actor: Actor) -> bool:
    """The actor is a member of the association the record belongs to."""
    memberships = getattr(actor, "memberships", None) or []
    return entity.association_id in {m.association_id for m in memberships}


def own_assignment(review: Any, actor: Actor) -> bool:
    """The review is assigned to the actor."""
    return review.evaluator_id == actor.id
