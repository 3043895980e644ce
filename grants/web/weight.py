"""Light pages on slow connections: compressed responses and static files cached for a
year under a content hash.

Pages are gzip-compressed when the browser accepts it (a typical page shrinks to a
fifth); streamed responses (exports, downloads) and small bodies are left alone. Static
URLs carry ``?v=<hash of the file>``, so a browser keeps them for a year and fetches them
again only when they change.
"""

from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface

COMPRESSIBLE = ("text/", "application/json", "application/xml", "image/svg+xml")
MIN_SIZE = 500
YEAR = 365 * 24 * 3600


@lru_cache(maxsize=128)
def _digest(path: str, modified: float) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def static_version(app: Flask, filename: str) -> str | None:
    """The file's hash; looked up on disk once per worker in production, where files
    do not change under a running app (every page links a few of them)."""
    known = app.extensions.setdefault("static_versions", {})
    if filename in known and not app.debug:
        return known[filename]
    path = Path(app.static_folder or "") / filename
    version = _digest(str(path), path.stat().st_mtime) if path.is_file() else None
    known[filename] = version
    return version


def compress(response: Response) -> Response:
    if (
        response.direct_passthrough
        or response.is_streamed
        or response.status_code < 200
        or response.status_code in (204, 304)
        or "Content-Encoding" in response.headers
        or not (response.mimetype or "").startswith(COMPRESSIBLE)
        or "gzip" not in request.headers.get("Accept-Encoding", "")
    ):
        return response
    body = response.get_data()
    if len(body) < MIN_SIZE:
        return response
    response.set_data(gzip.compress(body, compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    response.headers["Content-Length"] = str(len(response.get_data()))
    response.vary.add("Accept-Encoding")
    return response


class StaticWithoutSession(SecureCookieSessionInterface):
    """Static files are the same for everyone: no session cookie is set on them, and so
    no ``Vary: Cookie``, with which a browser's cache would fetch them again each time
    the session cookie changes (every sign-in), whatever their year of caching."""

    def save_session(self, app: Flask, session, response: Response) -> None:
        if request.endpoint == "static":
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = StaticWithoutSession()

    @app.url_defaults
    def _hashed_static(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values and "filename" in values:
            version = static_version(app, values["filename"])
            if version:
                values["v"] = version

    @app.after_request
    def _weigh(response: Response) -> Response:
        if request.endpoint == "static":
            if request.args.get("v"):
                response.cache_control.no_cache = None
                response.cache_control.public = True
                response.cache_control.max_age = YEAR
                response.cache_control.immutable = True
            if response.status_code == 200 and (response.mimetype or "").startswith(COMPRESSIBLE):
                response.direct_passthrough = False  # our few small text files: read them
                response.set_data(response.get_data())
            return compress(response)
        return compress(response)
