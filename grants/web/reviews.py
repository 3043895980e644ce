"""The evaluator's side: the queue, the conflict-of-interest step, the scoring page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_security import current_user
from sqlalchemy import select

from grants.extensions import db
from grants.i18n import select_locale
from grants.models.reviews import Review
from grants.roles import EVALUATOR
from grants.services import evaluation as service
from grants.services import questions as call_questions
from grants.services import review_documents
from grants.services.errors import GuardFailed, InvalidInput
from grants.web.access import role_required

blueprint = Blueprint("reviews", __name__, url_prefix="/reviews")


@blueprint.get("/")
@role_required(EVALUATOR)
def queue():
    page = db.paginate(
        select(Review)
        .where(Review.evaluator_id == current_user.id, Review.state != "conflicted")
        .order_by(Review.state, Review.assigned_at.desc(), Review.id),
        page=request.args.get("page", 1, type=int),
        per_page=25,
        error_out=False,
    )
    return render_template("reviews/queue.html", reviews=page)


@blueprint.route("/<int:review_id>", methods=["GET", "POST"])
@role_required(EVALUATOR)
def show(review_id: int):
    review = service.own_review(current_user, review_id)
    if review.no_conflict_attested_at is None:
        return render_template("reviews/conflict.html", review=review)
    criteria = review.application.call.criteria
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        scores = {}
        for criterion in criteria:
            raw = request.form.get(f"score-{criterion.id}", "").strip()
            value = int(raw) if raw.lstrip("-").isdigit() else None
            if raw and value is None:
                errors[f"score-{criterion.id}"] = [_("Choose a score from the list.")]
            scores[criterion.id] = (value, request.form.get(f"comment-{criterion.id}", ""))
        if not errors:
            try:
                service.save_scores(
                    current_user,
                    review,
                    scores,
                    request.form.get("recommendation") or None,
                    request.form.get("overall_comment", ""),
                )
            except InvalidInput as invalid:
                errors = invalid.errors
        if not errors and "submit" in request.form:
            try:
                service.submit_review(current_user, review)
            except GuardFailed as refused:
                errors = {"submit": refused.reasons}
        if not errors:
            flash(
                _("Your review is submitted.")
                if "submit" in request.form
                else _("Saved as a draft."),
                "success",
            )
            return redirect(url_for("reviews.show", review_id=review.id), code=303)
        status = 422
    return render_template(
        "reviews/score.html",
        review=review,
        criteria=criteria,
        scores={s.criterion_id: s for s in review.scores},
        errors=errors,
        documents=review_documents.review_documents(review),
        form=request.form,
        others=service.other_totals(review),
        answers=call_questions.answers_for_reading(
            review.application, select_locale(), blind=review.application.call.blind_review
        ),
        scored=call_questions.scored_questions(
            review.application, select_locale(), blind=review.application.call.blind_review
        ),
    ), status


@blueprint.post("/<int:review_id>/attest")
@role_required(EVALUATOR)
def attest(review_id: int):
    review = service.own_review(current_user, review_id)
    service.attest_no_conflict(current_user, review)
    return redirect(url_for("reviews.show", review_id=review.id), code=303)


@blueprint.post("/<int:review_id>/conflict")
@role_required(EVALUATOR)
def conflict(review_id: int):
    review = service.own_review(current_user, review_id)
    try:
        service.declare_conflict(current_user, review, request.form.get("reason", ""))
    except GuardFailed as refused:
        for reason in refused.reasons:
            flash(reason, "error")
        return redirect(url_for("reviews.show", review_id=review.id), code=303)
    flash(_("Thank you. The programme officer is told and will assign someone else."), "success")
    return redirect(url_for("reviews.queue"), code=303)


@blueprint.get("/<int:review_id>/documents/<int:review_document_id>")
@role_required(EVALUATOR)
def document(review_id: int, review_document_id: int):
    """A link to the file, or in a blind call its copy without metadata, sent from here."""
    return review_documents.download(current_user, review_id, review_document_id).response()
