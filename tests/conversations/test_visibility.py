"""Who reads which part of a thread, on the pages and through the API: the members of
the association read the messages but never the notes; members of another association
and evaluators find no thread; an evaluator reads only the notes shared with them, and
none in a blind call; officers and admins read everything; finance officers everything
on a grant, nothing on an application."""

from __future__ import annotations

import pytest

from grants.extensions import db
from grants.services import conversations
from grants.services.errors import InvalidInput
from grants.services.evaluation import attest_no_conflict
from tests.clients import text_of
from tests.conversations.conftest import (
    GRANT_MESSAGE,
    GRANT_NOTE,
    MESSAGE,
    NOTE,
    SHARED,
    bearer,
    threads_on,
)
from tests.fixtures.people import make_association, make_user
from tests.fixtures.programme import make_review

#: role → (what they read on the application's page, on the grant's page); None: 404.
PAGES = {
    "member": ({MESSAGE}, {GRANT_MESSAGE}),
    "outsider": (None, None),
    "evaluator": (None, None),
    "officer": ({MESSAGE, NOTE, SHARED}, {GRANT_MESSAGE, GRANT_NOTE}),
    "finance": (None, {GRANT_MESSAGE, GRANT_NOTE}),
    "admin": ({MESSAGE, NOTE, SHARED}, {GRANT_MESSAGE, GRANT_NOTE}),
}
EVERY_TEXT = {MESSAGE, NOTE, SHARED, GRANT_MESSAGE, GRANT_NOTE}


def _people(world):
    return {
        "member": world.applicant,
        "outsider": world.outsider,
        "evaluator": world.evaluator,
        "officer": world.officer,
        "finance": world.finance,
        "admin": world.admin,
    }


@pytest.mark.parametrize("role", list(PAGES))
def test_each_role_reads_its_part_of_the_threads_on_the_pages(world, threads, login, role):
    client = login(_people(world)[role])
    expected_application, expected_award = PAGES[role]
    for path, expected in (
        (f"/applications/{threads.application.id}", expected_application),
        (f"/grants/{threads.award.id}", expected_award),
    ):
        response = client.get(path)
        if expected is None:
            assert response.status_code == 404, path
            continue
        assert response.status_code == 200, path
        text = text_of(response)
        for shown in expected:
            assert shown in text, (role, path, shown)
        for hidden in EVERY_TEXT - expected:
            assert hidden not in text, (role, path, hidden)


@pytest.mark.parametrize("role", list(PAGES))
def test_each_role_reads_the_same_through_the_api(world, threads, client, role):
    headers = bearer(_people(world)[role])
    expected_application, expected_award = PAGES[role]
    for path, expected in (
        (f"/api/v1/applications/{threads.application.id}/thread", expected_application),
        (f"/api/v1/awards/{threads.award.id}/thread", expected_award),
    ):
        response = client.get(path, headers=headers)
        if expected is None:
            assert response.status_code == 404, path
            assert response.get_json()["code"] == "not_found"
            continue
        assert response.status_code == 200, (path, response.get_json())
        assert {m["body"] for m in response.get_json()["messages"]} == expected


def test_an_evaluator_reads_only_the_notes_shared_with_them_on_the_review(world, threads, login):
    review = threads.application.reviews[0]
    text = text_of(login(world.evaluator).get(f"/reviews/{review.id}"))
    assert SHARED in text
    assert NOTE not in text and MESSAGE not in text


def test_another_evaluator_reads_no_note_and_no_attachment(world, threads, login):
    other = make_user("evaluator")
    review = make_review(world, threads.application, scored=False, evaluator=other)
    db.session.flush()
    # Assigned, they read it once they have declared no conflict with the association.
    assert conversations.shared_notes(other, threads.application) == []
    attest_no_conflict(other, review)
    assert conversations.shared_notes(other, threads.application)
    stranger = make_user("evaluator")
    assert conversations.shared_notes(stranger, threads.application) == []
    with pytest.raises(conversations.NotFound):
        conversations.visible_message(stranger, threads.shared.id)


def test_in_a_blind_call_evaluators_never_read_a_note(world, login):
    blind = threads_on(world, blind=True)
    review = blind.application.reviews[0]
    text = text_of(login(world.evaluator).get(f"/reviews/{review.id}"))
    assert SHARED not in text and NOTE not in text
    assert conversations.shared_notes(world.evaluator, blind.application) == []


def test_a_note_cannot_be_shared_in_a_blind_call(world):
    blind = threads_on(world, blind=True)
    blind.note.shared_with_evaluators = False
    db.session.flush()
    with pytest.raises(InvalidInput) as refused:
        conversations.share_note(world.officer, blind.note.id, True)
    assert "blind" in refused.value.message
    db.session.refresh(blind.note)
    assert blind.note.shared_with_evaluators is False


def test_an_officer_shares_a_note_from_the_page_and_the_evaluator_reads_it(world, threads, login):
    officer = login(world.officer)
    response = officer.post(f"/thread/notes/{threads.note.id}/share", data={"shared": "1"})
    assert response.status_code == 303
    review = threads.application.reviews[0]
    assert NOTE in text_of(login(world.evaluator).get(f"/reviews/{review.id}"))


def test_a_member_of_two_associations_reads_only_their_threads(world, threads, login):
    person = make_user("applicant")
    make_association(person)
    db.session.flush()
    client = login(person)
    assert client.get(f"/applications/{threads.application.id}").status_code == 404
    assert conversations.unread_count(person) == 0
    assert MESSAGE not in text_of(client.get("/conversations"))


def test_the_header_counts_unread_messages_until_the_thread_is_read(world, threads, login):
    member = login(world.applicant)
    # Two messages from the office on the application, one on the grant: notes are not
    # the member's to read, so they do not count.
    assert conversations.unread_count(world.applicant) == 2
    listing = text_of(member.get("/conversations"))
    assert threads.application.reference in listing and "Messages 2" in listing
    member.get(f"/applications/{threads.application.id}")
    assert conversations.unread_count(world.applicant) == 1
    member.get(f"/grants/{threads.award.id}")
    assert conversations.unread_count(world.applicant) == 0
    assert "Messages 0" not in text_of(member.get("/conversations"))


def test_an_attachment_is_read_only_by_those_who_read_its_message(world, threads, login, client):
    import io

    from grants.services.documents import Upload
    from tests.documents.test_filetypes import pdf_bytes

    subject = conversations.Subject("application", threads.application)
    note = conversations.post(
        world.officer,
        subject,
        "The embassy's answer",
        kind="note",
        upload=Upload(io.BytesIO(pdf_bytes()), "embassy.pdf"),
    )
    attachment = note.attachments[0]
    path = f"/thread/attachments/{attachment.id}"
    assert login(world.officer).get(path).status_code in (200, 302)
    assert login(world.applicant).get(path).status_code == 404
    assert login(world.outsider).get(path).status_code == 404
    api = f"/api/v1/thread/attachments/{attachment.id}/content"
    assert client.get(api, headers=bearer(world.officer)).status_code in (200, 302)
    assert client.get(api, headers=bearer(world.applicant)).status_code == 404
    # Nor does it show among the application's own documents.
    listed = client.get(
        f"/api/v1/applications/{threads.application.id}/documents",
        headers=bearer(world.applicant),
    ).get_json()
    assert attachment.id not in {d["id"] for d in listed["items"]}


def test_a_thread_costs_the_same_few_queries_however_long_it_is(world, login, client):
    """The page and the API show the latest messages with their authors and attachments
    in a fixed number of statements; the list of threads too."""
    from tests.conversations.conftest import write
    from tests.fixtures.programme import make_application, make_call
    from tests.queries import cost_of

    call = make_call(world)
    short, long = (make_application(world, call, state="submitted") for _ in range(2))
    for application, count in ((short, 2), (long, 12)):
        for number in range(count):
            author = world.officer if number % 2 else world.applicant
            write(author, "application", application, f"Message {number}")
    db.session.flush()
    officer = login(world.officer)
    # Read once, so both pages are measured with a read marker in place.
    for application in (short, long):
        officer.get(f"/applications/{application.id}")
    assert cost_of(officer, f"/applications/{short.id}") == cost_of(
        officer, f"/applications/{long.id}"
    )
    headers = bearer(world.officer)
    for application in (short, long):  # the token's first use, and the read markers
        client.get(f"/api/v1/applications/{application.id}/thread", headers=headers)
    assert cost_of(client, f"/api/v1/applications/{short.id}/thread", headers=headers) == (
        cost_of(client, f"/api/v1/applications/{long.id}/thread", headers=headers)
    )
    few = cost_of(officer, "/conversations")
    for _ in range(3):
        write(world.applicant, "application", make_application(world, call), "Another")
    db.session.flush()
    assert cost_of(officer, "/conversations") == few
