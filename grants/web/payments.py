"""The finance pages for the bank: the programme's accounts, the payment files of the
payment run (pain.001) and the statements that confirm them (camt.053)."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_security import current_user

from forms.payments import CancelFileForm, DebtorAccountForm, PaymentFileForm, StatementForm
from grants.roles import ADMIN
from grants.services import figures, payment_files, statements
from grants.services.errors import DomainError, InvalidInput
from grants.web.access import role_required
from grants.web.forms import attach_errors, field_errors

blueprint = Blueprint("payments", __name__, url_prefix="/finance")


# --- the programme's accounts -------------------------------------------------------------


@blueprint.get("/accounts")
@role_required(*figures.readers("debtor_accounts"))
def accounts():
    return _accounts_page(DebtorAccountForm(formdata=None))


def _accounts_page(form, status: int = 200):
    return render_template(
        "finance/accounts.html", accounts=payment_files.debtor_accounts(), form=form
    ), status


@blueprint.post("/accounts")
@role_required(ADMIN)
def add_account():
    form = DebtorAccountForm()
    if not form.validate_on_submit():
        return _accounts_page(form, 422)
    try:
        account = payment_files.add_debtor_account(
            current_user, form.name.data, form.iban.data, form.bic.data, form.currency.data
        )
    except InvalidInput as refused:
        attach_errors(form, refused)
        return _accounts_page(form, 422)
    flash(_("The account %(name)s is added.", name=account.name), "success")
    return redirect(url_for("payments.accounts"), code=303)


# --- payment files ------------------------------------------------------------------------


@blueprint.get("/files")
@role_required(*figures.readers("payment_files"))
def files():
    return render_template(
        "finance/files.html",
        pagination=payment_files.payment_files(current_user, request.args.get("page", 1, type=int)),
    )


@blueprint.post("/files")
@role_required(*figures.readers("payment_files"))
def generate_files():
    """Generate the files of the chosen tranches; a refusal goes back to the run."""
    chosen = request.form.getlist("tranche", type=int)
    back = (
        url_for("awards.payment_run", tranche=chosen) if chosen else url_for("awards.payment_run")
    )
    form = PaymentFileForm()
    if not form.validate_on_submit():
        for problem in field_errors(form):
            flash(problem.message, "error")
        return redirect(back, code=303)
    accounts = {
        key.removeprefix("account_"): request.form.get(key, type=int)
        for key in request.form
        if key.startswith("account_")
    }
    try:
        made = payment_files.generate(
            current_user,
            chosen,
            accounts,
            form.execution_date.data,
            current_app.config["PROGRAMME_NAME"],
        )
    except DomainError as refused:
        flash(refused.message, "error")
        return redirect(back, code=303)
    flash(
        ngettext(
            "%(num)d payment file is generated; download it for the bank.",
            "%(num)d payment files are generated; download them for the bank.",
            len(made),
        ),
        "success",
    )
    if len(made) == 1:
        return redirect(url_for("payments.file", file_id=made[0].id), code=303)
    return redirect(url_for("payments.files"), code=303)


@blueprint.get("/files/<int:file_id>")
@role_required(*figures.readers("payment_files"))
def file(file_id: int):
    return _file_page(
        payment_files.payment_file(current_user, file_id), CancelFileForm(formdata=None)
    )


def _file_page(payment_file, form, status: int = 200):
    return render_template("finance/file.html", payment_file=payment_file, cancel_form=form), status


@blueprint.get("/files/<int:file_id>/pain.001.xml")
@role_required(*figures.readers("payment_files"))
def download_file(file_id: int):
    payment_file = payment_files.payment_file(current_user, file_id)
    content = payment_files.content_of(current_user, payment_file)
    return Response(
        content,
        mimetype=payment_files.CONTENT_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{payment_file.message_id}.xml"',
            "Cache-Control": "private, no-store",
        },
    )


@blueprint.post("/files/<int:file_id>/cancel")
@role_required(*figures.readers("payment_files"))
def cancel_file(file_id: int):
    form = CancelFileForm()
    if not form.validate_on_submit():
        return _file_page(payment_files.payment_file(current_user, file_id), form, 422)
    try:
        payment_files.cancel(current_user, file_id, form.reason.data)
    except InvalidInput as refused:
        attach_errors(form, refused)
        return _file_page(payment_files.payment_file(current_user, file_id), form, 422)
    except DomainError as refused:
        flash(refused.message, "error")
        return redirect(url_for("payments.file", file_id=file_id), code=303)
    flash(_("The payment file is cancelled; its tranches may go in another file."), "success")
    return redirect(url_for("payments.file", file_id=file_id), code=303)


# --- statements ---------------------------------------------------------------------------


@blueprint.get("/statements")
@role_required(*figures.readers("statements"))
def statements_page():
    return _statements_page(StatementForm(formdata=None))


def _statements_page(form, status: int = 200):
    return render_template(
        "finance/statements.html",
        form=form,
        pagination=statements.statements(current_user, request.args.get("page", 1, type=int)),
        to_resolve=statements.to_resolve(current_user, request.args.get("lines", 1, type=int)),
        awaiting=payment_files.awaiting_statement(),
    ), status


@blueprint.post("/statements")
@role_required(*figures.readers("statements"))
def import_statement():
    form = StatementForm()
    upload = request.files.get("statement")
    if not form.validate_on_submit():
        return _statements_page(form, 422)
    if upload is None or not upload.filename:
        form.statement.errors = [_("Choose the statement file the bank sent.")]
        return _statements_page(form, 422)
    try:
        result = statements.import_statement(
            current_user, upload.filename, upload.stream.read(statements.SIZE_LIMIT + 1)
        )
    except InvalidInput as refused:
        attach_errors(form, refused)
        return _statements_page(form, 422)
    if result.already_imported:
        flash(
            _(
                "This statement was already imported on %(day)s; nothing changed.",
                day=format_date(result.statement.imported_at, "long"),
            ),
            "success",
        )
    else:
        flash(_("The statement is imported."), "success")
    return redirect(url_for("payments.statement", statement_id=result.statement.id), code=303)


@blueprint.get("/statements/<int:statement_id>")
@role_required(*figures.readers("statements"))
def statement(statement_id: int):
    found = statements.statement(current_user, statement_id)
    return render_template(
        "finance/statement.html",
        statement=found,
        awaiting=payment_files.awaiting_statement(found.debtor_account_id),
    )
