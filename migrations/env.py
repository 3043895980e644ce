"""Alembic environment for Flask-Migrate: the app's own engine and metadata.

SQLite needs batch mode to alter tables; the custom UTC timestamp type is written into
revisions as a plain timezone-aware DateTime so revisions never import application code.
"""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from grants.models.search import migration_only

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

db = current_app.extensions["migrate"].db
config.set_main_option(
    "sqlalchemy.url", db.engine.url.render_as_string(hide_password=False).replace("%", "%%")
)


def render_item(type_, obj, autogen_context):
    from grants.orm import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _options(connection=None):
    is_sqlite = db.engine.dialect.name == "sqlite"
    return dict(
        target_metadata=db.metadata,
        render_as_batch=is_sqlite,
        compare_type=True,
        render_item=render_item,
        include_object=lambda _, name, type_, *__: not migration_only(name, type_),
    )


def run_migrations_offline():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"), literal_binds=True, **_options()
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    with db.engine.connect() as connection:
        if db.engine.dialect.name == "sqlite":
            # Batch mode rebuilds a table by copying it; with foreign keys enforced, dropping
            # the old copy fails while other tables point at it. Checked again at the end.
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
            # Rebuilding a table (awards) that another table's trigger updates (the ledger)
            # would fail the trigger check while the table is renamed; the legacy rename
            # leaves triggers alone, and they point at the rebuilt table by name.
            connection.connection.driver_connection.execute("PRAGMA legacy_alter_table=ON")
        context.configure(connection=connection, **_options(connection))
        with context.begin_transaction():
            context.run_migrations()
            if db.engine.dialect.name == "sqlite":
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
        if db.engine.dialect.name == "sqlite":
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
            connection.connection.driver_connection.execute("PRAGMA legacy_alter_table=OFF")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
