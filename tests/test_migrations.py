"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from grants.extensions import db
from grants.models.search import migration_only


def test_models_match_the_migrations(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                # The databases' own text indexes of the search, which no model describes.
                "include_object": lambda _, name, type_, *__: not migration_only(name, type_),
            },
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_bank_changes_become_a_lifecycle_keeping_their_outcome(tmp_path):
    """Revision 0021 on a database of 0020 with a change of each kind: pending ones wait
    as ``requested``, decided ones keep their outcome, each gets the history rows its
    request and decision would have written, and webhook subscriptions follow. The
    people and grants are made with today's models at the head, which is then taken
    back down to 0020 to write the changes as they were."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from grants import create_app
    from tests.conftest import test_settings

    application = create_app(test_settings(f"sqlite:///{tmp_path / 'old.db'}", tmp_path))
    with application.app_context():
        upgrade()
        from grants.services.webhooks import create_endpoint
        from tests.fixtures.people import make_user
        from tests.fixtures.programme import make_award, make_world

        roles = ("applicant", "finance_officer", "finance_officer")
        asker, approver, refuser = (make_user(role) for role in roles)
        endpoint, _ = create_endpoint(
            make_user("admin"), "https://erp.example.org/hooks", "ERP", ["tranche.pay"]
        )
        world = make_world()
        awards = [make_award(world, state="active").id for _ in range(3)]
        db.session.commit()
        people = {"asker": asker.id, "approver": approver.id, "refuser": refuser.id}
        asker_label, endpoint_id = asker.display_name, endpoint.id
        db.session.remove()
        downgrade(revision="0020")
        with db.engine.connect() as connection:
            for number, (state, decided) in enumerate(
                [("pending", None), ("approved", "approver"), ("rejected", "refuser")], start=1
            ):
                connection.execute(
                    text(
                        "INSERT INTO bank_details_changes (id, award_id, account_holder, iban,"
                        " account_number, bank_name, bic, reason, requested_by_id, requested_at,"
                        " state, decided_by_id, decided_at, decision_comment) VALUES (:id,"
                        " :award, 'ASLD', 'BE68539007547034', '', 'Belfius', 'GKCCBEBB',"
                        " 'Moved.', :asker, '2027-01-0' || :id || ' 10:00:00', :state, :decided,"
                        " CASE WHEN :decided IS NULL THEN NULL ELSE '2027-02-01 10:00:00' END,"
                        " CASE WHEN :state = 'rejected' THEN 'Send the bank letter.'"
                        " ELSE '' END)"
                    ),
                    {
                        "id": number,
                        "award": awards[number - 1],
                        "state": state,
                        "asker": people["asker"],
                        "decided": people.get(decided),
                    },
                )
            connection.execute(
                text(
                    "INSERT INTO webhook_subscriptions (endpoint_id, event_type) VALUES"
                    " (:id, 'award.bank_change_requested'), (:id, 'award.bank_change_rejected')"
                ),
                {"id": endpoint_id},
            )
            connection.commit()
        upgrade()
        with db.engine.connect() as connection:
            changes = connection.execute(
                text("SELECT id, state, version FROM bank_details_changes ORDER BY id")
            ).all()
            history = connection.execute(
                text(
                    "SELECT entity_id, transition, from_state, to_state, actor_id, comment"
                    " FROM history WHERE entity_type = 'bank_change' ORDER BY id"
                )
            ).all()
            events = connection.execute(
                text("SELECT event_type FROM webhook_subscriptions ORDER BY event_type")
            ).scalars()
            assert [tuple(row) for row in changes] == [
                (1, "requested", 1),
                (2, "approved", 1),
                (3, "refused", 1),
            ]
            asked, approved, refused = people["asker"], people["approver"], people["refuser"]
            assert [tuple(row) for row in history] == [
                (1, "request", "new", "requested", asked, "Moved."),
                (2, "request", "new", "requested", asked, "Moved."),
                (3, "request", "new", "requested", asked, "Moved."),
                (2, "approve", "requested", "approved", approved, ""),
                (3, "refuse", "requested", "refused", refused, "Send the bank letter."),
            ]
            labels = connection.execute(
                text("SELECT DISTINCT actor_label FROM history WHERE transition = 'request'")
            ).scalars()
            assert list(labels) == [asker_label]
            assert list(events) == ["bank_change.refuse", "bank_change.request", "tranche.pay"]
        db.engine.dispose()
