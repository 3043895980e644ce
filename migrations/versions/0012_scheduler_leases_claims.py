"""scheduler leases; outbox claims tied to the leader; attempts stamped before sending

A claimed email used to be hidden for a fixed ten minutes, so a leader that died left
its mail waiting that long, and an email handed to SMTP just before the crash went out
again with nothing to tie the two together. A claim now names the leader's lease, which
the next leader ends at once; an attempt is stamped before the email leaves.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "scheduler_leases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduler_leases")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_notifications_claimed_by_scheduler_leases"),
            "scheduler_leases",
            ["claimed_by"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(
            batch_op.f("ix_notifications_claimed_by"), ["claimed_by"], unique=False
        )


def downgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_claimed_by"))
        batch_op.drop_constraint(
            batch_op.f("fk_notifications_claimed_by_scheduler_leases"), type_="foreignkey"
        )
        batch_op.drop_column("attempted_at")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("claimed_by")
    op.drop_table("scheduler_leases")
