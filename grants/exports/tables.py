"""Officers' exports as rows: applications of a call, its ranking, tranches and
payments, reports' indicators. Each export is a ``spreadsheets.Table``: typed columns and
a generator of plain tuples read in batches (``yield_per``), so 100,000 applications
never sit in memory at once; ``spreadsheets`` streams them to the response as CSV or XLSX."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import Select, select

from grants.exports.spreadsheets import (
    BOOLEAN,
    DATE,
    DATETIME,
    INTEGER,
    MONEY,
    NUMBER,
    Column,
    Table,
)
from grants.extensions import db
from grants.i18n import select_locale
from grants.models.applications import Application
from grants.models.associations import Association
from grants.models.awards import Award, Report, Tranche
from grants.models.calls import Call
from grants.models.documents import Document
from grants.models.questions import Answer, Question
from grants.services import questions as call_questions

if TYPE_CHECKING:
    from grants.services.ranking import Ranking

BATCH = 1000


def _stream(statement: Select) -> Iterator[tuple]:
    """Rows in batches; on PostgreSQL through a server-side cursor."""
    result = db.session.execute(statement.execution_options(yield_per=BATCH))
    for partition in result.partitions():
        yield from (tuple(row) for row in partition)


def applications_of(call: Call) -> Table:
    """One row per application, and one column per question of the call's own (its
    newest version; an answer to an earlier version is matched by the question's key)."""
    asked = call_questions.latest_set(call)
    asked_questions = asked.questions if asked else []
    locale = select_locale()
    statement = (
        select(
            Application.id,
            Application.reference,
            Association.name,
            Application.title,
            Application.country,
            Application.state,
            Application.amount_requested,
            Application.budget_currency,
            Application.submitted_at,
        )
        .join(Association, Association.id == Application.association_id)
        .where(Application.call_id == call.id)
        .order_by(Application.id)
    )
    return Table(
        f"applications-{call.code}",
        _("Applications"),
        (
            Column(_("Reference"), width=16),
            Column(_("Association"), width=32),
            Column(_("Title"), width=48),
            Column(_("Country"), width=9),
            Column(_("State"), width=14),
            Column(_("Amount requested"), MONEY),
            Column(_("Budget currency"), width=9),
            Column(_("Submitted at"), DATETIME),
            *(Column(q.text("label", locale), width=32) for q in asked_questions),
        ),
        _with_answers(statement, [q.key for q in asked_questions], locale),
    )


def _with_answers(statement: Select, keys: list[str], locale: str) -> Iterator[tuple]:
    """The rows (the application's id first, dropped) followed by the answers to the
    questions ``keys``, read for each batch of rows in two statements."""
    result = db.session.execute(statement.execution_options(yield_per=BATCH))
    for partition in result.partitions():
        rows = [tuple(row) for row in partition]
        if not keys:
            yield from (row[1:] for row in rows)
            continue
        ids = [row[0] for row in rows]
        texts: dict[int, dict[str, str]] = defaultdict(dict)
        answers = db.session.execute(
            select(Answer.application_id, Answer.value, Question)
            .join(Question, Question.id == Answer.question_id)
            .where(Answer.application_id.in_(ids))
        )
        for application_id, value, question in answers:
            texts[application_id][question.key] = call_questions.answer_text(
                question, value, locale
            )
        files = db.session.execute(
            select(Document.application_id, Document.purpose, Document.filename).where(
                Document.application_id.in_(ids),
                Document.purpose.startswith("question-"),
                Document.replaced_by_id.is_(None),
            )
        )
        for application_id, purpose, filename in files:
            texts[application_id][purpose.removeprefix("question-")] = filename
        for row in rows:
            answered = texts.get(row[0], {})
            yield (*row[1:], *(answered.get(key, "") for key in keys))


def tranches_and_payments() -> Table:
    statement = (
        select(
            Application.reference,
            Association.name,
            Tranche.position,
            Tranche.amount,
            Award.currency,
            Tranche.state,
            Tranche.requested_at,
            Tranche.paid_at,
            Tranche.payment_date,
            Tranche.bank_reference,
        )
        .join(Award, Award.id == Tranche.award_id)
        .join(Application, Application.id == Award.application_id)
        .join(Association, Association.id == Award.association_id)
        .order_by(Award.id, Tranche.position)
    )
    return Table(
        "tranches-and-payments",
        _("Tranches and payments"),
        (
            Column(_("Grant"), width=16),
            Column(_("Association"), width=32),
            Column(_("Tranche"), INTEGER),
            Column(_("Amount"), MONEY),
            Column(_("Currency"), width=9),
            Column(_("State"), width=14),
            Column(_("Requested at"), DATETIME),
            Column(_("Paid at"), DATETIME),
            Column(_("Payment date"), DATE),
            Column(_("Bank reference"), width=24),
        ),
        _stream(statement),
    )


def _figure(value: object) -> Decimal | object:
    """An indicator's figure (stored as the text of a decimal) as a number."""
    if not isinstance(value, str) or not value:
        return value or None
    try:
        return Decimal(value)
    except InvalidOperation:
        return value


def report_indicators() -> Table:
    """One row per report and indicator: the value, or women and men."""
    statement = (
        select(
            Application.reference,
            Report.kind,
            Report.due_date,
            Report.state,
            Report.indicator_values,
            Call.indicators,
            Call.language,
        )
        .join(Award, Award.id == Report.award_id)
        .join(Application, Application.id == Award.application_id)
        .join(Call, Call.id == Application.call_id)
        .order_by(Report.id)
    )

    def rows() -> Iterator[tuple]:
        for reference, kind, due, state, values, indicators, language in _stream(statement):
            for index, indicator in enumerate(indicators or []):
                value = (values or {}).get(str(index), {})
                names = indicator.get("name") or {}
                name = names.get(language) or next(iter(names.values()), "")
                yield (
                    reference,
                    kind,
                    due,
                    state,
                    name,
                    _figure(value.get("value")),
                    _figure(value.get("women")),
                    _figure(value.get("men")),
                )

    return Table(
        "report-indicators",
        _("Indicators"),
        (
            Column(_("Grant"), width=16),
            Column(_("Report"), width=10),
            Column(_("Due"), DATE),
            Column(_("State"), width=14),
            Column(_("Indicator"), width=40),
            Column(_("Value"), NUMBER),
            Column(_("Women"), NUMBER),
            Column(_("Men"), NUMBER),
        ),
        rows(),
    )


def payment_run(tranches: Iterable[Tranche]) -> Table:
    """The bank's payment file: one row per tranche, with the account to pay and the
    reference the association will read on its statement.

    Its rows are read now, while the request's session holds the tranches: a streamed
    body is written after the request has ended, when they can no longer load what they
    point at (a run is at most a few hundred tranches)."""

    def rows() -> Iterator[tuple]:
        for tranche in tranches:
            award = tranche.award
            reference = award.application.reference or str(award.id)
            yield (
                tranche.id,
                reference,
                award.application.association.name,
                award.account_holder,
                award.iban,
                award.account_number,
                award.bank_name,
                award.bic,
                tranche.amount,
                award.currency,
                tranche.payment_reference,
            )

    return Table(
        "payment-run",
        _("Payment run"),
        (
            Column(_("Tranche"), INTEGER),
            Column(_("Reference"), width=16),
            Column(_("Association"), width=32),
            Column(_("Account holder"), width=32),
            Column(_("IBAN"), width=34),
            Column(_("Account number"), width=20),
            Column(_("Bank"), width=24),
            Column(_("SWIFT/BIC"), width=12),
            Column(_("Amount"), MONEY),
            Column(_("Currency"), width=9),
            Column(_("Payment reference"), width=22),
        ),
        list(rows()),
    )


def ranking(call: Call, result: Ranking) -> Table:
    """The ranking page's table, the same columns as the page.

    Its rows are read now, while the request's session holds the ranked applications: a
    streamed body is written after the request has ended, when they can no longer load
    their association."""
    rows = []
    for row in result.rows:
        application = result.applications[row.application_id]
        rows.append(
            (
                row.rank,
                application.reference,
                application.association.name,
                application.country or "",
                row.amount_requested,
                row.cumulative,
                row.within_envelope,
                row.score.raw_mean,
                row.score.normalised_mean,
                row.score.std,
                "; ".join(map(str, row.score.disagreement_reasons)),
                row.score.reviews,
                result.assigned.get(row.application_id, 0),
            )
        )
    return Table(
        f"ranking-{call.code}",
        _("Ranking"),
        (
            Column(_("Rank"), INTEGER),
            Column(_("Reference"), width=16),
            Column(_("Association"), width=32),
            Column(_("Country"), width=9),
            Column(_("Requested"), MONEY),
            Column(_("Cumulative"), MONEY),
            Column(_("Within the envelope"), BOOLEAN),
            Column(_("Raw mean"), NUMBER),
            Column(_("Normalised mean"), NUMBER),
            Column(_("Standard deviation"), NUMBER),
            Column(_("Disagreement"), width=48),
            Column(_("Reviews submitted"), INTEGER),
            Column(_("Reviews assigned"), INTEGER),
        ),
        rows,
    )


def _changes_text(changes: dict) -> str:
    """A row's changes as one cell: ``field: before → after``, one field a line."""
    return "\n".join(
        f"{name}: {json.dumps(pair[0], ensure_ascii=False)} → "
        f"{json.dumps(pair[1], ensure_ascii=False)}"
        for name, pair in (changes or {}).items()
        if isinstance(pair, list | tuple) and len(pair) == 2
    )


def audit_trail(statement: Select) -> Table:
    """The audit rows ``statement`` (``services.audit.filtered``) keeps, newest first."""
    from grants.models.accounts import User
    from grants.models.audit import AuditRow

    columns = statement.with_only_columns(
        AuditRow.id,
        AuditRow.at,
        User.full_name,
        AuditRow.actor_email,
        AuditRow.kind,
        AuditRow.record_type,
        AuditRow.record_id,
        AuditRow.remote_address,
        AuditRow.user_agent,
        AuditRow.changes,
        AuditRow.note,
    ).outerjoin(User, User.id == AuditRow.actor_id)

    def rows() -> Iterator[tuple]:
        for row in _stream(columns):
            yield (*row[:9], _changes_text(row[9]), row[10])

    return Table(
        "audit-trail",
        _("Audit trail"),
        (
            Column(_("Number"), INTEGER),
            Column(_("When"), DATETIME),
            Column(_("Who"), width=24),
            Column(_("Email"), width=28),
            Column(_("Event"), width=22),
            Column(_("Record"), width=12),
            Column(_("Record number"), INTEGER),
            Column(_("Address"), width=16),
            Column(_("Browser"), width=32),
            Column(_("Changes (before → after)"), width=60),
            Column(_("Note"), width=24),
        ),
        rows(),
    )
