"""Bulk actions: one action applied to many rows of the screening, assignment or grants
list, each row on its own.

Every row goes through the same path as its page's button (``actions.act`` and so
``fire`` with its guards, ``evaluation.assign``, the outbox), inside a savepoint of its
own: a row refused is rolled back to where it was and listed with the lifecycle's
sentences, while the rows done stay done. The run and each row's outcome are kept
(``BulkRun``), so the result page can be read again after the POST that did the work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload, selectinload

from grants import policy
from grants import text_limits as limits
from grants.extensions import db
from grants.models.accounts import Role, User
from grants.models.applications import Application
from grants.models.awards import Award
from grants.models.bulk_actions import BulkItem, BulkRun
from grants.models.calls import Call
from grants.orm import utcnow
from grants.roles import EVALUATOR, PROGRAMME_OFFICER
from grants.services import audit, evaluation
from grants.services.actions import act
from grants.services.errors import DomainError, Forbidden, InvalidInput
from grants.services.workflow import _load_what_guards_read
from notifications import outbox
from notifications.rules import N_, members_of

#: At most this many rows in one action: a page of 500 selected, with room to spare.
MOST_ROWS = 1000


@dataclass(frozen=True)
class BulkAction:
    name: str
    label: Any
    #: The lists that offer it.
    lists: tuple[str, ...]
    #: The text typed once for every row: "" (none), "reason", "comment" or "message".
    text: str = ""
    #: Whether evaluators are chosen for it.
    evaluators: bool = False


ACTIONS: dict[str, BulkAction] = {
    action.name: action
    for action in (
        BulkAction("mark_eligible", _l("Mark eligible"), ("screening",)),
        BulkAction("mark_ineligible", _l("Mark ineligible"), ("screening",), text="reason"),
        BulkAction("return_to_applicant", _l("Return for changes"), ("screening",), text="comment"),
        BulkAction("assign", _l("Assign evaluators"), ("assignments",), evaluators=True),
        BulkAction(
            "message",
            _l("Send a message"),
            ("screening", "assignments", "grants"),
            text="message",
        ),
        BulkAction("remind", _l("Remind"), ("screening", "assignments", "grants")),
    )
}
#: What each list acts on.
ENTITY_OF_LIST = {"screening": "application", "assignments": "application", "grants": "award"}
TEXT_REQUIRED = {
    "reason": _l("Give the reason the applicants will read."),
    "comment": _l("Say what the applicants should change."),
    "message": _l("Write the message to send."),
}


def actions_for(list_name: str) -> list[BulkAction]:
    return [action for action in ACTIONS.values() if list_name in action.lists]


@dataclass(frozen=True)
class Outcome:
    """What became of one row: done, or refused with the reasons."""

    entity_id: int
    reference: str
    reasons: tuple[str, ...] = ()


# --- checking the request ----------------------------------------------------------------


def _row_ids(raw: Iterable[Any]) -> list[int]:
    ids: list[int] = []
    for value in raw:
        text = str(value).strip()
        if not text.isdigit():
            raise InvalidInput(
                _("The rows chosen are not valid: reload the list and choose again."),
                {"ids": [_("Choose rows from the list.")]},
            )
        if int(text) not in ids:
            ids.append(int(text))
    return ids


def _check(
    officer: User,
    list_name: str,
    action_name: str,
    ids: list[int],
    text: str,
    evaluator_ids: Sequence[int],
) -> tuple[BulkAction, list[User]]:
    if PROGRAMME_OFFICER not in officer.role_names:
        raise Forbidden(_("Only a programme officer acts on many rows at once."))
    problems: dict[str, list[str]] = {}
    action = ACTIONS.get(action_name)
    if action is None or list_name not in action.lists:
        problems["action"] = [_("Choose one of the actions offered.")]
    if not ids:
        problems["ids"] = [_("Tick at least one row.")]
    elif len(ids) > MOST_ROWS:
        problems["ids"] = [_("At most %(count)s rows at once.", count=MOST_ROWS)]
    evaluators: list[User] = []
    if action is not None and action.text:
        if not text:
            problems["comment"] = [str(TEXT_REQUIRED[action.text])]
        else:
            too_long = limits.TRANSITION_COMMENT.problem(text)
            if too_long:
                problems["comment"] = [too_long]
    if action is not None and action.evaluators:
        evaluators = _evaluators(evaluator_ids)
        if not evaluator_ids:
            problems["evaluators"] = [_("Choose at least one evaluator.")]
        elif len(evaluators) != len(set(evaluator_ids)):
            problems["evaluators"] = [_("Choose evaluators from the list.")]
    if problems:
        raise InvalidInput(_("Nothing was done: correct the form and try again."), problems)
    assert action is not None
    return action, evaluators


def _evaluators(ids: Sequence[int]) -> list[User]:
    if not ids:
        return []
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.id.in_(set(ids)),
                User.active.is_(True),
                User.roles.any(Role.name == EVALUATOR),
            )
            .order_by(User.full_name, User.id)
        )
    )


# --- loading the rows --------------------------------------------------------------------


def _rows(officer: User, list_name: str, call: Call | None, ids: list[int]) -> dict[int, Any]:
    """The chosen rows the officer may see (``policy``), of the list's call; a row they
    may not see is refused like a row that does not exist."""
    if ENTITY_OF_LIST[list_name] == "award":
        statement = policy.AWARDS.select(officer).options(
            joinedload(Award.application).joinedload(Application.call)
        )
        model = Award
    else:
        statement = policy.APPLICATIONS.select(officer).options(
            joinedload(Application.call), joinedload(Application.association)
        )
        model = Application
        if call is not None:
            statement = statement.where(Application.call_id == call.id)
        if list_name == "assignments":
            statement = statement.options(selectinload(Application.reviews))
    records = db.session.scalars(statement.where(model.id.in_(ids))).unique().all()
    if model is Application:
        _load_what_guards_read(list(records))
    return {record.id: record for record in records}


def _reference(record: Any) -> str:
    application = record.application if isinstance(record, Award) else record
    return application.reference or f"#{record.id}"


# --- what each action does to one row ----------------------------------------------------

Doer = Callable[[User, Any, "BulkRun", list[User], datetime], None]


def _fire(officer: User, record: Any, run: BulkRun, evaluators: list[User], now: datetime):
    act(officer, record, run.action, run.comment or None)


def _assign(officer: User, record: Any, run: BulkRun, evaluators: list[User], now: datetime):
    for person in evaluators:
        evaluation.assign(officer, record, person)


def _entity(record: Any) -> str:
    return "award" if isinstance(record, Award) else "application"


def _send(
    record: Any,
    run: BulkRun,
    people: list[User],
    rule: str,
    category: str,
    subject: str,
    body: str,
    now: datetime,
    **values: Any,
) -> None:
    entity = _entity(record)
    message = outbox.Message(
        rule,
        category,
        subject,
        body,
        entity,
        record.id,
        outbox.link_to(entity, record),
        {**outbox.values_for(record, entity, run.comment), **values},
    )
    outbox.write([(message, people, f"bulk-{run.id}-{entity}-{record.id}")], now)


def _members(record: Any) -> list[User]:
    people = members_of({record.association_id})[record.association_id]
    if not people:
        raise InvalidInput(_("The association has no active member to write to."))
    return people


def _message(officer: User, record: Any, run: BulkRun, evaluators: list[User], now: datetime):
    category = "money" if isinstance(record, Award) else "applications"
    _send(
        record,
        run,
        _members(record),
        "bulk_message",
        category,
        N_("A message from the programme office about %(reference)s"),
        N_("About %(reference)s (%(call)s): %(comment)s"),
        now,
    )
    audit.record(
        officer, f"{_entity(record)}.message", (_entity(record), record.id), note=run.comment
    )


def _nothing_waits(record: Any) -> InvalidInput:
    from grants.labels import state_label

    return InvalidInput(
        _(
            "Nobody has anything to do on %(reference)s now: its state is “%(state)s”.",
            reference=_reference(record),
            state=state_label(_entity(record), record.state),
        )
    )


def _remind(officer: User, record: Any, run: BulkRun, evaluators: list[User], now: datetime):
    """Remind whoever the row waits for: the association for a returned application or a
    grant's offer or report, the evaluators whose review is not in yet."""
    if isinstance(record, Award):
        _remind_grant(record, run, now)
    elif record.state in ("draft", "proposal_draft") and record.submitted_at is not None:
        _send(
            record,
            run,
            _members(record),
            "bulk_reminder",
            "applications",
            N_("Reminder: %(reference)s waits for your changes"),
            N_(
                "The programme office returned %(reference)s (%(call)s) for changes and "
                "is waiting for it: change it and submit it again before the deadline."
            ),
            now,
        )
    elif record.state in ("eligible", "in_review"):
        waiting = [
            review.evaluator
            for review in record.reviews
            if review.state == "assigned" and review.evaluator.active
        ]
        if not waiting:
            raise InvalidInput(
                _(
                    "No evaluator has a review of %(reference)s still to submit.",
                    reference=_reference(record),
                )
            )
        _send(
            record,
            run,
            waiting,
            "bulk_reminder",
            "evaluation",
            N_("Reminder: your review of %(reference)s"),
            N_("Your review of %(reference)s (%(call)s) is still to be submitted."),
            now,
        )
    else:
        raise _nothing_waits(record)
    audit.record(officer, f"{_entity(record)}.reminded", (_entity(record), record.id))


def _remind_grant(award: Award, run: BulkRun, now: datetime) -> None:
    if award.state == "offered":
        _send(
            award,
            run,
            _members(award),
            "bulk_reminder",
            "money",
            N_("Reminder: the grant for %(reference)s awaits your acceptance"),
            N_(
                "The grant offered for %(reference)s (%(call)s) awaits your acceptance: "
                "read the award letter and accept it with your bank details."
            ),
            now,
        )
        return
    due = [r for r in award.reports if r.state in ("scheduled", "changes_requested")]
    if award.state != "active" or not due:
        raise _nothing_waits(award)
    report = min(due, key=lambda r: r.due_date)
    day = report.due_date
    _send(
        award,
        run,
        _members(award),
        "bulk_reminder",
        "reports",
        N_("Reminder: a report on %(reference)s is due on %(due)s"),
        N_(
            "The next report on the grant %(reference)s (%(call)s) is due on %(due)s: "
            "write it and submit it on the grant's page."
        ),
        now,
        due=lambda locale: format_date(day, "long"),
    )


DOERS: dict[str, Doer] = {
    "mark_eligible": _fire,
    "mark_ineligible": _fire,
    "return_to_applicant": _fire,
    "assign": _assign,
    "message": _message,
    "remind": _remind,
}


# --- the run -----------------------------------------------------------------------------

#: Rows acted on in the request itself; a larger selection is left to the scheduler
#: (setting ``BULK_ROWS_AT_ONCE``), whose result page shows the progress.
ROWS_AT_ONCE = 50
#: Rows the scheduler acts on per transaction, so progress shows as it goes.
BATCH = 50


def rows_at_once() -> int:
    return int(current_app.config.get("BULK_ROWS_AT_ONCE", ROWS_AT_ONCE))


def run(
    officer: User,
    list_name: str,
    action_name: str,
    raw_ids: Iterable[Any],
    *,
    call: Call | None = None,
    text: str = "",
    evaluator_ids: Sequence[int] = (),
    now: datetime | None = None,
) -> BulkRun:
    """Record ``action_name`` on the chosen rows and act on them: at once for a few rows,
    by the scheduler (``work_waiting``) for more.

    Bad input (no row, an unknown action, a missing reason) is refused before anything
    is written; a row refused is rolled back to its savepoint and listed with why."""
    ids = _row_ids(raw_ids)
    text = (text or "").strip()
    action, evaluators = _check(officer, list_name, action_name, ids, text, evaluator_ids)
    now = now or utcnow()
    batch = BulkRun(
        list_name=list_name,
        action=action.name,
        call_id=call.id if call is not None else None,
        actor_id=officer.id,
        comment=text,
        data={"evaluators": [person.id for person in evaluators]} if evaluators else {},
        created_at=now,
        state="running",
        total=len(ids),
        done=0,
        refused=0,
    )
    db.session.add(batch)
    db.session.flush()
    entity = ENTITY_OF_LIST[list_name]
    db.session.execute(
        BulkItem.__table__.insert(),
        [
            dict(
                run_id=batch.id,
                position=position,
                entity_type=entity,
                entity_id=record_id,
                reference="",
                outcome="waiting",
                reasons=[],
            )
            for position, record_id in enumerate(ids, start=1)
        ],
    )
    if len(ids) <= rows_at_once():
        work(batch, officer, call, evaluators, now)
    return batch


def work(
    batch: BulkRun,
    officer: User,
    call: Call | None,
    evaluators: list[User],
    now: datetime,
    limit: int | None = None,
) -> int:
    """Act on the run's next waiting rows (``limit`` of them, or all), each in its own
    savepoint; return how many. The run is finished once no row waits."""
    waiting = list(
        db.session.scalars(
            select(BulkItem)
            .where(BulkItem.run_id == batch.id, BulkItem.outcome == "waiting")
            .order_by(BulkItem.position)
            .limit(limit)
        )
    )
    found = _rows(officer, batch.list_name, call, [item.entity_id for item in waiting])
    missing = str(
        policy.AWARDS.missing if batch.list_name == "grants" else policy.APPLICATIONS.missing
    )
    doer = DOERS[batch.action]
    changes = []
    for item in waiting:
        record = found.get(item.entity_id)
        reasons: list[str] = []
        reference = ""
        if record is None:
            reasons = [missing]
        else:
            reference = _reference(record)
            try:
                with db.session.begin_nested():
                    doer(officer, record, batch, evaluators, now)
            except DomainError as refused:
                reasons = list(getattr(refused, "reasons", None) or [refused.message])
        changes.append(
            dict(
                id=item.id,
                reference=reference[:60],
                outcome="refused" if reasons else "done",
                reasons=reasons,
            )
        )
    if changes:
        db.session.execute(update(BulkItem), changes)
    refused = sum(1 for change in changes if change["outcome"] == "refused")
    batch.done += len(changes) - refused
    batch.refused += refused
    if batch.done + batch.refused >= batch.total:
        batch.state, batch.finished_at = "finished", utcnow()
    db.session.flush()
    return len(changes)


def work_waiting(now: datetime | None = None) -> int:
    """The scheduler's job: act on the waiting rows of running bulk actions, oldest
    first, committing every ``BATCH`` rows so the result page shows the progress. An
    officer who lost the role meanwhile has the rest of their rows refused."""
    now = now or utcnow()
    handled = 0
    ids = db.session.scalars(
        select(BulkRun.id).where(BulkRun.state == "running").order_by(BulkRun.id)
    ).all()
    for run_id in ids:
        while True:
            batch = db.session.get(BulkRun, run_id)
            if batch is None or batch.state != "running":
                db.session.commit()
                break
            officer = db.session.get(User, batch.actor_id) if batch.actor_id else None
            call = db.session.get(Call, batch.call_id) if batch.call_id else None
            if officer is None or PROGRAMME_OFFICER not in officer.role_names:
                handled += _refuse_rest(batch)
                db.session.commit()
                break
            with force_locale(officer.locale or "en"):
                evaluators = _evaluators(batch.data.get("evaluators", []))
                handled += work(batch, officer, call, evaluators, now, limit=BATCH)
            db.session.commit()
    return handled


def _refuse_rest(batch: BulkRun) -> int:
    reason = _("Only a programme officer acts on many rows at once.")
    waiting = db.session.scalars(
        select(BulkItem.id).where(BulkItem.run_id == batch.id, BulkItem.outcome == "waiting")
    ).all()
    if waiting:
        db.session.execute(
            update(BulkItem),
            [dict(id=i, outcome="refused", reasons=[reason]) for i in waiting],
        )
    batch.refused += len(waiting)
    batch.state, batch.finished_at = "finished", utcnow()
    db.session.flush()
    return len(waiting)


def chosen(
    officer: User, list_name: str, call: Call | None, ids: list[int]
) -> list[tuple[int, str]]:
    """The rows ticked, as (id, reference), to show the form again with them."""
    found = _rows(officer, list_name, call, ids[:MOST_ROWS])
    return [(i, _reference(found[i])) for i in ids if i in found]


def visible_run(person: User, run_id: int) -> BulkRun:
    """A bulk action's result, for those who may read it (``policy.BULK_RUNS``)."""
    return policy.BULK_RUNS.get(person, run_id, joinedload(BulkRun.actor))


def items_of(batch: BulkRun) -> list[BulkItem]:
    return list(
        db.session.scalars(
            select(BulkItem).where(BulkItem.run_id == batch.id).order_by(BulkItem.position)
        )
    )


def recent_runs(person: User, list_name: str, call: Call | None = None, limit: int = 5):
    """The last bulk actions on a list, newest first, for a link back to their results."""
    statement = policy.BULK_RUNS.select(person).where(BulkRun.list_name == list_name)
    if call is not None:
        statement = statement.where(BulkRun.call_id == call.id)
    return list(db.session.scalars(statement.order_by(BulkRun.id.desc()).limit(limit)))
