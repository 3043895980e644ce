"""users.tf_totp_pending_secret: an authenticator set up through the API waits here

The page keeps the secret it is setting up in the session until the first code; an API
client has no session, so the secret waits on the person's row, unused until a code from
it is given with the request for a token.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 09:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("tf_totp_pending_secret", sa.String(255), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("tf_totp_pending_secret")
