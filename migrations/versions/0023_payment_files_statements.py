"""Payment files and statements: the programme's debtor accounts, the pain.001 files sent
to the bank with each transfer they hold, and the camt.053 statements with their lines

A tranche is in at most one payment file that is not cancelled, by a partial unique index
on the file's items. ``ledger_entries.bank_exchange_rate`` records the rate the bank
applied to a payment beside the award's locked rate; it is added with a plain ALTER TABLE
(no batch) so that SQLite keeps the ledger's triggers.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 18:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

ACTIVE = sa.text("active")


def _users_fk(table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.id"], name=op.f(f"fk_{table}_{column}_users"), ondelete="SET NULL"
    )


def upgrade():
    op.create_table(
        "debtor_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=70), nullable=False),
        sa.Column("iban", sa.String(length=40), nullable=False),
        sa.Column("bic", sa.String(length=11), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _users_fk("debtor_accounts", "created_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_debtor_accounts")),
        sa.UniqueConstraint("iban", "currency", name=op.f("uq_debtor_accounts_iban_currency")),
    )
    op.create_table(
        "payment_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debtor_account_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=35), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("execution_date", sa.Date(), nullable=False),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_by_id", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "state IN ('generated', 'cancelled')", name=op.f("ck_payment_files_state_known")
        ),
        sa.CheckConstraint("total > 0 AND count > 0", name=op.f("ck_payment_files_not_empty")),
        sa.ForeignKeyConstraint(
            ["debtor_account_id"],
            ["debtor_accounts.id"],
            name=op.f("fk_payment_files_debtor_account_id_debtor_accounts"),
        ),
        _users_fk("payment_files", "created_by_id"),
        _users_fk("payment_files", "cancelled_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_files")),
        sa.UniqueConstraint("message_id", name=op.f("uq_payment_files_message_id")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_payment_files_storage_key")),
    )
    op.create_index(
        op.f("ix_payment_files_debtor_account_id"), "payment_files", ["debtor_account_id"]
    )
    op.create_index(op.f("ix_payment_files_state"), "payment_files", ["state"])
    op.create_table(
        "payment_file_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_file_id", sa.Integer(), nullable=False),
        sa.Column("tranche_id", sa.Integer(), nullable=False),
        sa.Column("end_to_end_id", sa.String(length=35), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("creditor_name", sa.String(length=140), nullable=False),
        sa.Column("iban", sa.String(length=40), nullable=False),
        sa.Column("account_number", sa.String(length=60), nullable=False),
        sa.Column("bic", sa.String(length=11), nullable=False),
        sa.Column("remittance", sa.String(length=140), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_file_id"],
            ["payment_files.id"],
            name=op.f("fk_payment_file_items_payment_file_id_payment_files"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tranche_id"], ["tranches.id"], name=op.f("fk_payment_file_items_tranche_id_tranches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_file_items")),
        sa.UniqueConstraint("end_to_end_id", name=op.f("uq_payment_file_items_end_to_end_id")),
    )
    op.create_index(
        op.f("ix_payment_file_items_payment_file_id"), "payment_file_items", ["payment_file_id"]
    )
    op.create_index(op.f("ix_payment_file_items_tranche_id"), "payment_file_items", ["tranche_id"])
    op.create_index(
        "uq_payment_file_items_one_active",
        "payment_file_items",
        ["tranche_id"],
        unique=True,
        postgresql_where=ACTIVE,
        sqlite_where=ACTIVE,
    )
    op.create_table(
        "bank_statements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("debtor_account_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=35), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("storage_key", sa.String(length=300), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=True),
        sa.Column("imported_by_id", sa.Integer(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["debtor_account_id"],
            ["debtor_accounts.id"],
            name=op.f("fk_bank_statements_debtor_account_id_debtor_accounts"),
        ),
        _users_fk("bank_statements", "imported_by_id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_statements")),
        sa.UniqueConstraint(
            "debtor_account_id",
            "reference",
            name=op.f("uq_bank_statements_debtor_account_id_reference"),
        ),
        sa.UniqueConstraint("sha256", name=op.f("uq_bank_statements_sha256")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_bank_statements_storage_key")),
    )
    op.create_index(
        op.f("ix_bank_statements_debtor_account_id"), "bank_statements", ["debtor_account_id"]
    )
    op.create_table(
        "statement_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("statement_id", sa.Integer(), nullable=False),
        sa.Column("bank_reference", sa.String(length=100), nullable=False),
        sa.Column("end_to_end_id", sa.String(length=35), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("remittance", sa.String(length=140), nullable=False),
        sa.Column("creditor_name", sa.String(length=140), nullable=False),
        sa.Column("exchange_rate", sa.Numeric(precision=18, scale=6), nullable=True),
        sa.Column("target_currency", sa.String(length=3), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("tranche_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('matched', 'already_paid', 'refused', 'unmatched')",
            name=op.f("ck_statement_lines_outcome_known"),
        ),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["bank_statements.id"],
            name=op.f("fk_statement_lines_statement_id_bank_statements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tranche_id"], ["tranches.id"], name=op.f("fk_statement_lines_tranche_id_tranches")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_statement_lines")),
    )
    op.create_index(op.f("ix_statement_lines_statement_id"), "statement_lines", ["statement_id"])
    op.create_index(op.f("ix_statement_lines_tranche_id"), "statement_lines", ["tranche_id"])
    op.add_column(
        "ledger_entries",
        sa.Column("bank_exchange_rate", sa.Numeric(precision=18, scale=6), nullable=True),
    )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        # Dropping a column recreates the table on SQLite, which would lose its triggers.
        op.execute("ALTER TABLE ledger_entries DROP COLUMN bank_exchange_rate")
    else:
        op.drop_column("ledger_entries", "bank_exchange_rate")
    op.drop_index(op.f("ix_statement_lines_tranche_id"), table_name="statement_lines")
    op.drop_index(op.f("ix_statement_lines_statement_id"), table_name="statement_lines")
    op.drop_table("statement_lines")
    op.drop_index(op.f("ix_bank_statements_debtor_account_id"), table_name="bank_statements")
    op.drop_table("bank_statements")
    op.drop_index(
        "uq_payment_file_items_one_active",
        table_name="payment_file_items",
        postgresql_where=ACTIVE,
        sqlite_where=ACTIVE,
    )
    op.drop_index(op.f("ix_payment_file_items_tranche_id"), table_name="payment_file_items")
    op.drop_index(op.f("ix_payment_file_items_payment_file_id"), table_name="payment_file_items")
    op.drop_table("payment_file_items")
    op.drop_index(op.f("ix_payment_files_state"), table_name="payment_files")
    op.drop_index(op.f("ix_payment_files_debtor_account_id"), table_name="payment_files")
    op.drop_table("payment_files")
    op.drop_table("debtor_accounts")
