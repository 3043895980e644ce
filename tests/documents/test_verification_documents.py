"""An association is verified only once its registration certificate and statutes are in:
the machine's guard names what is missing in the reader's language, on the page, in the
API's allowed transitions and when the transition is fired, and nothing changes."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import event, func, select

from grants.extensions import db
from grants.models import HistoryEntry
from grants.services.documents import Upload, add_document
from grants.services.errors import GuardFailed
from grants.services.workflow import allowed_transitions, fire
from tests.api.test_api import assert_error, bearer
from tests.clients import text_of
from tests.documents.test_filetypes import pdf_bytes
from tests.fixtures.people import make_association, make_user


@pytest.fixture
def association(app):
    return make_association(make_user("applicant"), state="pending")


def _history() -> int:
    return db.session.scalar(select(func.count(HistoryEntry.id)))


def _give(app, association, purpose: str) -> None:
    with app.test_request_context():
        add_document(
            None,
            Upload(io.BytesIO(pdf_bytes()), f"{purpose}.pdf"),
            association=association,
            purpose=purpose,
        )


def test_verifying_without_the_papers_names_both_and_changes_nothing(world, association):
    before = (association.state, association.version, _history())

    with pytest.raises(GuardFailed) as refused:
        fire(association, "verify", world.officer)

    assert refused.value.reasons == [
        "The association has not provided these documents yet: Registration certificate, Statutes."
    ]
    db.session.flush()
    assert (association.state, association.version, _history()) == before


def test_one_missing_paper_is_named_alone_and_the_button_says_why(app, world, association, login):
    _give(app, association, "statutes")
    [verify] = [o for o in allowed_transitions(association, world.officer) if o.name == "verify"]
    assert not verify.allowed
    assert [str(r) for r in verify.reasons] == [
        "The association has not provided these documents yet: Registration certificate."
    ]

    page = text_of(login(world.officer).get(f"/associations/{association.id}"))

    assert "has not provided these documents yet: Registration certificate." in page


def test_the_reason_reads_in_the_officers_language(app, world, association, login):
    world.officer.locale = "fr"
    client = login(world.officer)

    response = client.post(f"/transitions/association/{association.id}/verify")
    page = text_of(client.get(response.location))

    assert (
        "L’association n’a pas encore fourni ces documents : "
        "Certificat d’enregistrement et Statuts." in page
    )
    assert association.state == "pending"


def test_the_api_lists_verify_as_refused_with_the_reason_and_refuses_it(
    app, world, association, client
):
    headers = bearer(world.officer)
    body = client.get(f"/api/v1/associations/{association.id}", headers=headers).get_json()
    [verify] = [o for o in body["allowed_transitions"] if o["name"] == "verify"]
    assert verify["allowed"] is False
    assert "Registration certificate, Statutes" in " ".join(verify["reasons"])
    history = _history()

    refused = assert_error(
        client.post(
            f"/api/v1/associations/{association.id}/transitions",
            json={"name": "verify"},
            headers=headers,
        ),
        422,
        "invalid",
    )

    assert "Registration certificate, Statutes" in str(refused)
    assert association.state == "pending" and _history() == history


def test_with_both_papers_the_association_is_verified(app, world, association):
    _give(app, association, "registration_certificate")
    _give(app, association, "statutes")

    fire(association, "verify", world.officer)

    assert association.state == "verified"


def test_a_page_of_associations_asks_for_their_papers_once(world, client):
    for _ in range(12):
        make_association(make_user("applicant"), state="pending")
    headers = bearer(world.officer)
    client.get("/api/v1/associations?per_page=2", headers=headers)  # warm the caches

    def count(per_page: int) -> int:
        statements = []

        def record(*args, **kwargs):
            statements.append(1)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            response = client.get(f"/api/v1/associations?per_page={per_page}", headers=headers)
            assert response.status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return len(statements)

    assert count(12) <= count(2) + 2
