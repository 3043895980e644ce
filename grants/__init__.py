"""Diaspora Grants: grant programmes for diaspora associations.

``create_app`` builds the Flask application from the environment (see ``config``), with
an optional mapping of settings that tests use to point it at their own database.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import PROJECT_ROOT, load_settings


def _trust_proxies(app: Flask, count: int) -> None:
    """Read the client's address, scheme, host and prefix from ``count`` proxies' headers.

    With 0 no ``X-Forwarded-*`` header is believed: a client could forge them. Behind a
    load balancer every request comes from the balancer's address, so without this the
    rate limits would count all clients as one.
    """
    if count:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_prefix=count
        )


def create_app(settings: Mapping[str, Any] | None = None) -> Flask:
    config = load_settings(overrides=settings)
    app = Flask(
        __name__,
        instance_path=config["INSTANCE_PATH"],
        template_folder="web/templates",
        static_folder="web/static",
    )
    app.config.update(config)
    _trust_proxies(app, config["TRUSTED_PROXY_COUNT"])
    from grants.routing import RecordId

    app.url_map.converters["int"] = RecordId  # before any route is added
    logging.basicConfig(
        level=getattr(logging, config["LOG_LEVEL"].upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    import grants.models  # noqa: F401  (registers every model)
    import grants.services.disbursements  # noqa: F401  (writes the ledger of money events)
    import grants.services.duplicates  # noqa: F401  (keeps the duplicate check's profiles)
    import grants.services.ranking  # noqa: F401  (restamps a call whose ranking can move)
    import grants.services.search  # noqa: F401  (keeps the search's index with each change)
    import notifications.conversations  # noqa: F401  (tells who is written to)
    import notifications.outbox  # noqa: F401  (listens to every transition)
    import notifications.webhooks  # noqa: F401  (writes the webhooks of every transition)
    from grants import cli, database, i18n, request_input, security
    from grants.extensions import csrf, db, mail, migrate
    from grants.storage import store_from_config
    from grants.web import register_web

    database.init_app(app)
    from grants.services.audit import write_appended

    app.teardown_request(write_appended)
    request_input.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    mail.init_app(app)
    csrf.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    from grants.api import init_api

    init_api(app)  # before the pages: their error handlers answer API paths in JSON
    register_web(app)
    cli.init_app(app)
    security.limit_only_where_declared(app)
    database.commit_first(app)

    from flask import url_for

    app.extensions["document_store"] = store_from_config(
        app.config, url_builder=lambda token: url_for("files.download", token=token)
    )
    return app
