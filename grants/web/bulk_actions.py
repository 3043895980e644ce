"""One action on many rows of the screening, assignment and grants lists: the lists'
checkboxes post here, the result page lists each row done and each refused with why.

Works without JavaScript: the rows' checkboxes belong to the list's one bulk form
(``form="bulk-form"``). Bad input shows the form again with the rows still ticked.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_security import current_user

from grants.extensions import db
from grants.models.calls import Call
from grants.roles import PROGRAMME_OFFICER
from grants.services import bulk_actions as service
from grants.services import calls as call_service
from grants.services import evaluation
from grants.services.errors import InvalidInput
from grants.web.access import login_required, role_required

blueprint = Blueprint("bulk", __name__, url_prefix="/office/bulk")

#: Where each list lives, to go back to it.
LISTS = {
    "screening": lambda code: url_for("applications.screening_list", code=code),
    "assignments": lambda code: url_for("assignments.index", code=code),
    "grants": lambda code: url_for("awards.index"),
}


@blueprint.app_context_processor
def _bulk_globals():
    return {"bulk_actions": service.actions_for}


@blueprint.post("/<list_name>")
@role_required(PROGRAMME_OFFICER)
def apply(list_name: str):
    if list_name not in LISTS:
        abort(404)
    code = request.form.get("call", "")
    call = call_service.find_call(code) if list_name != "grants" else None
    raw_ids = request.form.getlist("ids")
    evaluator_ids = [int(v) for v in request.form.getlist("evaluators") if v.isdigit()]
    try:
        done = service.run(
            current_user,
            list_name,
            request.form.get("action", ""),
            raw_ids,
            call=call,
            text=request.form.get("comment", ""),
            evaluator_ids=evaluator_ids,
        )
    except InvalidInput as refused:
        ids = [int(v) for v in raw_ids if str(v).isdigit()]
        return render_template(
            "bulk/form.html",
            list_name=list_name,
            call=call,
            back=LISTS[list_name](code),
            rows=service.chosen(current_user, list_name, call, ids),
            errors=refused.errors,
            message=refused.message,
            chosen_action=request.form.get("action", ""),
            comment=request.form.get("comment", ""),
            evaluator_ids=evaluator_ids,
            people=evaluation.evaluators() if list_name == "assignments" else [],
        ), refused.status
    return redirect(url_for("bulk.result", run_id=done.id), code=303)


@blueprint.get("/<int:run_id>")
@login_required
def result(run_id: int):
    done = service.visible_run(current_user, run_id)
    call = db.session.get(Call, done.call_id) if done.call_id else None
    return render_template(
        "bulk/result.html",
        run=done,
        call=call,
        items=service.items_of(done),
        action=service.ACTIONS[done.action],
        back=LISTS[done.list_name](call.code if call else ""),
    )
