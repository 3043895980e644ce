"""Sealed award letters and recorded acceptance

``issued_letters`` keeps each award letter as signed (one per award and language), with
its SHA-256 and the certificate that signed it; ``awards`` records where an acceptance
came from (address, user agent) and the SHA-256 of the letter accepted.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 18:00:00

"""

from alembic import op
import sqlalchemy as sa


revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "issued_letters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("award_id", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("certificate_sha256", sa.String(length=64), nullable=False),
        sa.Column("certificate_holder", sa.String(length=300), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["award_id"],
            ["awards.id"],
            name=op.f("fk_issued_letters_award_id_awards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issued_letters")),
        sa.UniqueConstraint("award_id", "locale", name=op.f("uq_issued_letters_award_id_locale")),
        sa.UniqueConstraint("sha256", name=op.f("uq_issued_letters_sha256")),
    )
    op.create_index(
        op.f("ix_issued_letters_award_id"), "issued_letters", ["award_id"], unique=False
    )
    op.create_index(
        op.f("ix_issued_letters_certificate_sha256"),
        "issued_letters",
        ["certificate_sha256"],
        unique=False,
    )
    with op.batch_alter_table("awards") as batch_op:
        batch_op.add_column(
            sa.Column("acceptance_address", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column(
                "acceptance_user_agent", sa.String(length=300), nullable=False, server_default=""
            )
        )
        batch_op.add_column(
            sa.Column(
                "accepted_letter_sha256", sa.String(length=64), nullable=False, server_default=""
            )
        )


def downgrade():
    with op.batch_alter_table("awards") as batch_op:
        batch_op.drop_column("accepted_letter_sha256")
        batch_op.drop_column("acceptance_user_agent")
        batch_op.drop_column("acceptance_address")
    op.drop_index(op.f("ix_issued_letters_certificate_sha256"), table_name="issued_letters")
    op.drop_index(op.f("ix_issued_letters_award_id"), table_name="issued_letters")
    op.drop_table("issued_letters")
