"""webhook_endpoints.previous_secret: a rotated secret keeps signing for a day

Deliveries carry a second signature made with the secret before the last rotation for a
day after it, so a receiver can change its secret without refusing the deliveries in
between.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 09:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("webhook_endpoints") as batch_op:
        batch_op.add_column(sa.Column("previous_secret", sa.String(100), nullable=True))


def downgrade():
    with op.batch_alter_table("webhook_endpoints") as batch_op:
        batch_op.drop_column("previous_secret")
