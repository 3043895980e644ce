"""Light pages on slow connections: compressed responses, minified static files cached
for a year under a content hash, and a first visit that waits for no file.

Pages are gzip-compressed when the browser accepts it (a typical page shrinks to a
fifth); streamed responses (exports, downloads) and small bodies are left alone. Static
URLs carry ``?v=<hash of the file>``, so a browser keeps them for a year and fetches them
again only when they change. The stylesheet and scripts are served minified (rcssmin,
rjsmin) and compressed once per version, not per request.

A first visit (the account pages, for someone not signed in) would otherwise wait for
the whole stylesheet: at 20 kbit/s that is two seconds more. Those pages carry inline
the part of ``app.css`` above its "first-visit end" mark, allowed by its hash in the
Content-Security-Policy, and ask the browser to fetch the stylesheet and the script in
the background (``rel=prefetch``) while the person types, so the next page finds them
cached.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

import rcssmin
import rjsmin
from flask import Flask, Response, current_app, g, request
from flask.sessions import SecureCookieSessionInterface
from markupsafe import Markup

from grants.security import CONTENT_SECURITY_POLICY

COMPRESSIBLE = ("text/", "application/json", "application/xml", "image/svg+xml")
MIN_SIZE = 500
YEAR = 365 * 24 * 3600
MINIFIERS = {".css": rcssmin.cssmin, ".js": rjsmin.jsmin}
FIRST_VISIT_END = "/* ---- first-visit end ----"


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


@lru_cache(maxsize=32)
def _served(path: str, modified: float) -> tuple[bytes, bytes]:
    """A static file as served: minified when it is a stylesheet or a script, and its
    gzip-compressed form."""
    text = Path(path).read_bytes()
    minify = MINIFIERS.get(Path(path).suffix)
    if minify:
        text = minify(text.decode()).encode()
    return text, gzip.compress(text, compresslevel=9, mtime=0)


def _static_file(app: Flask, filename: str) -> tuple[bytes, bytes] | None:
    path = Path(app.static_folder or "") / filename
    if not path.is_file():
        return None
    return _served(str(path), path.stat().st_mtime)


@lru_cache(maxsize=8)
def _first_visit_part(path: str, modified: float) -> tuple[str, str]:
    css = Path(path).read_text()
    if FIRST_VISIT_END in css:
        css = css[: css.index(FIRST_VISIT_END)]
    css = rcssmin.cssmin(css)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return css, f"'sha256-{digest}'"


def first_visit_style() -> Markup:
    """The stylesheet's first-visit part, as an inline ``<style>`` the page's
    Content-Security-Policy allows by its hash."""
    path = Path(current_app.static_folder or "") / "app.css"
    css, source = _first_visit_part(str(path), path.stat().st_mtime)
    g.inline_style_source = source
    return Markup(f"<style>{css}</style>")


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

    def get_signing_serializer(self, app: Flask):
        """Flask builds the cookie's serializer (and test-serializes with it) twice a
        request; it depends only on the keys, so it is built once for them."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializers = self.__dict__.setdefault("_serializers", {})
        if keys not in serializers:
            serializers.clear()  # the keys changed: the old ones sign nothing more
            serializers[keys] = super().get_signing_serializer(app)
        return serializers[keys]


def init_app(app: Flask) -> None:
    if type(app.session_interface) is SecureCookieSessionInterface:
        app.session_interface = StaticWithoutSession()
    app.jinja_env.globals["first_visit_style"] = first_visit_style

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
            served = None
            if response.status_code == 200 and (response.mimetype or "").startswith(COMPRESSIBLE):
                served = _static_file(app, request.view_args.get("filename", ""))
            if served:
                plain, packed = served
                response.direct_passthrough = False  # our few small text files: from memory
                if "gzip" in request.headers.get("Accept-Encoding", ""):
                    response.set_data(packed)
                    response.headers["Content-Encoding"] = "gzip"
                else:
                    response.set_data(plain)
                response.vary.add("Accept-Encoding")
                return response
            return compress(response)
        source = g.pop("inline_style_source", None)
        if source:
            response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
                "style-src 'self'", f"style-src 'self' {source}"
            )
        return compress(response)
