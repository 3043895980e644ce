"""The staff search: one box on every page, one results page with filters."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user, login_required

from grants.models.search import KINDS
from grants.reference import country_name
from grants.services import search as service
from grants.services.errors import InvalidInput
from grants.web.translations import locale_name

blueprint = Blueprint("search", __name__)


@blueprint.get("/search")
@login_required
def results():
    service.check_may_search(current_user)
    query = request.args.get("q", "")
    filters = {
        "kind": request.args.get("kind") or None,
        "call_id": request.args.get("call", type=int),
        "state": request.args.get("state") or None,
        "country": request.args.get("country") or None,
    }
    found, errors, status = None, {}, 200
    if query.strip() or any(filters.values()):
        try:
            found = service.search(
                current_user, query, page=request.args.get("page", 1, type=int), **filters
            )
        except InvalidInput as refused:
            errors, status = refused.errors, refused.status
    return render_template(
        "search/results.html",
        found=found,
        errors=errors,
        query=query,
        filters=filters,
        kinds=KINDS,
        states=service.STATES,
        calls=service.searchable_calls(current_user),
        countries=sorted(
            service.countries_searched(), key=lambda code: country_name(code, locale_name())
        ),
    ), status
