"""Public open-data pages: the programme's grants as 360Giving JSON and IATI XML.

Anyone may read and reuse them (CC BY 4.0), without an account, so aggregators such as
GrantNav or d-portal can fetch them. They change only when a grant moves, so shared
caches may keep them for an hour.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, current_app, render_template
from sqlalchemy import func, select

from grants.exports import opendata as exports
from grants.extensions import db
from grants.models.awards import Award
from grants.orm import utcnow

blueprint = Blueprint("opendata", __name__)

CACHE_SECONDS = 3600


def _prefix() -> str:
    return current_app.config.get("OPEN_DATA_PREFIX", "diaspora-grants")


def _funder_id() -> str:
    return current_app.config.get("OPEN_DATA_FUNDER_ID", "XI-IATI-DIASPORA-GRANTS")


def _awards() -> list[Award]:
    """The published awards; 404 when there are none, as both standards require one."""
    awards = list(db.session.scalars(exports.published_awards()))
    if not awards:
        abort(404)
    return awards


def _cacheable(response: Response) -> Response:
    response.cache_control.public = True
    response.cache_control.max_age = CACHE_SECONDS
    return response


@blueprint.get("/open-data/")
def index():
    count = db.session.scalar(
        select(func.count(Award.id)).where(Award.state.in_(exports.PUBLISHED_STATES))
    )
    return render_template(
        "opendata/index.html",
        count=count,
        programme=current_app.config["PROGRAMME_NAME"],
        licence_url=exports.LICENCE_URL,
    )


@blueprint.get("/open-data/360giving.json")
def three_sixty_giving():
    package = exports.three_sixty_giving(
        _awards(),
        prefix=_prefix(),
        funder_id=_funder_id(),
        funder_name=current_app.config["PROGRAMME_NAME"],
        published=utcnow(),
    )
    body = json.dumps(package, ensure_ascii=False, separators=(",", ":"))
    return _cacheable(Response(body, mimetype="application/json"))


@blueprint.get("/open-data/iati.xml")
def iati():
    document = exports.iati_activities(
        _awards(),
        reporting_org_ref=_funder_id(),
        reporting_org_name=current_app.config["PROGRAMME_NAME"],
        reporting_org_type=current_app.config.get("OPEN_DATA_ORG_TYPE", exports.REPORTING_ORG_TYPE),
        prefix=_prefix(),
        generated=utcnow(),
    )
    return _cacheable(Response(document, mimetype="application/xml"))
