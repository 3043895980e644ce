"""An admin anonymises a person: a pseudonym everywhere their data lived, the account
closed for good, every money total the same, nothing sent to their old address."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import (
    Association,
    Award,
    DataExport,
    HistoryEntry,
    LedgerEntry,
    Notification,
    TeamMember,
    Tranche,
    User,
    WebhookDelivery,
)
from grants.models.audit import AuditRow
from grants.orm import utcnow
from grants.services import anonymisation, finance_dashboard, personal_data
from grants.services.dashboards import Filters
from grants.services.errors import Conflict
from grants.services.programme_dashboard import amounts
from grants.services.webhooks import create_endpoint, replay
from grants.services.workflow import history_of
from notifications import monitor, outbox
from tests.fixtures.people import make_user
from tests.fixtures.programme import make_award

NAME = "Mariama Diallo"


@pytest.fixture
def person(world):
    """The applicant, named in the records people write about others."""
    applicant = world.applicant
    applicant.full_name = NAME
    applicant.tf_phone_number = "+33 6 12 34 56 78"
    association = world.association
    association.contact_name = NAME
    association.contact_email = applicant.email
    award = make_award(world, state="active")
    application = award.application
    application.summary = f"Led by {NAME}, a tailor from Thiès."
    application.team = [TeamMember(position=1, name=NAME, role="Coordinator")]
    award.signatory_name = NAME
    award.reports[0].activities = f"{NAME.upper()} trained 20 people."
    db.session.flush()
    for kind, amount in (("commitment", award.amount), ("payment", Decimal("12800"))):
        db.session.add(
            LedgerEntry(
                award_id=award.id,
                tranche_id=award.tranches[0].id if kind == "payment" else None,
                kind=kind,
                amount=amount,
                currency=award.currency,
                value_date=date(2027, 3, 1),
                actor_id=applicant.id,
                actor_label=NAME,
            )
        )
    db.session.add(
        HistoryEntry(
            entity_type="award",
            entity_id=award.id,
            transition="accept",
            from_state="offered",
            to_state="active",
            actor_id=applicant.id,
            actor_label=NAME,
        )
    )
    db.session.flush()
    return applicant, award


def totals() -> dict[str, object]:
    """Every money total the product shows, read from the database."""
    return {
        "awards": db.session.scalar(select(func.sum(Award.amount))),
        "paid": db.session.scalar(select(func.sum(Award.paid_total))),
        "tranches": db.session.scalar(select(func.sum(Tranche.amount))),
        "ledger": db.session.execute(
            select(LedgerEntry.kind, func.sum(LedgerEntry.amount))
            .group_by(LedgerEntry.kind)
            .order_by(LedgerEntry.kind)
        ).all(),
        "committed_and_paid": finance_dashboard.committed_and_paid().rows,
        "programme_amounts": amounts(Filters()).rows,
    }


def test_anonymising_replaces_the_person_everywhere_and_keeps_every_total(
    app, world, person, login
):
    applicant, award = person
    old_email = applicant.email
    before = totals()
    admin = login(world.admin)
    page = admin.get(f"/admin/users/{applicant.id}/anonymise").get_data(as_text=True)
    assert "cannot be undone" in page
    pseudonym = anonymisation.pseudonym(applicant)
    assert pseudonym in page

    response = admin.post(
        f"/admin/users/{applicant.id}/anonymise", data={"confirmation": old_email.upper()}
    )
    assert response.status_code == 303
    db.session.expire_all()
    applicant = db.session.get(User, applicant.id)
    assert applicant.full_name == pseudonym and pseudonym.startswith("Person ")
    assert applicant.email.endswith("@anonymised.invalid")
    assert not applicant.active and applicant.anonymised_at is not None
    assert applicant.password is None and applicant.tf_phone_number is None
    assert applicant.roles == []
    association = db.session.get(Association, world.association.id)
    assert association.contact_name == pseudonym
    assert association.contact_email == applicant.email
    award = db.session.get(Award, award.id)
    assert award.signatory_name == pseudonym
    assert award.application.summary == f"Led by {pseudonym}, a tailor from Thiès."
    assert [member.name for member in award.application.team] == [pseudonym]
    assert award.reports[0].activities == f"{pseudonym} trained 20 people."
    # The ledger and the history are append-only: their rows stay as written, and are
    # shown with the pseudonym.
    entries = db.session.scalars(select(LedgerEntry)).all()
    assert [(e.actor_label, e.shown_actor) for e in entries] == [(NAME, pseudonym)] * 2
    (history,) = history_of(award)
    assert (history.actor_label, history.shown_actor) == (NAME, pseudonym)
    assert totals() == before
    grant_page = admin.get(f"/grants/{award.id}").get_data(as_text=True)
    assert pseudonym in grant_page and NAME not in grant_page

    (row,) = db.session.scalars(select(AuditRow).where(AuditRow.kind == "person.anonymised"))
    assert (row.actor_id, row.record_type, row.record_id) == (world.admin.id, "user", applicant.id)
    assert row.changes["full_name"] == ["(replaced)", pseudonym]
    assert old_email not in str(row.changes) and NAME not in str(row.changes) + row.note
    assert login_refused(app, old_email)
    assert "Anonymised on" in admin.get(f"/admin/users/{applicant.id}").get_data(as_text=True)


def login_refused(app, email: str) -> bool:
    from tests.clients import AppClient
    from tests.fixtures.people import PASSWORD

    app.test_client_class = AppClient
    response = app.test_client().post("/login", data={"email": email, "password": PASSWORD})
    return response.status_code != 302


def test_a_wrong_confirmation_is_refused_beside_the_field_and_changes_nothing(world, person, login):
    applicant, _ = person
    response = login(world.admin).post(
        f"/admin/users/{applicant.id}/anonymise", data={"confirmation": "someone@else.org"}
    )
    assert response.status_code == 422
    assert "Type the email address of this person exactly" in response.get_data(as_text=True)
    db.session.expire_all()
    applicant = db.session.get(User, applicant.id)
    assert applicant.full_name == NAME and applicant.active and applicant.anonymised_at is None


def test_the_last_admin_is_not_anonymised(world, login):
    admin = world.admin
    response = login(admin).post(
        f"/admin/users/{admin.id}/anonymise", data={"confirmation": admin.email}
    )
    assert response.status_code == 409
    assert "last active admin" in response.get_data(as_text=True)
    db.session.expire_all()
    admin = db.session.get(User, admin.id)
    assert admin.active and admin.anonymised_at is None and admin.full_name.startswith("Person ")
    assert "admin" in admin.role_names


def test_an_admin_who_is_not_the_last_may_be_anonymised(world, login):
    other = make_user("admin")
    response = login(world.admin).post(
        f"/admin/users/{other.id}/anonymise", data={"confirmation": other.email}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, other.id).anonymised_at is not None


def test_an_email_waiting_for_an_anonymised_person_goes_nowhere_and_says_why(
    world, person, mailbox
):
    applicant, _ = person
    old_email = applicant.email
    now = utcnow()
    message = outbox.Message(
        "test_rule", "account", "Hello", "Body", "association", world.association.id, "/"
    )
    outbox.write([(message, [applicant], "before-anonymisation")], now)
    db.session.flush()
    anonymisation.anonymise(world.admin, applicant, old_email, now)
    db.session.commit()
    row = db.session.scalars(
        select(Notification).where(
            Notification.recipient_id == applicant.id, Notification.channel == "email"
        )
    ).one()
    assert row.state == "failed" and row.last_error == outbox.NOT_SENT_ANONYMISED
    # Replayed by an admin: refused with the reason, and nothing is sent.
    with pytest.raises(Conflict, match="anonymised"):
        monitor.retry(world.admin, row.id)
    assert monitor.retry_all_failed(world.admin) == 0
    # Even a row made due again behind the services' back is refused by the dispatcher.
    row.state, row.attempts = "pending", 0
    db.session.commit()
    assert outbox.dispatch(now) == (0, 1)
    assert mailbox.to(old_email) == [] and mailbox.to(applicant.email) == []
    db.session.expire_all()
    row = db.session.get(Notification, row.id)
    assert row.state == "failed" and row.last_error == outbox.NOT_SENT_ANONYMISED


def test_a_replayed_webhook_about_their_application_carries_nothing_of_them(app, world, person):
    applicant, award = person
    old_email = applicant.email
    endpoint, _ = create_endpoint(
        world.admin, "https://erp.example.org/hooks", "ERP", ["application.submit"]
    )
    body = (
        '{"id":"w1","type":"application.submit","record":{"type":"application",'
        f'"id":{award.application_id},"reference":"{award.application.reference}"}}}}'
    )
    delivered = WebhookDelivery(
        endpoint_id=endpoint.id,
        event_type="application.submit",
        webhook_id="w1",
        payload=body,
        state="delivered",
    )
    db.session.add(delivered)
    db.session.flush()
    anonymisation.anonymise(world.admin, applicant, old_email)
    copy = replay(world.admin, endpoint, delivered.id)
    assert NAME not in copy.payload and old_email not in copy.payload


def test_the_copies_of_their_data_are_deleted_after_the_commit(app, world, person):
    applicant, _ = person
    export = personal_data.request_export(applicant)
    db.session.commit()
    store = app.extensions["document_store"]
    key = export.storage_key
    assert export.state == "ready" and store.exists(key)
    with db.session.begin_nested() as savepoint:
        anonymisation.anonymise(world.admin, applicant, applicant.email)
        assert store.exists(key)  # not before the commit
        savepoint.rollback()
    assert store.exists(key)
    anonymisation.anonymise(world.admin, applicant, applicant.email)
    db.session.commit()
    assert not store.exists(key)
    export = db.session.get(DataExport, export.id)
    assert export.state == "expired" and export.storage_key is None
