"""The grant pages: the award with its letter, acceptance, bank details, tranches and
reports, for the association and the programme office alike; and the finance pages:
the queue, the payment run with its export, and the programme's totals."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_security import current_user
from sqlalchemy import select

from forms.awards import (
    AcceptForm,
    BankChangeForm,
    PaymentForm,
    ReasonForm,
    RefundForm,
    ReportReviewForm,
)
from forms.payments import PaymentFileForm
from grants.exports import spreadsheets, tables
from grants.extensions import db
from grants.freshness import fresh_required, needs_fresh, unless_fresh
from grants.models.awards import BankDetailsChange, Tranche
from grants.models.documents import Document
from grants.numbers import reader_locale
from grants.roles import FINANCE_OFFICER, PROGRAMME_OFFICER
from grants.security import safe_next
from grants.services import (
    audit,
    bank_changes,
    disbursements,
    figures,
    payment_files,
    payment_runs,
)
from grants.services import awards as service
from grants.services import documents as document_service
from grants.services.associations import is_member
from grants.services.award_letters import LettersCannotBeSigned
from grants.services.errors import DomainError, GuardFailed, InvalidInput, NotPermitted
from grants.services.workflow import allowed_transitions, fire, history_of
from grants.web.access import login_required, role_required
from grants.web.forms import attach_errors, field_errors
from grants.web.uploads import store_upload

blueprint = Blueprint("awards", __name__)

TRANCHE_FORMS = {"pay": PaymentForm, "fail": ReasonForm, "return": ReasonForm, "cancel": ReasonForm}


def _page(award_id: int, anchor: str | None = None) -> str:
    return url_for("awards.show", award_id=award_id, _anchor=anchor)


@blueprint.get("/grants/")
@login_required
def index():
    state = request.args.get("state", "")
    return render_template(
        "awards/index.html",
        awards=service.awards_for(current_user, state, request.args.get("page", 1, type=int)),
        state=state,
    )


@blueprint.get("/grants/<int:award_id>")
@login_required
def show(award_id: int):
    award = service.visible_award(current_user, award_id)
    return _render_show(award)


def _render_show(
    award, accept_form=None, bank_form=None, refund_form=None, status=200, decision_errors=None
):
    member = is_member(current_user, award.application.association)
    staff = bool(service.STAFF & current_user.role_names)
    change = bank_changes.pending_bank_change(award) if member or staff else None
    moments = service.timeline(award)
    tranche_options = {
        t.id: [
            o for o in allowed_transitions(t, current_user, only_own_roles=True) if o.status != 409
        ]
        for t in award.tranches
    }
    return (
        render_template(
            "awards/show.html",
            award=award,
            member=member,
            staff=staff,
            finance=FINANCE_OFFICER in current_user.role_names,
            officer=PROGRAMME_OFFICER in current_user.role_names,
            moments=moments,
            next_due=service.next_due(moments),
            tranche_options=tranche_options,
            payment_form=PaymentForm(formdata=None, amount=None, payment_date=date.today()),
            reason_form=ReasonForm(formdata=None),
            accept_form=accept_form or AcceptForm(formdata=None),
            bank_form=bank_form or BankChangeForm(formdata=None),
            refund_form=refund_form or RefundForm(formdata=None),
            change=change,
            change_options=allowed_transitions(change, current_user, only_own_roles=True)
            if change
            else [],
            decision_errors=decision_errors or {},
            decided_changes=bank_changes.decided_bank_changes(award) if member or staff else [],
            ledger=disbursements.ledger(award) if staff else [],
            options=allowed_transitions(award, current_user, only_own_roles=True),
            history=history_of(award),
            audit_rows=audit.record_trail(current_user, "award", award.id),
        ),
        status,
    )


@blueprint.get("/grants/<int:award_id>/letter.pdf")
@login_required
def letter(award_id: int):
    award = service.visible_award(current_user, award_id)
    language = service.letter_language(award, request.args.get("lang"), str(get_locale()))
    body = service.award_letter(award, language)
    name = f"award-letter-{award.application.reference or award.id}-{language}.pdf"
    return Response(
        body,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@blueprint.post("/grants/<int:award_id>/accept")
@login_required
def accept(award_id: int):
    award = service.visible_award(current_user, award_id)
    if not is_member(current_user, award.application.association):
        abort(403)
    form = AcceptForm()
    if not form.validate_on_submit():
        return _render_show(award, accept_form=form, status=422)
    data = {
        "letter_read": form.letter_read.data,
        "signatory_name": form.signatory_name.data,
        "signatory_role": form.signatory_role.data,
        **form.bank_details(),
    }
    try:
        service.accept(
            current_user,
            award,
            data,
            letter_locale=service.letter_language(award, None, str(get_locale())),
        )
    except GuardFailed as refused:
        for reason in refused.reasons:
            flash(reason, "error")
        return _render_show(award, accept_form=form, status=422)
    except LettersCannotBeSigned as refused:
        flash(refused.message, "error")
        return _render_show(award, accept_form=form, status=refused.status)
    flash(_("The award is accepted: the grant is active."), "success")
    return redirect(_page(award.id), code=303)


@blueprint.post("/grants/<int:award_id>/bank-details")
@login_required
@fresh_required
def change_bank_details(award_id: int):
    award = service.visible_award(current_user, award_id)
    bank_changes.check_may_request(current_user, award)
    form = BankChangeForm()
    if not form.validate_on_submit():
        return _render_show(award, bank_form=form, status=422)
    try:
        change = bank_changes.request_bank_change(
            current_user, award, form.bank_details(), form.reason.data
        )
    except GuardFailed as refused:
        form.form_errors = list(form.form_errors) + [str(r) for r in refused.reasons]
        return _render_show(award, bank_form=form, status=422)
    except InvalidInput as refused:
        attach_errors(form, refused)
        return _render_show(award, bank_form=form, status=422)
    flash(str(BankDetailsChange.lifecycle.result("request", change)), "success")
    return redirect(_page(award.id, "bank"), code=303)


@blueprint.post("/grants/bank-changes/<int:change_id>/<decision>")
@login_required
@fresh_required
def decide_bank_change(change_id: int, decision: str):
    """Approve, refuse or withdraw a change of bank details (``reject`` is the older
    word for ``refuse``); who may is the lifecycle's."""
    transition = "refuse" if decision == "reject" else decision
    if transition not in bank_changes.DECISIONS:
        abort(404)
    try:
        change = bank_changes.act(
            current_user,
            change_id,
            transition,
            comment=request.form.get("comment", "").strip() or None,
            version=request.form.get("version"),
        )
    except GuardFailed as refused:
        change = bank_changes.visible_change(current_user, change_id)
        return _render_show(
            change.award,
            status=422,
            decision_errors={transition: [str(r) for r in refused.reasons]},
        )
    flash(str(BankDetailsChange.lifecycle.result(transition, change)), "success")
    return redirect(_page(change.award_id, "bank"), code=303)


@blueprint.post("/grants/tranches/<int:tranche_id>/<action>")
@role_required(PROGRAMME_OFFICER, FINANCE_OFFICER)
def tranche_action(tranche_id: int, action: str):
    tranche = db.session.get(Tranche, tranche_id)
    if tranche is None or action not in disbursements.TRANCHE_ACTIONS:
        abort(404)
    if needs_fresh("tranche", action) and (answer := unless_fresh()) is not None:
        return answer
    back = safe_next(request.form.get("next"), _page(tranche.award_id, f"tranche-{tranche.id}"))
    form_class = TRANCHE_FORMS.get(action)
    data, comment = {}, None
    if form_class is not None:
        form = form_class()
        if not form.validate_on_submit():
            for problem in field_errors(form):
                flash(f"{problem.label}: {problem.message}", "error")
            return redirect(back, code=303)
        if action == "pay":
            data = dict(
                payment_date=form.payment_date.data,
                bank_reference=form.bank_reference.data,
                amount=form.amount.data,
            )
        else:
            comment = form.comment.data
    try:
        disbursements.act(current_user, tranche_id, action, comment=comment, **data)
    except (GuardFailed, NotPermitted) as refused:
        for reason in getattr(refused, "reasons", [refused.message]):
            flash(reason, "error")
        return redirect(back, code=303)
    flash(str(Tranche.lifecycle.result(action, tranche)), "success")
    return redirect(back, code=303)


@blueprint.post("/grants/<int:award_id>/refund")
@role_required(FINANCE_OFFICER)
def refund(award_id: int):
    award = service.visible_award(current_user, award_id)
    form = RefundForm()
    if not form.validate_on_submit():
        return _render_show(award, refund_form=form, status=422)
    try:
        disbursements.record_refund(
            current_user, award.id, form.amount.data, form.value_date.data, form.reference.data
        )
    except InvalidInput as refused:
        attach_errors(form, refused)
        return _render_show(award, refund_form=form, status=422)
    flash(_("The refund is on the ledger."), "success")
    return redirect(_page(award.id, "ledger"), code=303)


# --- reports --------------------------------------------------------------------------------


@blueprint.route("/grants/<int:award_id>/reports/<int:report_id>", methods=["GET", "POST"])
@login_required
def report(award_id: int, report_id: int):
    report = service.visible_report(current_user, award_id, report_id)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        try:
            service.save_report(
                current_user, report, request.form.to_dict(), locale=reader_locale()
            )
        except InvalidInput as refused:
            errors, status = refused.errors, 422
            flash(refused.message, "error")
        else:
            flash(_("The report is saved."), "success")
            return redirect(
                url_for("awards.report", award_id=award_id, report_id=report_id), code=303
            )
    member = is_member(current_user, report.award.application.association)
    return (
        render_template(
            "awards/report.html",
            report=report,
            award=report.award,
            member=member,
            editable=member and report.state in ("scheduled", "changes_requested"),
            rows=service.spending_rows(report),
            period_share=service.report_period_share(report),
            errors=errors,
            form_values=request.form if status != 200 else {},
            review_form=ReportReviewForm(formdata=None),
            options=allowed_transitions(report, current_user, only_own_roles=True),
            documents=db.session.scalars(
                select(Document)
                .where(Document.report_id == report.id, Document.replaced_by_id.is_(None))
                .order_by(Document.id)
            ).all(),
            history=history_of(report),
        ),
        status,
    )


@blueprint.post("/grants/<int:award_id>/reports/<int:report_id>/submit")
@login_required
def submit_report(award_id: int, report_id: int):
    report = service.visible_report(current_user, award_id, report_id)
    back = url_for("awards.report", award_id=award_id, report_id=report_id)
    try:
        fire(report, "submit", current_user)
    except GuardFailed as refused:
        for reason in refused.reasons:
            flash(reason, "error")
        return redirect(back, code=303)
    flash(_("The report is submitted to the programme office."), "success")
    return redirect(back, code=303)


@blueprint.post("/grants/<int:award_id>/reports/<int:report_id>/review")
@role_required(PROGRAMME_OFFICER)
def review_report(award_id: int, report_id: int):
    report = service.visible_report(current_user, award_id, report_id)
    back = url_for("awards.report", award_id=award_id, report_id=report_id)
    if request.form.get("decision") == "accept":
        fire(report, "accept", current_user)
        flash(_("The report is accepted."), "success")
        return redirect(back, code=303)
    form = ReportReviewForm()
    if not form.validate_on_submit():
        for problem in field_errors(form):
            flash(problem.message, "error")
        return redirect(back, code=303)
    try:
        service.request_changes(
            current_user, report, {name: form[name].data or "" for name in service.SECTIONS}
        )
    except InvalidInput as refused:
        flash(refused.message, "error")
        return redirect(back, code=303)
    flash(_("The association is asked for changes."), "success")
    return redirect(back, code=303)


@blueprint.post("/grants/<int:award_id>/reports/<int:report_id>/documents")
@login_required
def upload_report_document(award_id: int, report_id: int):
    back = url_for("awards.report", award_id=award_id, report_id=report_id, _anchor="documents")
    try:
        report = service.report_taking_documents(current_user, award_id, report_id)
    except InvalidInput as refused:
        flash(refused.message, "error")
        return redirect(back, code=303)
    return store_upload(back, report=report)


@blueprint.get("/grants/reports/documents/<int:report_document_id>")
@login_required
def download_report_document(report_document_id: int):
    document = db.session.get(Document, report_document_id)
    if document is None or document.report_id is None:
        abort(404)
    report = document.report
    service.visible_report(current_user, report.award_id, report.id)
    return redirect(document_service.download_for(current_user, document), code=302)


# --- finance ------------------------------------------------------------------------------


@blueprint.get("/finance/")
@role_required(*figures.readers("finance_queue"))
def queue():
    kind = request.args.get("queue", "approve")
    if kind not in disbursements.QUEUES:
        abort(404)
    pagination = disbursements.queue(kind, current_user, request.args.get("page", 1, type=int))
    return render_template(
        "finance/queue.html",
        kind=kind,
        pagination=pagination,
        rows=disbursements.queue_rows(pagination),
        totals={k: disbursements.queue_totals(k, current_user) for k in disbursements.QUEUES},
        payment_form=PaymentForm(formdata=None, payment_date=date.today()),
        reason_form=ReasonForm(formdata=None),
    )


@blueprint.get("/finance/run")
@role_required(*figures.readers("payment_run"))
def payment_run():
    """Approved tranches to pay; the selection is the run, exported for the bank."""
    run = payment_runs.current_run(current_user)
    payable = run.tranches
    chosen = request.args.getlist("tranche", type=int)
    selected = [t for t in payable if t.id in chosen] if chosen else []
    kind = request.args.get("format")
    if kind in spreadsheets.FORMATS:
        try:
            selected = payment_runs.chosen_for_file(current_user, [t.id for t in selected])
        except DomainError as refused:
            flash(refused.message, "error")
            back = url_for("awards.payment_run", tranche=chosen) if selected else None
            return redirect(back or url_for("awards.payment_run"), code=303)
        return spreadsheets.response(
            audit.exported(current_user, tables.payment_run(selected), kind), kind
        )
    return render_template(
        "finance/run.html",
        payable=payable,
        selected=selected,
        chosen=set(chosen),
        debtor_accounts=payment_files.debtor_accounts() if selected else [],
        file_form=PaymentFileForm(formdata=None, execution_date=date.today()),
        payment_form=PaymentForm(formdata=None, payment_date=date.today()),
        reason_form=ReasonForm(formdata=None),
    )


@blueprint.get("/finance/totals")
@role_required(*figures.readers("programme_totals"))
def totals():
    by = request.args.get("by", "call")
    if by not in ("call", "sector", "country"):
        abort(404)
    return render_template("finance/totals.html", by=by, rows=disbursements.programme_totals(by))
