"""The lifecycles as programme officers read them: a diagram and a table per machine."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_security import current_user
from markupsafe import Markup

from grants.services import lifecycles as service
from grants.web.access import role_required
from workflows.diagram import svg

blueprint = Blueprint("lifecycles", __name__, url_prefix="/lifecycles")


@blueprint.get("/")
@role_required(*service.READERS)
def index():
    return render_template("lifecycles/index.html", machines=service.machines(current_user))


@blueprint.get("/<name>")
@role_required(*service.READERS)
def show(name: str):
    machine = service.machine(current_user, name)
    return render_template(
        "lifecycles/show.html",
        machine=machine,
        diagram=Markup(svg(machine)),
        rows=service.transitions(machine),
    )
