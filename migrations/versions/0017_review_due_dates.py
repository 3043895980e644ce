"""reviews.due_at: each review is due a number of days after its review starts

Reviews already in review keep no due date of their own: the reminders fall back on
their call's review deadline. The revision is named for what it does, not numbered, so
that renumbering the file after another revision lands first only means changing
``down_revision``.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 11:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("reviews") as batch_op:
        batch_op.add_column(sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_reviews_due_at"), ["due_at"], unique=False)


def downgrade():
    with op.batch_alter_table("reviews") as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviews_due_at"))
        batch_op.drop_column("due_at")
