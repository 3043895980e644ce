"""Notifications: the mailer now; the outbox, reminders and the scheduler build on it."""
