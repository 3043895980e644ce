"""duplicate_profiles and duplicate_verdicts: the duplicate and double-funding check

``duplicate_profiles`` keeps, per application past its draft, the folded texts the check
compares; on PostgreSQL its ``key`` (the locality, else the title) has a trigram GIN index
(``pg_trgm``, created by 0019) so that a lookup is an index search; on SQLite a plain
index of the same name. ``duplicate_verdicts`` keeps an officer's last verdict on a pair.
Profiles are written by the application with each change; ``flask search rebuild``
fills them for applications that existed before this revision.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 18:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "duplicate_profiles",
        sa.Column("application_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("locality", sa.String(length=200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("partners", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_duplicate_profiles_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("application_id", name=op.f("pk_duplicate_profiles")),
    )
    op.create_index(
        "ix_duplicate_profiles_association_id",
        "duplicate_profiles",
        ["association_id", "application_id"],
        unique=False,
    )
    op.create_index(
        "ix_duplicate_profiles_place", "duplicate_profiles", ["country", "locality"], unique=False
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            "CREATE INDEX ix_duplicate_profiles_key ON duplicate_profiles "
            "USING gin (key gin_trgm_ops)"
        )
    else:
        op.create_index("ix_duplicate_profiles_key", "duplicate_profiles", ["key"], unique=False)
    op.create_table(
        "duplicate_verdicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_id", sa.Integer(), nullable=False),
        sa.Column("second_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=False),
        sa.Column("similarity", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("first_id < second_id", name=op.f("ck_duplicate_verdicts_pair_ordered")),
        sa.CheckConstraint(
            "verdict IN ('duplicate', 'not_duplicate')",
            name=op.f("ck_duplicate_verdicts_verdict_known"),
        ),
        sa.ForeignKeyConstraint(
            ["first_id"],
            ["applications.id"],
            name=op.f("fk_duplicate_verdicts_first_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["second_id"],
            ["applications.id"],
            name=op.f("fk_duplicate_verdicts_second_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_duplicate_verdicts_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duplicate_verdicts")),
        sa.UniqueConstraint(
            "first_id", "second_id", name=op.f("uq_duplicate_verdicts_first_id_second_id")
        ),
    )
    op.create_index(
        "ix_duplicate_verdicts_second_id", "duplicate_verdicts", ["second_id"], unique=False
    )


def downgrade():
    op.drop_table("duplicate_verdicts")
    op.drop_table("duplicate_profiles")
