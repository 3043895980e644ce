"""One form endpoint for every transition button on every record page.

The buttons come from ``allowed_transitions``; the POST goes through ``fire``, so the
page never decides on its own what is allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_security import current_user

from grants.services import applications as application_service
from grants.services import associations as association_service
from grants.services import awards as award_service
from grants.services import calls as call_service
from grants.services import evaluation as evaluation_service
from grants.services.actions import act
from grants.services.errors import InvalidInput
from grants.web.access import login_required

blueprint = Blueprint("transitions", __name__)

#: entity type → (load the record the person may see, else 404; the record's page)
PAGES: dict[str, tuple[Callable[[Any, int], Any], Callable[[Any], str]]] = {
    "association": (
        association_service.visible_association,
        lambda association: url_for("associations.show", association_id=association.id),
    ),
    "call": (
        lambda person, call_id: call_service.visible_call(person, call_id),
        lambda call: url_for("applications.call_page", code=call.code),
    ),
    "review": (
        lambda person, review_id: evaluation_service.review_for(person, review_id),
        lambda review: url_for(
            "applications.show", application_id=review.application_id, _anchor="reviews"
        ),
    ),
    "application": (
        application_service.visible_application,
        lambda application: url_for("applications.show", application_id=application.id),
    ),
    # Accepting has its own form (the bank details); tranches go through the award's lock.
    "award": (
        award_service.visible_award,
        lambda award: url_for("awards.show", award_id=award.id),
    ),
}
#: Transitions with a page of their own, refused here.
OWN_FORMS = {("award", "accept")}


@blueprint.post("/transitions/<entity>/<int:entity_id>/<transition>")
@login_required
def fire_transition(entity: str, entity_id: int, transition: str):
    if entity not in PAGES or (entity, transition) in OWN_FORMS:
        abort(404)
    load, page = PAGES[entity]
    record = load(current_user, entity_id)
    comment = request.form.get("comment", "").strip() or None
    machine = type(record).lifecycle
    declared = machine.rules.get(transition)
    data = {key: request.form.get(key) for key in (declared.requires if declared else ())}
    try:
        act(current_user, record, transition, comment, **data)
    except InvalidInput as refused:  # a guard's reasons, or a comment too long
        for reason in getattr(refused, "reasons", None) or [refused.message]:
            flash(reason, "error")
        return redirect(page(record), code=303)
    flash(str(machine.result(transition, record)), "success")
    return redirect(page(record), code=303)
