"""A change of bank details through its lifecycle, on the pages and through the API: a
member asks, a finance officer who did not ask decides, a member may withdraw it; every
step leaves its history row and its notifications; no tranche is approved or paid while
a change waits, even when both happen at once. Each refusal says why and changes nothing.
"""

from __future__ import annotations

import html
import threading

import pytest
from sqlalchemy import func, select

from grants.extensions import db
from grants.models import Award, BankDetailsChange, HistoryEntry, Notification, Tranche
from grants.models.associations import Membership
from grants.roles import APPLICANT, FINANCE_OFFICER
from grants.services import bank_changes, disbursements
from grants.services.errors import DomainError
from tests.api.test_api import assert_error, bearer
from tests.clients import text_of
from tests.fixtures.people import make_user
from tests.fixtures.programme import NOW, make_award
from tests.test_stale_writes import another_save_lands_first
from workflows.errors import GuardFailed

NEW = {
    "account_holder": "ASLD Bruxelles",
    "iban": "BE68539007547034",
    "account_number": "",
    "bank_name": "Belfius",
    "bic": "GKCCBEBB",
}
OLD_IBAN = "FR7630006000011234567890189"
ASKED_FOR_IT = "You asked for this change of bank details; another finance officer must decide it."


def _details():
    return dict(NEW)


def _count(model, **where) -> int:
    statement = select(func.count()).select_from(model)
    for name, value in where.items():
        statement = statement.where(getattr(model, name) == value)
    return db.session.scalar(statement)


def _history(change) -> list[tuple[str, str, str, int | None]]:
    return [
        (h.transition, h.from_state, h.to_state, h.actor_id)
        for h in db.session.scalars(
            select(HistoryEntry)
            .where(HistoryEntry.entity_type == "bank_change", HistoryEntry.entity_id == change.id)
            .order_by(HistoryEntry.id)
        )
    ]


def _notified(rule: str) -> set[int]:
    return set(
        db.session.scalars(
            select(Notification.recipient_id).where(
                Notification.rule == rule, Notification.channel == "in_app"
            )
        )
    )


def _approved_tranche(world, award):
    tranche = award.tranches[2]
    tranche.condition_report_id = None
    disbursements.act(world.officer, tranche.id, "request", now=NOW)
    disbursements.act(world.finance, tranche.id, "approve", now=NOW)
    assert tranche.state == "approved"
    return tranche


def _member_and_finance(world):
    """A member of the association who is also a finance officer."""
    person = make_user(APPLICANT, FINANCE_OFFICER)
    db.session.add(Membership(user_id=person.id, association_id=world.association.id))
    db.session.flush()
    db.session.refresh(person)
    return person


# --- the pages ------------------------------------------------------------------------


def test_a_member_asks_a_finance_officer_approves_on_the_pages(world, login):
    award = make_award(world, state="active")
    awa, finance = login(world.applicant), login(world.finance)
    asked = awa.post(f"/grants/{award.id}/bank-details", data={**_details(), "reason": "We moved."})
    assert asked.status_code == 303
    change = db.session.scalars(select(BankDetailsChange)).one()
    assert change.state == "requested" and award.bank_change_pending
    assert _history(change) == [("request", "new", "requested", world.applicant.id)]
    # Finance officers are told, the person who asked is not.
    told = _notified("bank_change_requested")
    assert {world.finance.id, world.finance_b.id} <= told and world.applicant.id not in told

    member_page = html.unescape(text_of(awa.get(f"/grants/{award.id}")))
    assert "Withdraw the change" in member_page and "Approve the new details" not in member_page
    page = finance.get(f"/grants/{award.id}").get_data(as_text=True)
    assert f'action="/grants/bank-changes/{change.id}/approve"' in page
    assert f'action="/grants/bank-changes/{change.id}/refuse"' in page
    assert f'name="version" value="{change.version}"' in page

    approved = finance.post(
        f"/grants/bank-changes/{change.id}/approve",
        data={"version": str(change.version)},
        follow_redirects=True,
    )
    assert "the next payments go to the new account" in text_of(approved)
    assert change.state == "approved" and change.decided_by_id == world.finance.id
    assert award.iban == NEW["iban"] and award.bic == NEW["bic"] and not award.bank_change_pending
    assert _history(change)[-1] == ("approve", "requested", "approved", world.finance.id)
    assert world.applicant.id in _notified("bank_change_approved")
    # The grant's page says who approved which account, and when.
    shown = html.unescape(text_of(awa.get(f"/grants/{award.id}")))
    assert "Earlier changes of bank details" in shown
    assert world.applicant.display_name in shown and world.finance.display_name in shown


def test_refusing_needs_the_reason_beside_its_field(world, login):
    award = make_award(world, state="active")
    change = bank_changes.request_bank_change(world.applicant, award, _details(), "Moved.")
    finance = login(world.finance)
    empty = finance.post(
        f"/grants/bank-changes/{change.id}/refuse", data={"version": str(change.version)}
    )
    assert empty.status_code == 422
    page = empty.get_data(as_text=True)
    assert 'id="bank-refuse-comment-error">A reason is required.' in page
    assert change.state == "requested" and len(_history(change)) == 1
    refused = finance.post(
        f"/grants/bank-changes/{change.id}/refuse",
        data={"version": str(change.version), "comment": "The holder is not the association."},
    )
    assert refused.status_code == 303 and change.state == "refused"
    assert change.decision_comment == "The holder is not the association."
    assert award.iban == OLD_IBAN and not award.bank_change_pending
    assert world.applicant.id in _notified("bank_change_refused")


def test_a_member_withdraws_the_change_and_payments_resume(world, login):
    award = make_award(world, state="active")
    tranche = _approved_tranche(world, award)
    change = bank_changes.request_bank_change(world.applicant, award, _details(), "Moved.")
    withdrawn = login(world.applicant).post(
        f"/grants/bank-changes/{change.id}/cancel", data={"version": str(change.version)}
    )
    assert withdrawn.status_code == 303 and change.state == "cancelled"
    assert change.decided_by_id == world.applicant.id and not award.bank_change_pending
    assert award.iban == OLD_IBAN
    assert world.finance.id in _notified("bank_change_cancelled")
    # Finance may not withdraw what the association asked for.
    again = bank_changes.request_bank_change(world.applicant, award, _details(), "Moved again.")
    refused = login(world.finance).post(f"/grants/bank-changes/{again.id}/cancel")
    assert refused.status_code == 403 and again.state == "requested"
    bank_changes.act(world.applicant, again.id, "cancel")
    disbursements.act(
        world.finance_b,
        tranche.id,
        "pay",
        payment_date=NOW.date(),
        bank_reference="BNK-1",
        amount=tranche.amount,
        now=NOW,
    )
    assert tranche.state == "paid"


def test_the_person_who_asked_cannot_approve_it(world, login, client):
    award = make_award(world, state="active")
    both = _member_and_finance(world)
    change = bank_changes.request_bank_change(both, award, _details(), "Moved.")
    version = change.version
    page = login(both).post(
        f"/grants/bank-changes/{change.id}/approve", data={"version": str(version)}
    )
    assert page.status_code == 403
    assert ASKED_FOR_IT in html.unescape(page.get_data(as_text=True))
    body = assert_error(
        client.post(
            f"/api/v1/bank-changes/{change.id}/transitions",
            json={"name": "approve", "version": version},
            headers=bearer(both),
        ),
        403,
        "forbidden",
    )
    assert body["message"] == ASKED_FOR_IT
    db.session.expire_all()
    assert change.state == "requested" and change.version == version
    assert award.iban == OLD_IBAN and award.bank_change_pending
    assert len(_history(change)) == 1
    # Their page offers the decision to someone else, with the reason.
    shown = html.unescape(text_of(login(both).get(f"/grants/{award.id}")))
    assert ASKED_FOR_IT in shown


def test_bad_bank_details_are_refused_beside_the_fields_and_nothing_is_written(
    world, login, client
):
    award = make_award(world, state="active")
    page = login(world.applicant).post(
        f"/grants/{award.id}/bank-details",
        data={**_details(), "iban": "BE68539007547035", "bic": "", "reason": "Moved."},
    )
    assert page.status_code == 422
    text = text_of(page)
    assert "check digits do not match" in text
    api = assert_error(
        client.post(
            f"/api/v1/awards/{award.id}/bank-changes",
            json={**_details(), "iban": "BE68539007547035", "reason": "Moved."},
            headers=bearer(world.applicant),
        ),
        422,
        "invalid",
    )
    assert "check digits do not match" in " ".join(api["errors"]["iban"])
    no_reason = assert_error(
        client.post(
            f"/api/v1/awards/{award.id}/bank-changes",
            json={**_details(), "reason": ""},
            headers=bearer(world.applicant),
        ),
        422,
        "invalid",
    )
    assert set(no_reason["errors"]) == {"reason"}
    assert _count(BankDetailsChange) == 0 and not award.bank_change_pending
    assert _count(HistoryEntry, entity_type="bank_change") == 0
    assert _notified("bank_change_requested") == set()


def test_a_second_change_while_one_waits_is_refused_and_nothing_is_written(world, login):
    award = make_award(world, state="active")
    bank_changes.request_bank_change(world.applicant, award, _details(), "Moved.")
    again = login(world.applicant).post(
        f"/grants/{award.id}/bank-details", data={**_details(), "reason": "Again."}
    )
    assert again.status_code == 422
    assert "A change of bank details already waits for a decision on this grant." in (
        text_of(again)
    )
    assert _count(BankDetailsChange) == 1
    assert _count(HistoryEntry, entity_type="bank_change") == 1


# --- versions -------------------------------------------------------------------------


def test_a_stale_version_is_a_409_and_changes_nothing(world, login, client):
    award = make_award(world, state="active")
    change = bank_changes.request_bank_change(world.applicant, award, _details(), "Moved.")
    stale = change.version - 1
    page = login(world.finance).post(
        f"/grants/bank-changes/{change.id}/approve", data={"version": str(stale)}
    )
    assert page.status_code == 409
    assert "changed since you opened it" in page.get_data(as_text=True)
    for version in ("abc", "-1", "99999999999999999999", "١٢"):
        tampered = login(world.finance).post(
            f"/grants/bank-changes/{change.id}/approve", data={"version": version}
        )
        assert tampered.status_code == 409, version
    db.session.expire_all()
    assert change.state == "requested" and award.iban == OLD_IBAN
    assert len(_history(change)) == 1

    other = make_award(world, state="active")
    waiting = bank_changes.request_bank_change(world.applicant, other, _details(), "Moved.")
    api = assert_error(
        client.post(
            f"/api/v1/bank-changes/{waiting.id}/transitions",
            json={"name": "approve"},
            headers={**bearer(world.finance), "If-Match": f'"{waiting.version - 1}"'},
        ),
        409,
        "conflict",
    )
    assert "changed since you opened it" in api["message"]
    db.session.expire_all()
    assert waiting.state == "requested" and other.iban == OLD_IBAN


def test_a_decision_that_loses_a_race_is_a_409_and_stores_nothing(world, client):
    award = make_award(world, state="active")
    change = bank_changes.request_bank_change(world.applicant, award, _details(), "Moved.")
    db.session.flush()
    with another_save_lands_first("bank_details_changes", change.id):
        response = client.post(
            f"/api/v1/bank-changes/{change.id}/transitions",
            json={"name": "approve", "version": change.version},
            headers=bearer(world.finance),
        )
    assert_error(response, 409, "conflict")
    db.session.expire_all()
    stored = db.session.get(BankDetailsChange, change.id)
    assert stored.state == "requested" and db.session.get(Award, award.id).iban == OLD_IBAN


# --- the API --------------------------------------------------------------------------


def test_the_api_reads_a_change_its_history_and_fires_its_transitions(world, client):
    award = make_award(world, state="active")
    change = bank_changes.request_bank_change(world.applicant, award, _details(), "Moved.")
    db.session.flush()
    read = client.get(f"/api/v1/bank-changes/{change.id}", headers=bearer(world.finance))
    assert read.status_code == 200 and read.headers["ETag"] == f'"{change.version}"'
    body = read.get_json()
    assert body["state"] == "requested" and body["version"] == change.version
    assert {o["name"]: o["allowed"] for o in body["allowed_transitions"]} == {
        "approve": True,
        "refuse": True,
        "cancel": False,
    }
    for role in ("outsider", "evaluator"):
        assert_error(
            client.get(f"/api/v1/bank-changes/{change.id}", headers=bearer(getattr(world, role))),
            404,
            "not_found",
        )
    extra = assert_error(
        client.post(
            f"/api/v1/bank-changes/{change.id}/transitions",
            json={"name": "approve", "iban": "X"},
            headers=bearer(world.finance),
        ),
        422,
        "invalid",
    )
    assert set(extra["errors"]) == {"iban"}
    refused = assert_error(
        client.post(
            f"/api/v1/bank-changes/{change.id}/transitions",
            json={"name": "refuse"},
            headers=bearer(world.finance),
        ),
        422,
        "invalid",
    )
    assert "A reason is required." in str(refused)
    done = client.post(
        f"/api/v1/bank-changes/{change.id}/transitions",
        json={"name": "refuse", "comment": "Not the association's account."},
        headers={**bearer(world.finance), "If-Match": f'"{change.version}"'},
    )
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json()["state"] == "refused"
    history = client.get(
        f"/api/v1/bank-changes/{change.id}/history", headers=bearer(world.applicant)
    ).get_json()
    assert [(h["transition"], h["to_state"]) for h in history["items"]] == [
        ("request", "requested"),
        ("refuse", "refused"),
    ]
    assert_error(
        client.post(
            f"/api/v1/bank-changes/{change.id}/transitions",
            json={"name": "approve"},
            headers=bearer(world.finance_b),
        ),
        409,
        "conflict",
    )


# --- payments wait --------------------------------------------------------------------


def test_no_tranche_is_approved_or_paid_while_a_change_waits(world):
    award = make_award(world, state="active")
    approved = _approved_tranche(world, award)
    requested = award.tranches[0]
    requested.condition_report_id = None
    disbursements.act(world.officer, requested.id, "request", now=NOW)
    bank_changes.request_bank_change(world.applicant, award, _details(), "Moved.")
    reason = "New bank details of the association wait for a finance officer's decision"
    with pytest.raises(GuardFailed) as not_approved:
        disbursements.act(world.finance, requested.id, "approve", now=NOW)
    assert any(reason in str(r) for r in not_approved.value.reasons)
    with pytest.raises(GuardFailed) as not_paid:
        disbursements.act(
            world.finance_b,
            approved.id,
            "pay",
            payment_date=NOW.date(),
            bank_reference="BNK-1",
            amount=approved.amount,
            now=NOW,
        )
    assert any(reason in str(r) for r in not_paid.value.reasons)
    assert requested.state == "requested" and not requested.approvals
    assert approved.state == "approved" and award.paid_total == 0


# --- under concurrency (PostgreSQL) ---------------------------------------------------


def _in_threads(app, works):
    barrier = threading.Barrier(len(works))
    outcomes: dict[int, str] = {}
    lock = threading.Lock()

    def run(index):
        with app.app_context():
            barrier.wait()
            try:
                works[index]()
                db.session.commit()
                result = "ok"
            except DomainError as error:
                db.session.rollback()
                result = type(error).__name__
            finally:
                db.session.remove()
            with lock:
                outcomes[index] = result

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


@pytest.mark.usefixtures("committed")
def test_a_payment_and_a_change_at_once_never_pay_while_it_waits(app):
    """Ten rounds of a payment racing a request: either the payment lands first (and
    the change is asked after it) or the change does and the payment is refused."""
    from grants.models import User
    from tests.fixtures.programme import make_world

    for _ in range(10):
        with app.app_context():
            world = make_world()
            award = make_award(world, state="active")
            tranche = _approved_tranche(world, award)
            db.session.commit()
            ids = (tranche.id, award.id, world.finance_b.id, world.applicant.id)

        tranche_id, award_id, payer_id, member_id = ids

        def pay(tranche_id=tranche_id, payer_id=payer_id):
            disbursements.act(
                db.session.get(User, payer_id),
                tranche_id,
                "pay",
                payment_date=NOW.date(),
                bank_reference="BNK-RACE",
                amount=db.session.get(Tranche, tranche_id).amount,
                now=NOW,
            )

        def ask(award_id=award_id, member_id=member_id):
            bank_changes.request_bank_change(
                db.session.get(User, member_id),
                db.session.get(Award, award_id),
                _details(),
                "Moved.",
            )

        outcomes = _in_threads(app, [pay, ask])
        with app.app_context():
            tranche = db.session.get(Tranche, tranche_id)
            steps = db.session.execute(
                select(HistoryEntry.entity_type, HistoryEntry.transition)
                .where(
                    (
                        (HistoryEntry.entity_type == "tranche")
                        & (HistoryEntry.entity_id == tranche_id)
                        & (HistoryEntry.transition == "pay")
                    )
                    | (
                        (HistoryEntry.entity_type == "bank_change")
                        & HistoryEntry.entity_id.in_(
                            select(BankDetailsChange.id).where(
                                BankDetailsChange.award_id == award_id
                            )
                        )
                    )
                )
                .order_by(HistoryEntry.id)
            ).all()
        assert outcomes[1] == "ok", outcomes
        if outcomes[0] == "ok":
            assert tranche.state == "paid"
            assert [tuple(s) for s in steps] == [("tranche", "pay"), ("bank_change", "request")]
        else:
            assert outcomes[0] == "GuardFailed", outcomes
            assert tranche.state == "approved"
            assert [tuple(s) for s in steps] == [("bank_change", "request")]


@pytest.mark.usefixtures("committed")
def test_two_finance_officers_deciding_at_once_decide_once(app):
    from grants.models import User
    from tests.fixtures.programme import make_world

    with app.app_context():
        world = make_world()
        award = make_award(world, state="active")
        change = bank_changes.request_bank_change(world.applicant, award, _details(), "Moved.")
        deciders = [make_user(FINANCE_OFFICER) for _ in range(6)]
        db.session.commit()
        change_id, ids = change.id, [d.id for d in deciders]

    def decide(index):
        def work():
            name = "approve" if index % 2 else "refuse"
            bank_changes.act(db.session.get(User, ids[index]), change_id, name, comment="Decided.")

        return work

    outcomes = _in_threads(app, [decide(i) for i in range(6)])
    with app.app_context():
        decisions = db.session.scalar(
            select(func.count(HistoryEntry.id)).where(
                HistoryEntry.entity_type == "bank_change",
                HistoryEntry.entity_id == change_id,
                HistoryEntry.transition.in_(("approve", "refuse")),
            )
        )
        change = db.session.get(BankDetailsChange, change_id)
        award = change.award
        pending = award.bank_change_pending
        iban = award.iban
    assert list(outcomes.values()).count("ok") == 1, outcomes
    assert set(outcomes.values()) <= {"ok", "TransitionNotAllowed"}
    assert decisions == 1 and not pending
    assert (iban == NEW["iban"]) == (change.state == "approved")
