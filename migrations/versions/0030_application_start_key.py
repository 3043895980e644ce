"""applications.start_key: the call page's "Start an application" carries a one-time key,
so that a second tap or a reload of the answer on a slow phone opens the draft the first
one started instead of starting another

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-08 00:45:00

"""

from alembic import op
import sqlalchemy as sa


revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("start_key", sa.String(length=32), nullable=True))
    op.create_index("ix_applications_start_key", "applications", ["start_key"], unique=True)


def downgrade():
    op.drop_index("ix_applications_start_key", table_name="applications")
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("start_key")
