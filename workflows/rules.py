"""Object rules shared by several machines: whose record is this, and who must not act
on what they asked for themselves."""

from __future__ import annotations

from typing import Any

from workflows.base import Actor, Context, GuardFn
from workflows.sentences import Sentence


def member_of_association(entity: Any, actor: Actor) -> bool:
    """The actor is a member of the association the record belongs to."""
    memberships = getattr(actor, "memberships", None) or []
    return entity.association_id in {m.association_id for m in memberships}


def own_assignment(review: Any, actor: Actor) -> bool:
    """The review is assigned to the actor."""
    return review.evaluator_id == actor.id


def not_the_requester(sentence: Sentence) -> GuardFn:
    """Segregation of duties: whoever requested a record (a tranche, a change of bank
    details) never approves nor pays it; they are refused with ``sentence``."""

    def not_the_requester(record: Any, ctx: Context) -> Sentence | None:
        if ctx.actor is not None and record.requested_by_id == ctx.actor.id:
            return sentence
        return None

    return not_the_requester
