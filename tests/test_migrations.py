"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from grants.extensions import db
from grants.models.search import migration_only


def test_models_match_the_migrations(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                # The databases' own text indexes of the search, which no model describes.
                "include_object": lambda _, name, type_, *__: not migration_only(name, type_),
            },
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []
