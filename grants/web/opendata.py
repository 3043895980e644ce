"""Public open-data pages: the programme's grants as 360Giving JSON and IATI XML.

Anyone may read and reuse them (CC BY 4.0), without an account, so aggregators such as
GrantNav or d-portal can fetch them. They change only when a grant moves, so shared
caches may keep them for an hour.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, send_file
from sqlalchemy import func, select

from grants.exports import opendata as exports
from grants.exports import published
from grants.extensions import db
from grants.models.awards import Award

blueprint = Blueprint("opendata", __name__)

CACHE_SECONDS = 3600


def _file(kind: str, mimetype: str) -> Response:
    """The current file of ``kind``, streamed from disk; 404 while no grant is published
    (both standards require one)."""
    path = published.current_file(kind)
    if path is None:
        abort(404)
    response = send_file(path, mimetype=mimetype, conditional=True, etag=True)
    response.headers.pop("Content-Disposition", None)  # read in place, under its own name
    return _cacheable(response)


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
    return _file("360giving", "application/json")


@blueprint.get("/open-data/iati.xml")
def iati():
    return _file("iati", "application/xml")
