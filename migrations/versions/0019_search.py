"""search_entries: the staff search's index, with the databases' own text indexes

PostgreSQL: a generated ``tsvector`` of the folded text with a GIN index, and a trigram
index (``pg_trgm``) for parts of words and references. SQLite: an FTS5 table over the
folded text, kept by triggers. The entries are written by the application in the same
transaction as their records; ``flask search rebuild`` fills them for records that
existed before this revision.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 15:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "search_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=400), nullable=False),
        sa.Column("detail", sa.String(length=400), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("folded", sa.Text(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=30), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_entries")),
        sa.UniqueConstraint("kind", "record_id", name="uq_search_entries_record"),
    )
    op.create_index("ix_search_entries_call", "search_entries", ["call_id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "ALTER TABLE search_entries ADD COLUMN search_vector tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple', folded)) STORED"
        )
        op.execute(
            "CREATE INDEX ix_search_entries_vector ON search_entries USING gin (search_vector)"
        )
        op.execute(
            "CREATE INDEX ix_search_entries_trigram ON search_entries "
            "USING gin (folded gin_trgm_ops)"
        )
    else:
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5("
            "folded, content='search_entries', content_rowid='id', tokenize='unicode61')"
        )
        op.execute(
            "CREATE TRIGGER search_fts_insert AFTER INSERT ON search_entries BEGIN "
            "INSERT INTO search_fts(rowid, folded) VALUES (new.id, new.folded); END"
        )
        op.execute(
            "CREATE TRIGGER search_fts_delete AFTER DELETE ON search_entries BEGIN "
            "INSERT INTO search_fts(search_fts, rowid, folded) "
            "VALUES ('delete', old.id, old.folded); END"
        )
        op.execute(
            "CREATE TRIGGER search_fts_update AFTER UPDATE ON search_entries BEGIN "
            "INSERT INTO search_fts(search_fts, rowid, folded) "
            "VALUES ('delete', old.id, old.folded); "
            "INSERT INTO search_fts(rowid, folded) VALUES (new.id, new.folded); END"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_table("search_entries")
    else:
        for action in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS search_fts_{action}")
        op.execute("DROP TABLE IF EXISTS search_fts")
        op.drop_table("search_entries")
