"""Database wiring: SQLite pragmas and transaction modes, and the request boundary that
commits once.

Services only flush; a request that ends well commits once, anything else rolls back,
so a failure never leaves half of a change behind.

On SQLite (the embedded default) one writer at a time holds the database's write lock.
The journal is a write-ahead log, so readers never wait for the writer. A transaction
that will write begins ``IMMEDIATE``: it takes the write lock when it begins, waiting
for it up to ``BUSY_TIMEOUT_MS``. A transaction begun ``DEFERRED`` that reads first and
writes later would instead fail at once with "database is locked" whenever another
writer committed in between (SQLite cannot upgrade a stale read snapshot, and the busy
timeout does not apply). Which transactions write is decided when they begin: those of
a request that is not a GET, HEAD or OPTIONS (or of the few GET endpoints that write),
those opened inside ``write_intent()`` (the scheduler's jobs), and those of a command of
the flask CLI (``users create`` while ``make run`` serves). A request begun as a
reader that finds it must write hands over to a writer (``writes_from_now``): the login,
which begins as a reader so that the write lock is not held while a password hash is
checked (about a second, by design), and an API read recording a token's use. PostgreSQL
is not affected by any of this.

On PostgreSQL the same decision spares the readers their transaction: their SELECTs go
without BEGIN and COMMIT until a statement that is not a plain read begins one
(``_read_without_transaction``).
"""

from __future__ import annotations

import select
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import click
from flask import Flask, Response, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    InvalidatePoolError,
    OperationalError,
)

from grants.extensions import db

#: How long a writer waits for another writer to commit before giving up.
BUSY_TIMEOUT_MS = 30_000
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: GET endpoints that write all the same: following a confirmation link confirms the
#: address and signs the person in; an award letter opened the first time is signed and
#: kept (``award_letters.issue``).
WRITING_GET_ENDPOINTS = frozenset({"security.confirm_email", "awards.letter", "api.award_letter"})
#: POST endpoints that read slowly before they write: readers until ``writes_from_now``.
READ_FIRST_ENDPOINTS = frozenset({"security.login"})

_write_intent: ContextVar[bool | None] = ContextVar("write_intent", default=None)


@contextmanager
def write_intent(writes: bool = True) -> Iterator[None]:
    """Transactions begun inside this block begin as writers (``writes``) or readers,
    whatever the request; outside a request they are readers unless told."""
    token = _write_intent.set(writes)
    try:
        yield
    finally:
        _write_intent.reset(token)


def begins_writing() -> bool:
    """Whether a transaction beginning now should take the write lock at once."""
    intent = _write_intent.get()
    if intent is not None:
        return intent
    if has_request_context():
        if g.get("writes_from_now") or request.endpoint in WRITING_GET_ENDPOINTS:
            return True
        return request.method not in READ_METHODS and request.endpoint not in READ_FIRST_ENDPOINTS
    # A command an operator runs (flask users create, demo seed…), in its own thread.
    return click.get_current_context(silent=True) is not None


def writes_from_now() -> None:
    """This request, begun as a reader, is about to write: on SQLite, end its reading
    transaction and begin the next ones as a writer (nothing changes on PostgreSQL).

    Rolls back on SQLite: what the reader loaded is read again, under the write lock, by
    the steps that write; a change it left pending must be made again by its caller."""
    if g.get("writes_from_now"):
        return
    g.writes_from_now = True
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.rollback()


def _configure_sqlite(engine: Engine) -> None:
    """Make pysqlite honour BEGIN and SAVEPOINT, enforce foreign keys, keep a write-ahead
    log and begin writing transactions IMMEDIATE."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - driver hook
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Persistent in the file; an in-memory database keeps its own journal.
        cursor.execute("PRAGMA journal_mode=WAL")
        # Safe with WAL: a power cut may lose the last commits, never corrupt the file.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # pragma: no cover - driver hook
        connection.exec_driver_sql("BEGIN IMMEDIATE" if begins_writing() else "BEGIN")


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


def _server_spoke(dbapi_connection) -> bool:
    """Whether the server sent something to an idle connection: nothing is due to one
    but the notice of its end (a restart, a failover, a terminated backend), so
    anything waiting there is worth a ping. Asks the operating system, not the server."""
    if dbapi_connection.closed or not hasattr(select, "poll"):
        return True  # without poll (Windows) every checkout pings, as the pre-ping did
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def _ping_when_the_server_spoke(engine: Engine) -> None:
    """Check a pooled PostgreSQL connection before lending it, as the pool's pre-ping
    does, but ping the server only when the connection has heard from it.

    A server that ends a session tells the client (the backend sends its reason and
    closes the socket): the pre-ping's round trip on every checkout found out the same,
    at the cost of a statement on every request. A connection found dead makes the pool
    drop all its connections of that age, as a failed pre-ping does; a server that
    vanished without a word is found by the request's first statement (503, retried)."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_connection, _record, _proxy) -> None:
        if not _server_spoke(dbapi_connection):
            return
        try:
            if not dbapi_connection.closed and dialect.do_ping(dbapi_connection):
                return
        except dialect.loaded_dbapi.Error:
            pass
        raise InvalidatePoolError()


#: What makes a SELECT lock rows: it needs the transaction that holds the locks.
_LOCKING_CLAUSES = ("FOR UPDATE", "FOR NO KEY UPDATE", "FOR SHARE", "FOR KEY SHARE")


def _plain_read(query) -> bool:
    """Whether SQL only reads and locks nothing: a SELECT (not a WITH, which may hide a
    change) without a locking clause. Anything else is not, which only costs a BEGIN."""
    if not isinstance(query, str) or not query.startswith("SELECT"):
        return False
    return "FOR " not in query or not any(clause in query for clause in _LOCKING_CLAUSES)


def _begin_before(connection) -> None:
    """The next statement begins a transaction (psycopg sends BEGIN before it)."""
    if connection.reads_alone:
        connection.reads_alone = False
        connection.autocommit = False


def _cursor_classes():
    import psycopg

    class ReadingCursor(psycopg.Cursor):
        def execute(self, query, params=None, **kwargs):
            if self.connection.reads_alone and not _plain_read(query):
                _begin_before(self.connection)
            return super().execute(query, params, **kwargs)

        def executemany(self, query, params_seq, **kwargs):
            _begin_before(self.connection)
            return super().executemany(query, params_seq, **kwargs)

        def copy(self, statement, *args, **kwargs):
            _begin_before(self.connection)
            return super().copy(statement, *args, **kwargs)

        def stream(self, query, *args, **kwargs):
            _begin_before(self.connection)
            return super().stream(query, *args, **kwargs)

    class ReadingServerCursor(psycopg.ServerCursor):
        """A streamed result is read through a cursor that lives in a transaction."""

        def execute(self, query, params=None, **kwargs):
            _begin_before(self.connection)
            return super().execute(query, params, **kwargs)

    return ReadingCursor, ReadingServerCursor


def _read_without_transaction(engine: Engine) -> None:
    """A request that begins as a reader (a GET, HEAD or OPTIONS, see ``begins_writing``)
    sends its SELECTs on their own, without BEGIN and COMMIT: two round trips fewer on
    every page, and the same answers, since under READ COMMITTED each statement of a
    transaction sees what was committed before it began anyway.

    The first statement that is not a plain read (a change, a lock, ``SET LOCAL``, a
    savepoint, a streamed result) begins a transaction before it is sent, and everything
    after it in the request runs in that transaction, committed or rolled back as any
    other. Only what is read before it differs from a transaction: a read takes no lock
    that lasts, and SQL ``now()`` is the statement's time rather than the transaction's.
    A function with side effects called from a SELECT (an advisory transaction lock,
    ``set_config`` local to the transaction) needs a transaction begun for it by a
    statement that is not a plain read.

    Watched in psycopg's cursors rather than with SQLAlchemy's statement events, which
    would slow every statement of every request down more than the round trips cost."""
    from psycopg.pq import TransactionStatus

    cursor, server_cursor = _cursor_classes()

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record) -> None:
        dbapi_connection.reads_alone = False
        dbapi_connection.cursor_factory = cursor
        dbapi_connection.server_cursor_factory = server_cursor

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, _record, _proxy) -> None:
        if (
            has_request_context()
            and not begins_writing()
            and not dbapi_connection.autocommit
            and dbapi_connection.info.transaction_status == TransactionStatus.IDLE
        ):
            dbapi_connection.autocommit = True
            dbapi_connection.reads_alone = True

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_connection, _record) -> None:
        # None or closed: the connection was found dead (the pool opens another).
        if dbapi_connection is None or dbapi_connection.closed:
            return
        if dbapi_connection.reads_alone:
            dbapi_connection.reads_alone = False
            dbapi_connection.autocommit = False


def init_app(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault(
            "connect_args", {"check_same_thread": False}
        )
    else:
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
    db.init_app(app)
    with app.app_context():
        if uri.startswith("sqlite"):
            _configure_sqlite(db.engine)
        else:
            if not app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("pool_pre_ping"):
                _ping_when_the_server_spoke(db.engine)
            if db.engine.dialect.driver == "psycopg":
                _read_without_transaction(db.engine)

    @app.after_request
    def _commit_or_rollback(response: Response) -> Response:
        if response.status_code >= 400:
            db.session.rollback()
            return response
        try:
            db.session.commit()
        except Exception as error:
            # The view's answer is void: nothing was stored. The person gets what the
            # error handlers give for this error (409 for a stale write, 503 for a lost
            # connection), not a bare 500 from outside them.
            db.session.rollback()
            return app.make_response(app.handle_user_exception(error))
        return response

    app.extensions["commit_hook"] = _commit_or_rollback


def commit_first(app: Flask) -> None:
    """Make the commit the first of the application's after-request hooks to run (they
    run last registered first), so the hooks that add headers also dress an answer that
    replaced a failed commit. Called once every extension has registered its own."""
    hook = app.extensions["commit_hook"]
    hooks = app.after_request_funcs[None]
    hooks.remove(hook)
    hooks.append(hook)
