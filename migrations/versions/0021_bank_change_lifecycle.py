"""bank_details_changes: a lifecycle of their own, with a version and a history

A change of bank details is fired through the lifecycle engine like a tranche. Pending
changes become ``requested``, rejected ones ``refused``, approved ones stay approved; each
existing change gets the history rows its request and decision would have written (who,
when, and the reason given), so that "who approved this bank change" is read in one place
for old and new changes alike. At most one change per grant waits, by a partial unique
index. Webhook subscriptions to the old award events follow them to the change's own
events.

The downgrade puts the states and subscriptions back; the history rows stay (the history
is append-only).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 15:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

NEW_STATES = "state IN ('new', 'requested', 'approved', 'refused', 'cancelled')"
OLD_STATES = "state IN ('pending', 'approved', 'rejected')"
WAITING = sa.text("state IN ('new', 'requested')")
#: Old webhook event → the change's own.
EVENTS = {
    "award.bank_change_requested": "bank_change.request",
    "award.bank_change_approved": "bank_change.approve",
    "award.bank_change_rejected": "bank_change.refuse",
}


def _history(transition: str, to_state: str, actor: str, at: str, comment: str, where: str):
    op.execute(
        f"""
        INSERT INTO history (entity_type, entity_id, transition, from_state, to_state,
                             actor_id, actor_label, comment, data, created_at)
        SELECT 'bank_change', c.id, '{transition}',
               CASE WHEN '{transition}' = 'request' THEN 'new' ELSE 'requested' END,
               '{to_state}', c.{actor},
               COALESCE(NULLIF(u.full_name, ''), u.email, ''), {comment}, '{{}}', c.{at}
        FROM bank_details_changes c LEFT JOIN users u ON u.id = c.{actor}
        WHERE {where}
        ORDER BY c.id
        """
    )


def upgrade():
    with op.batch_alter_table("bank_details_changes") as batch_op:
        batch_op.add_column(
            sa.Column("version", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.drop_constraint(op.f("ck_bank_details_changes_state_known"), type_="check")
    op.execute("UPDATE bank_details_changes SET state = 'requested' WHERE state = 'pending'")
    op.execute("UPDATE bank_details_changes SET state = 'refused' WHERE state = 'rejected'")
    with op.batch_alter_table("bank_details_changes") as batch_op:
        batch_op.create_check_constraint(op.f("ck_bank_details_changes_state_known"), NEW_STATES)
        batch_op.create_index(
            "uq_bank_details_changes_one_waiting",
            ["award_id"],
            unique=True,
            postgresql_where=WAITING,
            sqlite_where=WAITING,
        )
    _history("request", "requested", "requested_by_id", "requested_at", "c.reason", "1 = 1")
    for transition, state in (("approve", "approved"), ("refuse", "refused")):
        _history(
            transition,
            state,
            "decided_by_id",
            "decided_at",
            "c.decision_comment",
            f"c.state = '{state}' AND c.decided_at IS NOT NULL",
        )
    for old, new in EVENTS.items():
        op.execute(
            f"UPDATE webhook_subscriptions SET event_type = '{new}' WHERE event_type = '{old}'"
        )


def downgrade():
    for old, new in EVENTS.items():
        op.execute(
            f"UPDATE webhook_subscriptions SET event_type = '{old}' WHERE event_type = '{new}'"
        )
    op.execute("DELETE FROM webhook_subscriptions WHERE event_type = 'bank_change.cancel'")
    with op.batch_alter_table("bank_details_changes") as batch_op:
        batch_op.drop_index("uq_bank_details_changes_one_waiting")
        batch_op.drop_constraint(op.f("ck_bank_details_changes_state_known"), type_="check")
    # A withdrawn change had no name before: it reads as rejected by its author.
    op.execute(
        "UPDATE bank_details_changes SET state = 'rejected' WHERE state IN ('refused', 'cancelled')"
    )
    op.execute("UPDATE bank_details_changes SET state = 'pending' WHERE state IN ('new', 'requested')")
    with op.batch_alter_table("bank_details_changes") as batch_op:
        batch_op.create_check_constraint(op.f("ck_bank_details_changes_state_known"), OLD_STATES)
        batch_op.drop_column("version")
