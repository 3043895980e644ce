"""The demo carries the conversations of the story: a request for information the Lyon
association answered with a document, and an internal note no evaluator reads."""

from __future__ import annotations

from sqlalchemy import select

from grants.extensions import db
from grants.models import Message, User
from grants.roles import EVALUATOR
from grants.services import conversations, demo


def test_the_demo_has_an_answered_request_and_a_note_evaluators_cannot_read(app):
    demo.seed()
    demo.seed()  # a second run adds nothing
    requests = db.session.scalars(select(Message).where(Message.kind == "request")).all()
    assert len(requests) == 1
    answer = db.session.scalars(
        select(Message).where(Message.in_answer_to_id == requests[0].id)
    ).one()
    assert answer.author.email == "awa.ndiaye@demo.example.org"
    assert [d.filename for d in answer.attachments] == ["convention-mairie-thies.pdf"]
    note = db.session.scalars(select(Message).where(Message.kind == "note")).one()
    thread = note.thread
    evaluators = db.session.scalars(select(User).where(User.roles.any(name=EVALUATOR))).all()
    assert evaluators
    for evaluator in evaluators:
        assert conversations.shared_notes(evaluator, thread.application) == []
        assert conversations.unread_count(evaluator) == 0
    awa = answer.author
    read = conversations.visible_messages(awa, thread.id)
    assert note not in read
