"""calls.ranking_stamp: a computed ranking is kept until the call's reviews change

Computing a call's ranking reads every submitted score; a stamp that changes with every
review, score, ranked application or criterion of the call lets a computed ranking be
reused until then.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 18:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("calls") as batch_op:
        batch_op.add_column(
            sa.Column("ranking_stamp", sa.String(32), nullable=False, server_default="")
        )
    op.execute("UPDATE calls SET ranking_stamp = 'c' || id")


def downgrade():
    with op.batch_alter_table("calls") as batch_op:
        batch_op.drop_column("ranking_stamp")
