"""Who hears of what is written in a thread, through the outbox, in their language and by
their preferences: what a member writes reaches the programme officers, what the staff
write reaches the association's members; internal notes reach no one. The author is
never told of their own message."""

from __future__ import annotations

from typing import Any

from grants.models.accounts import User
from grants.roles import PROGRAMME_OFFICER
from grants.services.conversations import Subject, message_posted
from notifications.outbox import Message, Value, write
from notifications.rules import N_, members_of, with_role

#: The texts of each event: (rule, subject, body).
TEXTS = {
    "message": (
        "thread_message",
        N_("New message on %(reference)s"),
        N_("%(author)s wrote about %(reference)s: %(excerpt)s"),
    ),
    "request": (
        "information_requested",
        N_("Information requested on %(reference)s, due %(due)s"),
        N_(
            "The programme office asks for information on %(reference)s by %(due)s: "
            "%(excerpt)s Answer in the conversation, with documents if asked; the "
            "application stays where it is meanwhile."
        ),
    ),
    "closed": (
        "information_request_closed",
        N_("The request for information on %(reference)s is closed"),
        N_("The programme office closed its request for information on %(reference)s."),
    ),
}
EXCERPT = 300


def recipients(message: Any, subject: Subject, event: str) -> list[User]:
    association = subject.association_id
    members = members_of({association})[association]
    if event == "note":
        return []
    if event == "message" and any(m.id == message.author_id for m in members):
        people = with_role(PROGRAMME_OFFICER)
    else:
        people = members
    return [person for person in people if person.id != message.author_id]


def _due(day: Any) -> Value:
    from babel.dates import format_date

    return lambda locale: format_date(day, "long", locale=locale) if day else ""


def notify(message: Any, subject: Subject, event: str) -> int:
    if event not in TEXTS:
        return 0
    people = recipients(message, subject, event)
    if not people:
        return 0
    rule, title, body = TEXTS[event]
    excerpt = " ".join(message.body.split())
    if len(excerpt) > EXCERPT:
        excerpt = excerpt[: EXCERPT - 1] + "…"
    author = message.author.display_name if message.author is not None else ""
    values: dict[str, Value] = {
        "reference": subject.application.reference or "",
        "author": author,
        "excerpt": excerpt,
        "due": _due(message.due_on),
    }
    outgoing = Message(
        rule, "conversations", title, body, "message", message.id, subject.link, values
    )
    return write([(outgoing, people, f"{rule}:{message.id}")])


@message_posted.connect
def _on_message_posted(message: Any, subject: Subject, event: str) -> None:
    notify(message, subject, event)
