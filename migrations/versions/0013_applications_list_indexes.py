"""applications: indexes the lists read in order, replacing single-column ones

A call's lists count its applications that are not drafts: with an index on call_id
alone PostgreSQL read every row of the call to check its state; (call_id, state) answers
from the index. An association's home page and timeline read its newest applications:
(association_id, created_at) gives them in order without sorting all of them.

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
    op.create_index(
        "ix_applications_association_id_created_at",
        "applications",
        ["association_id", "created_at"],
    )
    op.drop_index("ix_applications_association_id", table_name="applications")


def downgrade():
    op.create_index("ix_applications_association_id", "applications", ["association_id"])
    op.drop_index("ix_applications_association_id_created_at", table_name="applications")
    op.create_index("ix_applications_call_id", "applications", ["call_id"])
    op.drop_index("ix_applications_call_id_state", table_name="applications")
