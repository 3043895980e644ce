"""Database wiring: SQLite pragmas, and the request boundary that commits once.

Services only flush; a request that ends well commits once, anything else rolls back,
so a failure never leaves half of a change behind.
"""

from __future__ import annotations

from flask import Flask, Response
from sqlalchemy import event
from sqlalchemy.engine import Engine

from grants.extensions import db


def _configure_sqlite(engine: Engine) -> None:
    """Make pysqlite honour BEGIN and SAVEPOINT, and enforce foreign keys."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - driver hook
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # pragma: no cover - driver hook
        connection.exec_driver_sql("BEGIN")


def init_app(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault(
            "connect_args", {"check_same_thread": False}
        )
    else:
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    db.init_app(app)
    with app.app_context():
        if uri.startswith("sqlite"):
            _configure_sqlite(db.engine)

    @app.after_request
    def _commit_or_rollback(response: Response) -> Response:
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response
