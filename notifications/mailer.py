"""Sending email: over SMTP through Flask-Mail, or to the log when no server is set.

The embedded default has no SMTP server, so a newcomer still sees every email (a
confirmation link, a reset link) in the terminal running ``make run``.
"""

from __future__ import annotations

import logging

from flask import current_app
from flask_mail import Message
from flask_security import MailUtil

log = logging.getLogger("notifications.mail")


def send_email(
    recipient: str,
    subject: str,
    text: str,
    html: str | None = None,
    sender: str | tuple[str, str] | None = None,
    message_id: str | None = None,
) -> None:
    """Send one email now; raises the SMTP error so a caller can retry."""
    sender = sender or current_app.config["MAIL_DEFAULT_SENDER"]
    if not current_app.config.get("MAIL_SERVER"):
        log.info("Email to %s: %s\n%s", recipient, subject, text)
        return
    message = Message(subject, sender=sender, recipients=[recipient], body=text, html=html)
    if message_id:
        message.msgId = message_id
    current_app.extensions["mail"].send(message)


class SecurityMailUtil(MailUtil):
    """Routes Flask-Security's account emails (confirmation, password reset) through
    ``send_email``, so they are printed like every other email when no server is set.
    Flask-Security takes this class only when constructed (see ``grants.extensions``)."""

    def send_mail(self, template, subject, recipient, sender, body, html, **kwargs):  # type: ignore[override]
        if isinstance(sender, tuple):
            sender = (str(sender[0]), str(sender[1]))
        send_email(str(recipient), str(subject), body or "", html, sender=sender or None)
