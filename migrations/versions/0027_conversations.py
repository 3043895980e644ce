"""Conversations: threads on applications and grants, their messages, notes and requests
for information, each person's read marker, and documents attached to a message

``threads`` has one row per application or grant that has been written about;
``messages`` holds the messages, internal notes and requests for information;
``thread_reads`` how far each person has read each thread. ``documents.message_id`` makes
a message a fourth kind of document owner, so the one-owner check counts it too.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 18:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

OWNERS_BEFORE = (
    "(CASE WHEN application_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN association_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN report_id IS NULL THEN 0 ELSE 1 END) = 1"
)
OWNERS_AFTER = (
    "(CASE WHEN application_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN association_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN report_id IS NULL THEN 0 ELSE 1 END)"
    " + (CASE WHEN message_id IS NULL THEN 0 ELSE 1 END) = 1"
)


def upgrade():
    op.create_table(
        "threads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("award_id", sa.Integer(), nullable=True),
        sa.Column("association_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_id", sa.Integer(), nullable=True),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(CASE WHEN application_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN award_id IS NULL THEN 0 ELSE 1 END) = 1",
            name=op.f("ck_threads_one_subject"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_threads_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["association_id"],
            ["associations.id"],
            name=op.f("fk_threads_association_id_associations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["award_id"], ["awards.id"], name=op.f("fk_threads_award_id_awards"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_threads")),
        sa.UniqueConstraint("application_id", name=op.f("uq_threads_application_id")),
        sa.UniqueConstraint("award_id", name=op.f("uq_threads_award_id")),
    )
    op.create_index(op.f("ix_threads_association_id"), "threads", ["association_id"])
    op.create_index("ix_threads_last_message", "threads", ["last_message_id"])
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "shared_with_evaluators", sa.Boolean(), server_default=sa.false(), nullable=False
        ),
        sa.Column("in_answer_to_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('message', 'note', 'request')", name=op.f("ck_messages_kind_known")
        ),
        sa.CheckConstraint(
            "kind = 'request' OR due_on IS NULL", name=op.f("ck_messages_due_only_on_requests")
        ),
        sa.CheckConstraint(
            "kind = 'request' OR closed_at IS NULL",
            name=op.f("ck_messages_closed_only_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_messages_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_id"],
            ["users.id"],
            name=op.f("fk_messages_closed_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["in_answer_to_id"],
            ["messages.id"],
            name=op.f("fk_messages_in_answer_to_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["threads.id"],
            name=op.f("fk_messages_thread_id_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index("ix_messages_thread", "messages", ["thread_id", "id"])
    op.create_index(op.f("ix_messages_in_answer_to_id"), "messages", ["in_answer_to_id"])
    op.create_table(
        "thread_reads",
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("last_read_id", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["threads.id"],
            name=op.f("fk_thread_reads_thread_id_threads"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_thread_reads_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("thread_id", "user_id", name=op.f("pk_thread_reads")),
    )
    op.create_index(op.f("ix_thread_reads_user_id"), "thread_reads", ["user_id"])
    with op.batch_alter_table("documents") as batch_op:
        batch_op.add_column(sa.Column("message_id", sa.Integer(), nullable=True))
        batch_op.create_index(op.f("ix_documents_message_id"), ["message_id"])
        batch_op.create_foreign_key(
            op.f("fk_documents_message_id_messages"),
            "messages",
            ["message_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.drop_constraint(op.f("ck_documents_one_owner"), type_="check")
        batch_op.create_check_constraint(op.f("ck_documents_one_owner"), sa.text(OWNERS_AFTER))


def downgrade():
    op.execute("DELETE FROM documents WHERE message_id IS NOT NULL")
    with op.batch_alter_table("documents") as batch_op:
        batch_op.drop_constraint(op.f("ck_documents_one_owner"), type_="check")
        batch_op.create_check_constraint(op.f("ck_documents_one_owner"), sa.text(OWNERS_BEFORE))
        batch_op.drop_constraint(op.f("fk_documents_message_id_messages"), type_="foreignkey")
        batch_op.drop_index(op.f("ix_documents_message_id"))
        batch_op.drop_column("message_id")
    op.drop_index(op.f("ix_thread_reads_user_id"), table_name="thread_reads")
    op.drop_table("thread_reads")
    op.drop_index(op.f("ix_messages_in_answer_to_id"), table_name="messages")
    op.drop_index("ix_messages_thread", table_name="messages")
    op.drop_table("messages")
    op.drop_index("ix_threads_last_message", table_name="threads")
    op.drop_index(op.f("ix_threads_association_id"), table_name="threads")
    op.drop_table("threads")
