"""Eligibility of a call: registration countries, overdue reports, yes/no questions

``calls.registration_countries`` lists where an association must be registered (none:
anywhere); ``calls.no_overdue_reports`` refuses associations with a report overdue on an
earlier grant; ``calls.eligibility_questions`` holds the call's yes/no questions with the
answer that excludes; ``applications.eligibility_answers`` keeps each draft's answers.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 17:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("calls") as batch_op:
        batch_op.add_column(
            sa.Column("registration_countries", sa.JSON(), server_default="[]", nullable=False)
        )
        batch_op.add_column(
            sa.Column("no_overdue_reports", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("eligibility_questions", sa.JSON(), server_default="[]", nullable=False)
        )
    with op.batch_alter_table("applications") as batch_op:
        batch_op.add_column(
            sa.Column("eligibility_answers", sa.JSON(), server_default="{}", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("applications") as batch_op:
        batch_op.drop_column("eligibility_answers")
    with op.batch_alter_table("calls") as batch_op:
        batch_op.drop_column("eligibility_questions")
        batch_op.drop_column("no_overdue_reports")
        batch_op.drop_column("registration_countries")
