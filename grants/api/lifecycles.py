"""The lifecycles as data, as the lifecycle pages show them: each machine's states and
transitions, who may fire each, whether a comment is needed and what data it requires
or accepts, so a client learns the names ``POST …/transitions`` takes. Who reads them is
``services.lifecycles``'."""

from __future__ import annotations

from marshmallow import Schema, fields

from grants.api.auth import authenticate
from grants.api.resources import blueprint
from grants.api.schemas import ApiErrorSchema, PageArgs, page_of, page_schema
from grants.services import lifecycles as service


class MachineStateSchema(Schema):
    name = fields.String(required=True)
    label = fields.String(required=True, metadata={"description": "in the caller's language"})
    initial = fields.Boolean(required=True)
    final = fields.Boolean(required=True)


class MachineTransitionSchema(Schema):
    name = fields.String(required=True, metadata={"description": "what POST …/transitions takes"})
    label = fields.String(required=True)
    from_ = fields.String(required=True, data_key="from", attribute="source")
    to = fields.String(required=True, attribute="target")
    roles = fields.List(fields.String(), required=True, metadata={"description": "who may fire it"})
    system = fields.Boolean(
        required=True, metadata={"description": "also fired by the product itself (a deadline)"}
    )
    guards = fields.List(
        fields.String(), required=True, metadata={"description": "what must hold first"}
    )
    comment_required = fields.Boolean(required=True)
    comment = fields.String(
        required=True, metadata={"description": "what the comment is called, when required"}
    )
    requires = fields.List(
        fields.String(), required=True, metadata={"description": "data it cannot go without"}
    )
    accepts = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "data it reads when given; nothing else may be sent"},
    )
    summary = fields.String(required=True)


class MachineSchema(Schema):
    name = fields.String(required=True, metadata={"example": "application"})
    title = fields.String(required=True)
    initial = fields.String(required=True, metadata={"description": "the state records start in"})
    states = fields.List(fields.Nested(MachineStateSchema), required=True)
    transitions = fields.List(fields.Nested(MachineTransitionSchema), required=True)


MachinePage = page_schema(MachineSchema)


def _machine(machine) -> dict:
    return {
        "name": machine.entity,
        "title": str(machine.title),
        "initial": machine.initial_value(),
        "states": service.states(machine),
        "transitions": service.transitions(machine),
    }


@blueprint.route("/lifecycles", methods=["GET"])
@blueprint.arguments(PageArgs, location="query")
@blueprint.response(200, MachinePage)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(422, schema=ApiErrorSchema)
def list_lifecycles(args):
    """Every lifecycle: its states and transitions. For programme officers and admins."""
    return page_of([_machine(machine) for machine in service.machines(authenticate())], args)


@blueprint.route("/lifecycles/<name>", methods=["GET"])
@blueprint.response(200, MachineSchema)
@blueprint.alt_response(401, schema=ApiErrorSchema)
@blueprint.alt_response(403, schema=ApiErrorSchema)
@blueprint.alt_response(404, schema=ApiErrorSchema)
def get_lifecycle(name: str):
    """One lifecycle (``call``, ``association``, ``application``, ``review``, ``award``,
    ``tranche``, ``report``). For programme officers and admins."""
    return _machine(service.machine(authenticate(), name))
