"""application decided_at, SDG targets as JSONB on PostgreSQL

The programme dashboard measures the time from submission to decision and counts SDG
targets over every application; reading the first decision from the history and parsing
JSON text on each row made it too slow at 100,000 applications. Existing decisions are
copied from the history (the first award, waiting list or rejection).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 12:30:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("applications") as batch_op:
        batch_op.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        """
        UPDATE applications SET decided_at = (
            SELECT min(history.created_at) FROM history
            WHERE history.entity_type = 'application'
              AND history.entity_id = applications.id
              AND history.transition IN ('award', 'waitlist', 'reject')
        )
        WHERE state IN ('awarded', 'waitlisted', 'rejected')
        """
    )
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "applications",
            "sdg_targets",
            type_=postgresql.JSONB(),
            postgresql_using="sdg_targets::jsonb",
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "applications", "sdg_targets", type_=sa.JSON(), postgresql_using="sdg_targets::json"
        )
    with op.batch_alter_table("applications") as batch_op:
        batch_op.drop_column("decided_at")
