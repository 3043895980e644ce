"""The lifecycles as programme officers read them: a diagram and a table per machine."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from markupsafe import Markup

from grants.labels import COMMENT_LABELS, state_label, transition_label
from grants.roles import ADMIN, PROGRAMME_OFFICER
from grants.web.access import role_required
from workflows import MACHINES
from workflows.base import required_sentence
from workflows.diagram import svg, who

blueprint = Blueprint("lifecycles", __name__, url_prefix="/lifecycles")


def _guard_text(guard) -> str:
    doc = (guard.__doc__ or "").strip().splitlines()
    return doc[0] if doc else guard.__name__.replace("_", " ").capitalize()


def _rows(machine):
    rows = []
    for source, event, target in machine.edges():
        declared = machine.rules[event]
        rows.append(
            dict(
                source=state_label(machine.entity, source),
                event=event,
                label=transition_label(machine.entity, event),
                target=state_label(machine.entity, target),
                who=who(machine, event),
                guards=[_guard_text(guard) for guard in declared.guards],
                comment=COMMENT_LABELS[declared.comment_label] if declared.comment_required else "",
                requires=[required_sentence(key) for key in declared.requires],
                summary=declared.summary,
            )
        )
    return rows


@blueprint.get("/")
@role_required(PROGRAMME_OFFICER, ADMIN)
def index():
    return render_template("lifecycles/index.html", machines=list(MACHINES.values()))


@blueprint.get("/<name>")
@role_required(PROGRAMME_OFFICER, ADMIN)
def show(name: str):
    machine = MACHINES.get(name)
    if machine is None:
        abort(404)
    return render_template(
        "lifecycles/show.html", machine=machine, diagram=Markup(svg(machine)), rows=_rows(machine)
    )
