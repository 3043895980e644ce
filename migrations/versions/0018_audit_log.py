"""audit_rows: the audit trail of every sensitive change and audited read

Append-only like the history: a trigger refuses UPDATE and DELETE, on PostgreSQL and
SQLite.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 14:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_email", sa.String(length=320), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("record_type", sa.String(length=30), nullable=True),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("remote_address", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["users.id"],
            name=op.f("fk_audit_rows_actor_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_rows")),
    )
    with op.batch_alter_table("audit_rows") as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_rows_at"), ["at"], unique=False)
        batch_op.create_index("ix_audit_rows_actor", ["actor_id", "id"], unique=False)
        batch_op.create_index("ix_audit_rows_kind", ["kind", "id"], unique=False)
        batch_op.create_index(
            "ix_audit_rows_record", ["record_type", "record_id", "id"], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(AUDIT_GUARD)
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_rows_append_only_{action.lower()} BEFORE {action} "
                "ON audit_rows BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
            )


AUDIT_GUARD = """
CREATE FUNCTION audit_rows_are_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_rows_append_only BEFORE UPDATE OR DELETE ON audit_rows
    FOR EACH ROW EXECUTE FUNCTION audit_rows_are_append_only();
"""


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_rows_append_only ON audit_rows")
        op.execute("DROP FUNCTION IF EXISTS audit_rows_are_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_rows_append_only_update")
        op.execute("DROP TRIGGER IF EXISTS audit_rows_append_only_delete")
    with op.batch_alter_table("audit_rows") as batch_op:
        batch_op.drop_index("ix_audit_rows_record")
        batch_op.drop_index("ix_audit_rows_kind")
        batch_op.drop_index("ix_audit_rows_actor")
        batch_op.drop_index(batch_op.f("ix_audit_rows_at"))
    op.drop_table("audit_rows")
