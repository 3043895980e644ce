"""The lifecycles as programme officers read them: a diagram and a table per machine."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from markupsafe import Markup

from grants.roles import ADMIN, PROGRAMME_OFFICER
from grants.web.access import role_required
from workflows import MACHINES
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
                source=machine.states_map[source].name,
                event=event,
                target=machine.states_map[target].name,
                who=who(machine, event),
                guards=[_guard_text(guard) for guard in declared.guards],
                comment=declared.comment_label if declared.comment_required else "",
                requires=[key.replace("_", " ") for key in declared.requires],
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
