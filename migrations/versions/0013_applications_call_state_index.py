"""applications (call_id, state): a call's lists count their rows from the index alone

The screening list counts a call's applications that are not drafts; with an index on
call_id alone PostgreSQL read every row of the call from the table to check its state.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 07:10:00

"""
from alembic import op


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_applications_call_id_state", "applications", ["call_id", "state"])
    op.drop_index("ix_applications_call_id", table_name="applications")


def downgrade():
    op.create_index("ix_applications_call_id", "applications", ["call_id"])
    op.drop_index("ix_applications_call_id_state", table_name="applications")
