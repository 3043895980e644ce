"""Threads between an association and the programme office, on an application or a grant.

A thread holds messages of three kinds: a ``message`` both sides read, a ``note`` only
the staff read (and evaluators, once an officer shares it), and a ``request`` for
information, a message the association must answer by its due date and an officer
closes. Attachments are ``Document`` rows owned by their message. Each person's read
marker is the last message they have seen in the thread, from which unread counts follow.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grants.extensions import db
from grants.orm import utcnow

MESSAGE_KINDS = ("message", "note", "request")


class Thread(db.Model):
    """The conversation on one application or one grant (exactly one of them)."""

    __tablename__ = "threads"
    __table_args__ = (
        CheckConstraint(
            "(CASE WHEN application_id IS NULL THEN 0 ELSE 1 END)"
            " + (CASE WHEN award_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_subject",
        ),
        Index("ix_threads_last_message", "last_message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), unique=True
    )
    award_id: Mapped[int | None] = mapped_column(
        ForeignKey("awards.id", ondelete="CASCADE"), unique=True
    )
    #: The association the thread is with, kept here so that lists filter by index.
    association_id: Mapped[int] = mapped_column(
        ForeignKey("associations.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The newest message, so that the list of threads sorts without reading them.
    last_message_id: Mapped[int | None]
    last_message_at: Mapped[datetime | None]

    application = relationship("Application")
    award = relationship("Award")


class Message(db.Model):
    """One message, note or request for information in a thread. Never edited: what is
    said stays said (a request's closing is recorded on it, by whom and when)."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint("kind IN ('message', 'note', 'request')", name="kind_known"),
        CheckConstraint("kind = 'request' OR due_on IS NULL", name="due_only_on_requests"),
        CheckConstraint("kind = 'request' OR closed_at IS NULL", name="closed_only_requests"),
        Index("ix_messages_thread", "thread_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10), default="message")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: A note an officer shared with the evaluators of the application.
    shared_with_evaluators: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: The request for information this message answers.
    in_answer_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), index=True
    )
    #: A request's due date, and when and by whom it was closed.
    due_on: Mapped[date | None]
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    thread: Mapped[Thread] = relationship()
    author = relationship("User", foreign_keys=[author_id])
    closed_by = relationship("User", foreign_keys=[closed_by_id])
    attachments = relationship(
        "Document",
        primaryjoin="Message.id == Document.message_id",
        order_by="Document.id",
        viewonly=True,
    )

    @property
    def is_open(self) -> bool:
        return self.kind == "request" and self.closed_at is None


class ThreadRead(db.Model):
    """How far one person has read one thread."""

    __tablename__ = "thread_reads"

    thread_id: Mapped[int] = mapped_column(
        ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    last_read_id: Mapped[int]
    read_at: Mapped[datetime] = mapped_column(default=utcnow)
