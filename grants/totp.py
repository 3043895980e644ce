"""Two-factor codes for Flask-Security, each accepted once."""

from __future__ import annotations

from flask_security.totp import Totp


class ReplayProofTotp(Totp):
    """A TOTP code works once: the last accepted time step is kept on the user, so a code
    seen over someone's shoulder cannot be replayed within its 30 seconds."""

    def get_last_counter(self, user):  # type: ignore[override]
        return user.tf_totp_last_counter

    def set_last_counter(self, user, tmatch):  # type: ignore[override]
        user.tf_totp_last_counter = tmatch.counter
