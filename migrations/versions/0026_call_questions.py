"""Questions of each call's own, their versions, and the applications' answers

``question_sets`` are the versions of a call's questions, in ``question_sections``;
``answers`` hold an application's answer to each question of the version it answers
(``applications.question_set_id``); ``criteria.question_keys`` names the questions a
criterion scores.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 18:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

KINDS = (
    "kind IN ('short_text', 'long_text', 'whole_number', 'amount', 'date', "
    "'one_choice', 'several_choices', 'yes_no', 'country', 'file')"
)


def upgrade():
    op.create_table(
        "question_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_question_sets_call_id_calls"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_sets")),
        sa.UniqueConstraint("call_id", "number", name=op.f("uq_question_sets_call_id_number")),
    )
    op.create_index(op.f("ix_question_sets_call_id"), "question_sets", ["call_id"], unique=False)
    op.create_table(
        "question_sections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_set_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_set_id"],
            ["question_sets.id"],
            name=op.f("fk_question_sections_question_set_id_question_sets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_sections")),
    )
    op.create_index(
        op.f("ix_question_sections_question_set_id"),
        "question_sections",
        ["question_set_id"],
        unique=False,
    )
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("label", sa.JSON(), nullable=False),
        sa.Column("help", sa.JSON(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("identifying", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("max_words", sa.Integer(), nullable=True),
        sa.Column("minimum", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("maximum", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("condition_key", sa.String(length=32), nullable=True),
        sa.Column("condition_value", sa.String(length=100), nullable=True),
        sa.CheckConstraint(KINDS, name=op.f("ck_questions_kind_known")),
        sa.CheckConstraint(
            "max_words IS NULL OR max_words > 0", name=op.f("ck_questions_max_words_positive")
        ),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["question_sections.id"],
            name=op.f("fk_questions_section_id_question_sections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questions")),
    )
    op.create_index(op.f("ix_questions_section_id"), "questions", ["section_id"], unique=False)
    op.create_table(
        "answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["applications.id"],
            name=op.f("fk_answers_application_id_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name=op.f("fk_answers_question_id_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answers")),
        sa.UniqueConstraint(
            "application_id", "question_id", name=op.f("uq_answers_application_id_question_id")
        ),
    )
    op.create_index(op.f("ix_answers_application_id"), "answers", ["application_id"], unique=False)
    op.create_index(op.f("ix_answers_question_id"), "answers", ["question_id"], unique=False)
    with op.batch_alter_table("applications") as batch_op:
        batch_op.add_column(sa.Column("question_set_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_applications_question_set_id_question_sets"),
            "question_sets",
            ["question_set_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("criteria") as batch_op:
        batch_op.add_column(
            sa.Column("question_keys", sa.JSON(), server_default="[]", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("criteria") as batch_op:
        batch_op.drop_column("question_keys")
    with op.batch_alter_table("applications") as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_applications_question_set_id_question_sets"), type_="foreignkey"
        )
        batch_op.drop_column("question_set_id")
    op.drop_index(op.f("ix_answers_question_id"), table_name="answers")
    op.drop_index(op.f("ix_answers_application_id"), table_name="answers")
    op.drop_table("answers")
    op.drop_index(op.f("ix_questions_section_id"), table_name="questions")
    op.drop_table("questions")
    op.drop_index(op.f("ix_question_sections_question_set_id"), table_name="question_sections")
    op.drop_table("question_sections")
    op.drop_index(op.f("ix_question_sets_call_id"), table_name="question_sets")
    op.drop_table("question_sets")
