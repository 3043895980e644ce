"""Personal data: copies people download, anonymised accounts, retention of applications

``data_exports`` holds each "download my data" ZIP (one being prepared per person at a
time, by a partial unique index); ``users.anonymised_at`` marks an account whose personal
data was replaced by a pseudonym; ``applications.personal_data_deleted_at`` marks an
application never awarded whose documents and personal data the retention job deleted.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 15:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

PREPARING = sa.text("state = 'preparing'")


def upgrade():
    op.create_table(
        "data_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("storage_key", sa.String(length=300), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "state IN ('preparing', 'ready', 'failed', 'expired')",
            name=op.f("ck_data_exports_state_known"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_data_exports_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_exports")),
    )
    op.create_index(op.f("ix_data_exports_user_id"), "data_exports", ["user_id"], unique=False)
    op.create_index(
        "ix_data_exports_one_preparing",
        "data_exports",
        ["user_id"],
        unique=True,
        postgresql_where=PREPARING,
        sqlite_where=PREPARING,
    )
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("anonymised_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("applications") as batch_op:
        batch_op.add_column(
            sa.Column("personal_data_deleted_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("applications") as batch_op:
        batch_op.drop_column("personal_data_deleted_at")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("anonymised_at")
    op.drop_index(
        "ix_data_exports_one_preparing",
        table_name="data_exports",
        postgresql_where=PREPARING,
        sqlite_where=PREPARING,
    )
    op.drop_index(op.f("ix_data_exports_user_id"), table_name="data_exports")
    op.drop_table("data_exports")
