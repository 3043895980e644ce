"""Database wiring: SQLite pragmas, and the request boundary that commits once.

Services only flush; a request that ends well commits once, anything else rolls back,
so a failure never leaves half of a change behind.
"""

from __future__ import annotations

from flask import Flask, Response
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

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


#: The errors a lost connection surfaces as; ``is_connection_lost`` tells which really are.
CONNECTION_ERRORS = (OperationalError, DisconnectionError, InterfaceError)

#: SQLSTATEs of a server that ended the session: class 08 (connection exception), and
#: administrator, crash or startup shutdown (``pg_terminate_backend``, a restart).
_CONNECTION_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def is_connection_lost(error: BaseException) -> bool:
    """Whether ``error`` means the database connection went away (a restart, a failover,
    a terminated backend) rather than something wrong with the request.

    SQLAlchemy marks the disconnects it recognises ``connection_invalidated``; on
    PostgreSQL a psycopg ``OperationalError`` with no SQLSTATE (the socket failed) or a
    connection-level one counts too. A statement timeout, a lock timeout or a deadlock is
    also an ``OperationalError`` but not an outage.
    """
    if isinstance(error, DisconnectionError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is installed with the product
        return False
    if not isinstance(error.orig, psycopg.OperationalError):
        return False
    state = error.orig.sqlstate
    return state is None or state.startswith(_CONNECTION_SQLSTATES)


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
