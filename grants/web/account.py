"""A person's own settings: profile, language, time zone, API tokens."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_security import current_user

from forms.accounts import ProfileForm, TokenForm, preferences_form
from grants.services import accounts as account_service
from grants.web.access import login_required
from notifications import outbox
from notifications.rules import CATEGORIES

blueprint = Blueprint("account", __name__, url_prefix="/account")


@blueprint.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        account_service.update_profile(
            current_user, {name: form[name].data for name in account_service.PROFILE_FIELDS}
        )
        flash(_("Your settings are saved."), "success")
        return redirect(url_for("account.profile"))
    return render_template("account/profile.html", form=form)


@blueprint.route("/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        new_token = account_service.issue_token(
            current_user, current_user, form.name.data, form.days.data
        )
        form = TokenForm(formdata=None)
    return render_template(
        "account/tokens.html",
        form=form,
        tokens=account_service.user_tokens(current_user),
        new_token=new_token,
    )


@blueprint.post("/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    account_service.revoke_token(current_user, token_id)
    flash(_("The token is revoked."), "success")
    return redirect(url_for("account.tokens"))


@blueprint.route("/notifications", methods=["GET", "POST"])
@login_required
def notifications():
    """How the person receives each category; security and money always by email."""
    optional = [c for c in CATEGORIES.values() if not c.required]
    current = {p.category: p.mode for p in outbox.user_preferences(current_user.id)}
    form = preferences_form(optional, current)
    if form.validate_on_submit():
        outbox.set_preferences(current_user, {c.name: form[c.name].data for c in optional})
        flash(_("Your notification choices are saved."), "success")
        return redirect(url_for("account.notifications"))
    return render_template(
        "account/notifications.html",
        form=form,
        optional=optional,
        required=[c for c in CATEGORIES.values() if c.required],
    )
