"""Bulk actions: an officer's action on many rows of a list, and each row's outcome

``bulk_runs`` holds one action applied at once (the list, the action, the text typed once,
who and when, how many rows were done and refused); ``bulk_items`` what came of each row,
with the reasons it was refused. A large selection is "running" while the scheduler
works through its waiting rows.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 18:00:00

"""

from alembic import op
import sqlalchemy as sa


revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "bulk_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_name", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "list_name IN ('screening', 'assignments', 'grants')",
            name=op.f("ck_bulk_runs_list_known"),
        ),
        sa.CheckConstraint("done >= 0 AND refused >= 0", name=op.f("ck_bulk_runs_counts_positive")),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_bulk_runs_call_id_calls"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_bulk_runs_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_runs")),
    )
    op.create_index(op.f("ix_bulk_runs_actor_id"), "bulk_runs", ["actor_id"], unique=False)
    op.create_index(op.f("ix_bulk_runs_created_at"), "bulk_runs", ["created_at"], unique=False)
    op.create_table(
        "bulk_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("entity_type", sa.String(length=30), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=60), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('waiting', 'done', 'refused')", name=op.f("ck_bulk_items_outcome_known")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["bulk_runs.id"],
            name=op.f("fk_bulk_items_run_id_bulk_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulk_items")),
    )
    op.create_index(op.f("ix_bulk_items_run_id"), "bulk_items", ["run_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_bulk_items_run_id"), table_name="bulk_items")
    op.drop_table("bulk_items")
    op.drop_index(op.f("ix_bulk_runs_created_at"), table_name="bulk_runs")
    op.drop_index(op.f("ix_bulk_runs_actor_id"), table_name="bulk_runs")
    op.drop_table("bulk_runs")
