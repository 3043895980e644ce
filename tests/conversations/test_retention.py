"""Retention takes an unawarded application's conversation with its other personal data:
the messages, notes, read markers and attachments go, their files after the commit."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from sqlalchemy import func, select

from grants.extensions import db
from grants.models import Document, Message, Thread, ThreadRead
from grants.services import conversations, retention
from grants.services.documents import Upload
from grants.services.read_markers import mark_read
from tests.documents.test_filetypes import pdf_bytes
from tests.fixtures.programme import make_application, make_award, make_call

NOW = datetime(2033, 6, 1, 12, 0, tzinfo=UTC)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_retention_clears_the_thread_of_an_unawarded_application(app, world):
    call = make_call(world, state="closed", closes_at=datetime(2027, 4, 30, tzinfo=UTC))
    rejected = make_application(world, call, state="rejected")
    subject = conversations.Subject("application", rejected)
    with app.test_request_context():
        asked = conversations.post(
            world.officer, subject, "Your CV?", kind="request", due_on=datetime(2099, 1, 1).date()
        )
        conversations.post(
            world.applicant,
            subject,
            "Here, with my address.",
            in_answer_to=asked.id,
            upload=Upload(io.BytesIO(pdf_bytes(b"% cv")), "cv.pdf"),
        )
    mark_read(world.applicant, asked.thread, asked.id)
    # A grant's conversation is kept: the grant is the programme's record.
    award = make_award(world, state="active")
    kept = conversations.post(
        world.officer, conversations.Subject("award", award), "Report due in June."
    )
    db.session.flush()
    store = app.extensions["document_store"]
    key = db.session.scalar(select(Document.storage_key).where(Document.message_id.is_not(None)))

    assert retention.run(NOW) == 1
    assert _count(Thread) == 1 and _count(ThreadRead) == 0
    assert db.session.scalars(select(Message.id)).all() == [kept.id]
    attachments = select(func.count()).select_from(Document).where(Document.message_id.is_not(None))
    assert db.session.scalar(attachments) == 0
    assert not store.exists(key)
