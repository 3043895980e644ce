"""What the OpenAPI document says beyond each view's own declaration, derived once every
route is registered: operation ids, links, and which properties an answer always has.

A generated client names its methods by ``operationId`` (the view's name: ``get_award``,
``transition_tranche``), and follows ``links`` from one answer to the next operation: a
created record to its item, history and transitions, a record to what it points at (a
tranche's ``award_id`` to its award), a list's first item to that item. The stateful
fuzzing of the suite walks the lifecycles through the same links. Every property of an
answer is marked required (an answer writes each of its fields, ``null`` where it has
none), so a client need not guess which may be missing; the contract tests hold the
answers to it.
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec, BasePlugin

METHODS = ("get", "post", "put", "patch", "delete")
#: ``/api/v1/awards/{record_id}``: the collection's path and its item parameter.
ITEM = re.compile(r"^(?P<collection>.+)/\{(?P<parameter>\w+)\}$")


class OperationIds(BasePlugin):
    """Names each operation after its view, so ids stay stable as routes are added."""

    def operation_helper(self, path=None, operations=None, **kwargs: Any) -> None:
        rule = kwargs.get("rule")
        if rule is None or not operations:
            return
        for method, operation in operations.items():
            if method in METHODS:
                operation.setdefault("operationId", rule.endpoint.rsplit(".", 1)[-1])


def finish(spec: APISpec) -> None:
    add_links(spec)
    require_answer_properties(spec)


def require_answer_properties(spec: APISpec) -> None:
    """Every property of a schema that only answers use is required: our answers write
    every field. Schemas a request body uses (and those they nest) keep their own."""
    schemas = spec.components.schemas
    bodies: set[str] = set()
    for operations in spec._paths.values():
        for method, operation in operations.items():
            if method in METHODS and "requestBody" in operation:
                _collect(operation["requestBody"], schemas, bodies)
    answers: set[str] = set()
    for operations in spec._paths.values():
        for method, operation in operations.items():
            if method in METHODS:
                _collect(operation.get("responses", {}), schemas, answers)
    for name in answers - bodies:
        schema = schemas[name]
        if schema.get("properties"):
            schema["required"] = sorted(schema["properties"])


def _collect(node: Any, schemas: dict, found: set[str]) -> None:
    """The names of every component schema ``node`` refers to, followed through."""
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[-1]
            if name not in found and name in schemas:
                found.add(name)
                _collect(schemas[name], schemas, found)
        for value in node.values():
            _collect(value, schemas, found)
    elif isinstance(node, list):
        for value in node:
            _collect(value, schemas, found)


def add_links(spec: APISpec) -> None:
    """Link every answer that names a record to the operations on that record."""
    # The document's paths as apispec keeps them (``to_dict`` hands out this same dict).
    paths: dict[str, dict[str, Any]] = spec._paths
    schemas = spec.components.schemas
    items = {}  # item path → its parameter
    for path in paths:
        found = ITEM.match(path)
        if found and "{" not in found["collection"]:
            items[path] = found["parameter"]
    singular = {path.rsplit("/", 2)[-2][:-1]: path for path in items}  # "award" → item path
    item_of = {path.rsplit("/", 1)[0]: path for path in items}  # collection → item path

    def under(item_path: str) -> list[tuple[str, str, dict]]:
        return [
            (path, method, operation)
            for path, operations in paths.items()
            if path == item_path or path.startswith(item_path + "/")
            for method, operation in operations.items()
            if method in METHODS
        ]

    def link_all(
        response: dict, item_path: str, value: str, skip: dict | None = None, reads: bool = False
    ) -> None:
        parameter = items[item_path]
        links = response.setdefault("links", {})
        for path, method, target in under(item_path):
            if target is skip or "operationId" not in target or (reads and method != "get"):
                continue
            if path.count("{") > 1:
                continue  # the link would give one of its path's parameters, not all
            links.setdefault(
                target["operationId"],
                {"operationId": target["operationId"], "parameters": {parameter: value}},
            )

    def link_pointers(response: dict, properties: dict, prefix: str) -> None:
        """``award_id`` → the award, ``application_id`` → the application."""
        links = response.setdefault("links", {})
        for name in properties:
            target_path = singular.get(name.removesuffix("_id")) if name.endswith("_id") else None
            target = paths.get(target_path, {}).get("get") if target_path else None
            if target and "operationId" in target:
                links.setdefault(
                    target["operationId"],
                    {
                        "operationId": target["operationId"],
                        "parameters": {items[target_path]: f"$response.body#{prefix}/{name}"},
                    },
                )

    for path, operations in paths.items():
        owner = next((p for p in items if path == p or path.startswith(p + "/")), None)
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            for status in ("200", "201"):
                response = operation.get("responses", {}).get(status)
                properties = _properties(response, schemas)
                if response is None or properties is None:
                    continue
                if owner is not None:
                    # An answer on a record: the other operations on the same record.
                    link_all(response, owner, f"$request.path.{items[owner]}", skip=operation)
                elif method == "post" and "id" in properties and path in item_of:
                    # A record just created: everything that can be done with it.
                    link_all(response, item_of[path], "$response.body#/id")
                elif method == "get" and "items" in properties and path in item_of:
                    # A page of records: what can be read of the first one, by its key
                    # (its id, or what the item's path names it by: a lifecycle's name).
                    key = _item_key(properties["items"], schemas, items[item_of[path]])
                    if key:
                        link_all(
                            response, item_of[path], f"$response.body#/items/0/{key}", reads=True
                        )
                link_pointers(response, properties, "")
                if not response["links"]:
                    del response["links"]


def _item_key(items: dict, schemas: dict, parameter: str) -> str | None:
    """The field of a page's items that the item's path takes: ``id``, or the path
    parameter's own name when the items carry it."""
    ref = items.get("items", {}).get("$ref", "")
    properties = schemas.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})
    if "id" in properties:
        return "id"
    return parameter if parameter in properties else None


def _properties(response: dict | None, schemas: dict) -> dict | None:
    """The properties of a JSON answer's object schema, following one ``$ref``."""
    if not response:
        return None
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if not schema:
        return None
    ref = schema.get("$ref", "")
    if ref:
        schema = schemas.get(ref.rsplit("/", 1)[-1], {})
    return schema.get("properties") if schema.get("type", "object") == "object" else None
