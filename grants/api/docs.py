"""``/api/v1/docs``: the OpenAPI document as a readable page, served by the application
itself (no script or stylesheet from elsewhere)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

blueprint = Blueprint("api_docs", __name__)


@blueprint.get("/api/v1/docs")
def docs():
    spec = current_app.extensions["api"].spec.to_dict()
    operations = []
    for path, methods in sorted(spec.get("paths", {}).items()):
        for method, operation in methods.items():
            if method == "parameters":
                continue
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "tag": (operation.get("tags") or [""])[0],
                    "parameters": operation.get("parameters", []),
                    "body": bool(operation.get("requestBody")),
                    "responses": sorted(operation.get("responses", {})),
                    "public": operation.get("security") == [],
                }
            )
    return render_template("api/docs.html", spec=spec, operations=operations)
