"""Reminders and timed transitions: what the sweep does every few minutes.

Each rule below reads only what is due, through indexes, and names each reminder by a
key (rule, entity, occurrence): ``7d`` and ``1d`` before a call closes, ``overdue-2`` for
a report's third week late, and so on. The key is inserted with ``ON CONFLICT DO
NOTHING`` in the same transaction as the notifications, so a sweep that runs twice, or
two sweeps at once, remind once. An entity that has moved on (the draft was submitted,
the report accepted) no longer matches its rule's query and is not reminded.

=====================  ==============================  ===========================================
rule                   who                             when (what is due)
=====================  ==============================  ===========================================
call_closing           members, association with draft  7 and 1 days before the call closes
review_due             the assigned evaluator          3 days before the review is due, daily late
review_overdue         programme officers              once, when a review passes its due date
report_due             members of the association      14 and 3 days before, every 7 days overdue
tranche_waiting        finance officers who may approve  after 2 working days waiting
award_offer_pending    members of the association      14 days after the offer, unanswered
verification_waiting   programme officers              5 days after the association signed up
information_due        members of the association      3 and 1 days before a request for
                                                       information is due, once when overdue
=====================  ==============================  ===========================================

Offsets are settings (``REMINDER_*``); ``flask --app wsgi reminders table`` prints the
table with the values in force.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy import func, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import selectinload

from grants.bulk import among, batches, on_postgresql
from grants.database import write_intent
from grants.extensions import db
from grants.models.accounts import User
from grants.models.applications import Application
from grants.models.associations import Association
from grants.models.awards import REPORT_OPEN, Award, Report, Tranche
from grants.models.calls import Call
from grants.models.notifications import Reminder
from grants.models.reviews import Review
from grants.moments import zoned_moment_text
from grants.numbers import money_text
from grants.roles import FINANCE_OFFICER, PROGRAMME_OFFICER
from grants.services.errors import DomainError
from notifications.outbox import Message, Value, translate, write
from notifications.rules import N_, members_of, with_role

log = logging.getLogger(__name__)
KEY_COLUMNS = ["rule", "entity_type", "entity_id", "occurrence"]
#: Reminders claimed and written per transaction on SQLite.
SWEEP_BATCH = 200


@dataclass
class Due:
    """One reminder a rule finds due now, before its key is checked."""

    entity_id: int
    occurrence: str
    link: str
    values: dict[str, Value] = field(default_factory=dict)
    #: Recipients: the members of this association, or these people, or a role.
    association_id: int | None = None
    user_ids: tuple[int, ...] = ()
    role: str | None = None
    exclude: frozenset[int] = frozenset()


@dataclass(frozen=True)
class ReminderRule:
    name: str
    entity: str
    category: str
    who: str
    due: str
    when: Callable[[Mapping[str, Any]], str]
    subject: str
    body: str
    find: Callable[[datetime, Mapping[str, Any]], list[Due]]


# --- formatting, per recipient's locale ------------------------------------------------


def _deadline(moment: datetime, zone: str) -> Value:
    """A deadline in the call's time zone, with the zone named."""
    return lambda locale: zoned_moment_text(moment, locale, zone)


@lru_cache(maxsize=4096)
def _day_text(day: date, locale: str) -> str:
    return format_date(day, "long", locale=locale)


def _day(day: date) -> Value:
    return lambda locale: _day_text(day, locale)


def _title(call_titles: dict[str, str], language: str) -> Value:
    return lambda locale: call_titles.get(locale) or call_titles.get(language) or ""


# --- the rules' queries ------------------------------------------------------------------


def _window(days_left: float, offsets: tuple[int, ...]) -> int | None:
    """The smallest offset (in days) whose window we are in: 3 days left with offsets
    (7, 1) is the 7-day reminder; half a day left is the 1-day one."""
    inside = [d for d in offsets if days_left <= d]
    return min(inside) if inside else None


def find_call_closing(now: datetime, settings: Mapping[str, Any]) -> list[Due]:
    offsets: tuple[int, ...] = settings["REMINDER_CALL_CLOSING_DAYS"]
    horizon = now + timedelta(days=max(offsets))
    stages = (("draft", Call.closes_at), ("proposal_draft", Call.proposal_closes_at))
    found = []
    for state, deadline in stages:
        rows = db.session.execute(
            select(
                Application.id,
                Application.association_id,
                Application.reference,
                Call.title,
                Call.language,
                Call.timezone,
                deadline,
            )
            .join(Call, Call.id == Application.call_id)
            .where(
                Application.state == state,
                Call.state == "open",
                deadline > now,
                deadline <= horizon,
            )
            .order_by(Application.id)
        )
        for app_id, association_id, reference, titles, language, zone, closes in rows:
            closes = closes if closes.tzinfo else closes.replace(tzinfo=ZoneInfo("UTC"))
            days = _window((closes - now).total_seconds() / 86400, offsets)
            if days is None:
                continue
            found.append(
                Due(
                    app_id,
                    f"{state}-{days}d",
                    f"/applications/{app_id}",
                    {
                        "call": _title(titles, language),
                        "reference": reference or "",
                        "deadline": _deadline(closes, zone),
                    },
                    association_id=association_id,
                )
            )
    return found


#: A review is due at its own due date, set when its review started; reviews assigned
#: before due dates existed fall back on their call's review deadline.
REVIEW_DUE = func.coalesce(Review.due_at, Call.review_deadline)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))


def find_review_due(now: datetime, settings: Mapping[str, Any]) -> list[Due]:
    before = timedelta(days=settings["REMINDER_REVIEW_DAYS_BEFORE"])
    rows = db.session.execute(
        select(
            Review.id,
            Review.evaluator_id,
            Application.reference,
            Call.title,
            Call.language,
            Call.timezone,
            REVIEW_DUE,
        )
        .join(Application, Application.id == Review.application_id)
        .join(Call, Call.id == Application.call_id)
        .where(
            Review.state == "assigned",
            Application.state.in_(("eligible", "in_review")),
            REVIEW_DUE.is_not(None),
            REVIEW_DUE <= now + before,
        )
        .order_by(Review.id)
    )
    found = []
    for review_id, evaluator_id, reference, titles, language, zone, deadline in rows:
        deadline = _aware(deadline)
        if now < deadline:
            occurrence = "before"
        else:
            occurrence = f"late-{(now - deadline).days + 1}"
        found.append(
            Due(
                review_id,
                occurrence,
                f"/reviews/{review_id}",
                {
                    "reference": reference or "",
                    "call": _title(titles, language),
                    "deadline": _deadline(deadline, zone),
                },
                user_ids=(evaluator_id,),
            )
        )
    return found


def find_review_overdue(now: datetime, settings: Mapping[str, Any]) -> list[Due]:
    """Reviews past their due date and not submitted: the programme officers hear of
    each once, with the evaluator named, so they can remind or replace them."""
    rows = db.session.execute(
        select(
            Review.id,
            User.full_name,
            User.email,
            Application.reference,
            Call.code,
            Call.title,
            Call.language,
            Call.timezone,
            REVIEW_DUE,
        )
        .join(Application, Application.id == Review.application_id)
        .join(Call, Call.id == Application.call_id)
        .join(User, User.id == Review.evaluator_id)
        .where(
            Review.state == "assigned",
            Application.state == "in_review",
            REVIEW_DUE.is_not(None),
            REVIEW_DUE < now,
        )
        .order_by(Review.id)
    )
    return [
        Due(
            review_id,
            "overdue",
            f"/office/calls/{code}/assignments/",
            {
                "evaluator": full_name or email,
                "reference": reference or "",
                "call": _title(titles, language),
                "deadline": _deadline(_aware(due), zone),
            },
            role=PROGRAMME_OFFICER,
        )
        for review_id, full_name, email, reference, code, titles, language, zone, due in rows
    ]


def report_due_query(now: datetime, settings: Mapping[str, Any]):
    """Open reports due within the first reminder's window, or overdue: read through the
    partial index on open reports' due dates, so the cost follows what is due."""
    offsets: tuple[int, ...] = settings["REMINDER_REPORT_DAYS"]
    return (
        # No ORDER BY: sorting by id would tempt the planner into walking the primary key.
        select(Report.id, Report.kind, Report.due_date, Report.award_id).where(
            Report.state.in_(REPORT_OPEN),
            Report.due_date <= now.date() + timedelta(days=max(offsets)),
        )
    )


def find_report_due(now: datetime, settings: Mapping[str, Any]) -> list[Due]:
    offsets: tuple[int, ...] = settings["REMINDER_REPORT_DAYS"]
    every: int = settings["REMINDER_REPORT_OVERDUE_EVERY"]
    today = now.date()
    reports = sorted(db.session.execute(report_due_query(now, settings)).all())
    # Their awards by primary key, in chunks: a join would let the planner scan every
    # award when it misjudges how few reports are due.
    awards: dict[int, tuple[int, int, str | None]] = {}
    for ids in batches(sorted({award_id for *_, award_id in reports})):
        awards.update(
            (award_id, (association_id, app_id, reference))
            for award_id, association_id, app_id, reference in db.session.execute(
                select(Award.id, Award.association_id, Application.id, Application.reference)
                .join(Application, Application.id == Award.application_id)
                .where(among(Award.id, ids), Award.state == "active")
            )
        )
    found = []
    for report_id, kind, due_on, award_id in reports:
        if award_id not in awards:
            continue  # the award is not active: nothing is owed yet, or any more
        association_id, app_id, reference = awards[award_id]
        days_left = (due_on - today).days
        if days_left >= 0:
            occurrence = f"{_window(days_left, offsets)}d"
        else:
            occurrence = f"overdue-{(-days_left - 1) // every}"
        found.append(
            Due(
                report_id,
                occurrence,
                f"/grants/{award_id}/reports/{report_id}",
                {
                    "reference": reference or "",
                    "kind": _report_kind(kind),
                    "due": _day(due_on),
                    "status": (lambda locale: "") if days_left >= 0 else _overdue_note,
                },
                association_id=association_id,
            )
        )
    return found


#: Report kinds as the reminder says them ("your interim report").
REPORT_KINDS = {"interim": N_("interim"), "final": N_("final")}


def _report_kind(kind: str) -> Value:
    return lambda locale: translate(REPORT_KINDS[kind], locale)


def _overdue_note(locale: str) -> str:
    return translate(N_("It is overdue."), locale)


def working_days_between(start: datetime, end: datetime) -> int:
    """Whole working days (Monday to Friday) from ``start`` to ``end``."""
    days, cursor = 0, start
    while cursor + timedelta(days=1) <= end:
        cursor += timedelta(days=1)
        if cursor.weekday() < 5:
            days += 1
    return days


def find_tranche_waiting(now: datetime, settings: Mapping[str, Any]) -> list[Due]:
    wait: int = settings["REMINDER_TRANCHE_WORKING_DAYS"]
    tranches = db.session.scalars(
        select(Tranche)
        .where(
            Tranche.state == "requested",
            Tranche.requested_at <= now - timedelta(days=wait),
        )
        .options(
            selectinload(Tranche.approvals),
            selectinload(Tranche.award).selectinload(Award.application),
        )
        .order_by(Tranche.id)
    ).all()
    found = []
    for tranche in tranches:
        # Waiting since the request, or since the first of two approvals.
        since = max(
            [tranche.requested_at]
            + [a.approved_at for a in tranche.approvals if a.cycle == tranche.cycle]
        )
        if working_days_between(since, now) < wait:
            continue
        approvers = frozenset(tranche.current_approver_ids)
        award = tranche.award
        amount, currency = tranche.amount, award.currency
        found.append(
            Due(
                tranche.id,
                f"cycle-{tranche.cycle}-approvals-{len(approvers)}",
                f"/grants/{award.id}#tranche-{tranche.id}",
                {
                    "reference": award.application.reference or "",
                    "amount": _money(amount, currency),
                    "since": _day(since.date()),
                },
                role=FINANCE_OFFICER,
                exclude=approvers | {tranche.requested_by_id},
            )
        )
    return found


def _money(amount: Any, currency: str) -> Value:
    return lambda locale: money_text(amount, currency, locale)


def find_award_offer_pending(now: datetime, settings: Mapping[str, Any]) -> list[Due]:
    days: int = settings["REMINDER_AWARD_OFFER_DAYS"]
    rows = db.session.execute(
        select(
            Award.id,
            Award.association_id,
            Award.offered_at,
            Application.id,
            Application.reference,
        )
        .join(Application, Application.id == Award.application_id)
        .where(Award.state == "offered", Award.offered_at <= now - timedelta(days=days))
        .order_by(Award.id)
    )
    return [
        Due(
            award_id,
            f"{days}d",
            f"/grants/{award_id}",
            {"reference": reference or "", "since": _day(offered_at.date())},
            association_id=association_id,
        )
        for award_id, association_id, offered_at, app_id, reference in rows
    ]


def find_verification_waiting(now: datetime, settings: Mapping[str, Any]) -> list[Due]:
    days: int = settings["REMINDER_VERIFICATION_DAYS"]
    rows = db.session.execute(
        select(Association.id, Association.name, Association.created_at)
        .where(
            Association.state == "pending",
            Association.created_at <= now - timedelta(days=days),
        )
        .order_by(Association.id)
    )
    return [
        Due(
            association_id,
            f"{days}d",
            f"/associations/{association_id}",
            {"name": name, "since": _day(created_at.date())},
            role=PROGRAMME_OFFICER,
        )
        for association_id, name, created_at in rows
    ]


def find_information_due(now: datetime, settings: Mapping[str, Any]) -> list[Due]:
    """Open requests for information that no member has answered yet, as their due date
    nears and once it has passed; an answer or the officer's closing ends them."""
    from grants.models.conversations import Message, Thread

    offsets: tuple[int, ...] = settings["REMINDER_INFORMATION_DAYS"]
    today = now.date()
    answered = select(Message.in_answer_to_id).where(Message.in_answer_to_id.is_not(None))
    asked = Message.__table__.alias("asked")
    subject = func.coalesce(Thread.application_id, Award.application_id)
    rows = db.session.execute(
        select(
            asked.c.id,
            asked.c.due_on,
            Thread.association_id,
            Thread.application_id,
            Thread.award_id,
            Application.reference,
        )
        .join(Thread, Thread.id == asked.c.thread_id)
        .outerjoin(Award, Award.id == Thread.award_id)
        .join(Application, Application.id == subject)
        .where(
            asked.c.kind == "request",
            asked.c.closed_at.is_(None),
            asked.c.due_on <= today + timedelta(days=max(offsets)),
            asked.c.id.not_in(answered),
        )
        .order_by(asked.c.id)
    )
    found = []
    for request_id, due_on, association_id, application_id, award_id, reference in rows:
        days_left = (due_on - today).days
        occurrence = f"{_window(days_left, offsets)}d" if days_left >= 0 else "overdue"
        link = (
            f"/applications/{application_id}#thread"
            if application_id is not None
            else f"/grants/{award_id}#thread"
        )
        found.append(
            Due(
                request_id,
                occurrence,
                link,
                {
                    "reference": reference or "",
                    "due": _day(due_on),
                    "status": (lambda locale: "") if days_left >= 0 else _overdue_note,
                },
                association_id=association_id,
            )
        )
    return found


REMINDERS: tuple[ReminderRule, ...] = (
    ReminderRule(
        "call_closing",
        "application",
        "applications",
        "members of associations with a draft",
        "submitting the draft application",
        lambda s: "{} days before the call closes".format(
            " and ".join(map(str, s["REMINDER_CALL_CLOSING_DAYS"]))
        ),
        N_("%(call)s closes soon: your application is not submitted"),
        N_(
            "The call %(call)s closes on %(deadline)s. Your draft %(reference)s is not "
            "submitted yet; submit it before the deadline."
        ),
        find_call_closing,
    ),
    ReminderRule(
        "review_due",
        "review",
        "evaluation",
        "the assigned evaluator",
        "submitting the review",
        lambda s: (
            f"{s['REMINDER_REVIEW_DAYS_BEFORE']} days before the review deadline, "
            "then daily once late"
        ),
        N_("Your review of %(reference)s is due"),
        N_(
            "Your review of %(reference)s in %(call)s is due by %(deadline)s and is not "
            "submitted yet."
        ),
        find_review_due,
    ),
    ReminderRule(
        "review_overdue",
        "review",
        "evaluation",
        "programme officers",
        "reminding or replacing the evaluator",
        lambda s: "once, when a review passes its due date unsubmitted",
        N_("The review of %(reference)s by %(evaluator)s is overdue"),
        N_(
            "%(evaluator)s has not submitted the review of %(reference)s in %(call)s, due "
            "by %(deadline)s. Remind them, or assign another evaluator from the call's "
            "assignments page."
        ),
        find_review_overdue,
    ),
    ReminderRule(
        "report_due",
        "report",
        "reports",
        "members of the association",
        "submitting the report",
        lambda s: "{} days before it is due, then every {} days once overdue".format(
            " and ".join(map(str, s["REMINDER_REPORT_DAYS"])),
            s["REMINDER_REPORT_OVERDUE_EVERY"],
        ),
        N_("Your %(kind)s report on %(reference)s is due on %(due)s"),
        N_(
            "The %(kind)s report on %(reference)s is due on %(due)s. %(status)s Submit it "
            "from the grant page."
        ),
        find_report_due,
    ),
    ReminderRule(
        "tranche_waiting",
        "tranche",
        "money",
        "finance officers who may approve it",
        "approving the tranche",
        lambda s: f"after {s['REMINDER_TRANCHE_WORKING_DAYS']} working days waiting",
        N_("A tranche of %(reference)s has waited since %(since)s"),
        N_(
            "A tranche of %(amount)s for %(reference)s was requested on %(since)s and still "
            "waits for approval."
        ),
        find_tranche_waiting,
    ),
    ReminderRule(
        "award_offer_pending",
        "award",
        "money",
        "members of the association",
        "answering the award offer",
        lambda s: f"{s['REMINDER_AWARD_OFFER_DAYS']} days after the offer",
        N_("The award offer for %(reference)s waits for your answer"),
        N_(
            "A grant was offered to %(reference)s on %(since)s. Read the award letter and "
            "accept it with your bank details, or decline it."
        ),
        find_award_offer_pending,
    ),
    ReminderRule(
        "verification_waiting",
        "association",
        "account",
        "programme officers",
        "verifying the association",
        lambda s: f"{s['REMINDER_VERIFICATION_DAYS']} days after it signed up",
        N_("%(name)s waits for verification"),
        N_("The association %(name)s signed up on %(since)s and waits for verification."),
        find_verification_waiting,
    ),
    ReminderRule(
        "information_due",
        "message",
        "conversations",
        "members of the association",
        "answering the request for information",
        lambda s: "{} days before it is due, then once when overdue".format(
            " and ".join(map(str, s["REMINDER_INFORMATION_DAYS"]))
        ),
        N_("Information requested on %(reference)s is due on %(due)s"),
        N_(
            "The programme office asked for information on %(reference)s, due on %(due)s. "
            "%(status)s Answer in the conversation on its page, with documents if asked."
        ),
        find_information_due,
    ),
)


# --- the sweep ---------------------------------------------------------------------------


def _claim_keys(rule: ReminderRule, found: list[Due], now: datetime) -> set[tuple[int, str]]:
    """Insert the keys not sent before; return those this sweep inserted. A key another
    sweep inserts at the same moment is skipped by ``ON CONFLICT DO NOTHING`` (on
    PostgreSQL the second insert waits for the first transaction, then skips)."""
    if not found:
        return set()
    sent: set[tuple[int, str]] = set()
    for ids in batches(sorted({due.entity_id for due in found})):
        sent.update(
            db.session.execute(
                select(Reminder.entity_id, Reminder.occurrence).where(
                    Reminder.rule == rule.name,
                    Reminder.entity_type == rule.entity,
                    among(Reminder.entity_id, ids),
                )
            ).tuples()
        )
    new = [due for due in found if (due.entity_id, due.occurrence) not in sent]
    if not new:
        return set()
    if on_postgresql():
        # One statement whatever the number: the keys travel as two arrays.
        return set(
            db.session.execute(
                text(
                    "INSERT INTO reminders (rule, entity_type, entity_id, occurrence, created_at) "
                    "SELECT :rule, :entity, k.entity_id, k.occurrence, :now "
                    "FROM unnest(CAST(:ids AS integer[]), CAST(:occurrences AS varchar[])) "
                    "AS k(entity_id, occurrence) "
                    "ON CONFLICT (rule, entity_type, entity_id, occurrence) DO NOTHING "
                    "RETURNING entity_id, occurrence"
                ),
                {
                    "rule": rule.name,
                    "entity": rule.entity,
                    "now": now,
                    "ids": [due.entity_id for due in new],
                    "occurrences": [due.occurrence for due in new],
                },
            ).tuples()
        )
    rows = [
        dict(
            rule=rule.name,
            entity_type=rule.entity,
            entity_id=due.entity_id,
            occurrence=due.occurrence,
            created_at=now,
        )
        for due in new
    ]
    statement = (
        sqlite.insert(Reminder.__table__)
        .on_conflict_do_nothing(index_elements=KEY_COLUMNS)
        .returning(Reminder.__table__.c.entity_id, Reminder.__table__.c.occurrence)
    )
    return set(db.session.execute(statement, rows).tuples())


def _recipients(found: list[Due]) -> dict[int, list[User]]:
    """Everyone each due reminder goes to, resolved in a few queries for the batch."""
    members = members_of({d.association_id for d in found if d.association_id is not None})
    user_ids = {u for d in found for u in d.user_ids}
    people = (
        {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))}
        if user_ids
        else {}
    )
    roles = {d.role for d in found if d.role}
    by_role = {role: with_role(role) for role in roles}
    resolved: dict[int, list[User]] = {}
    for index, due in enumerate(found):
        if due.association_id is not None:
            chosen = members[due.association_id]
        elif due.role:
            chosen = by_role[due.role]
        else:
            chosen = [people[u] for u in due.user_ids if u in people and people[u].active]
        resolved[index] = [p for p in chosen if p.id not in due.exclude]
    return resolved


def sweep_rule(rule: ReminderRule, now: datetime, settings: Mapping[str, Any]) -> int:
    """Send what ``rule`` finds due and has not sent. Returns the count.

    Each reminder's key is written in the same transaction as its notifications: one
    transaction for the rule on PostgreSQL; on SQLite, what is due is found as a reader,
    then written ``SWEEP_BATCH`` at a time, so the single write lock is never held for
    long and pages keep saving during a large sweep."""
    if on_postgresql():
        found = rule.find(now, settings)
        step = len(found) or 1
    else:
        with write_intent(False):
            found = rule.find(now, settings)
            db.session.commit()
        step = SWEEP_BATCH
    if not found:
        db.session.commit()
        return 0
    return sum(_sweep_batch(rule, found[i : i + step], now) for i in range(0, len(found), step))


def _sweep_batch(rule: ReminderRule, found: list[Due], now: datetime) -> int:
    claimed = _claim_keys(rule, found, now)
    new = [due for due in found if (due.entity_id, due.occurrence) in claimed]
    if not new:
        db.session.commit()
        return 0
    recipients = _recipients(new)
    batch = []
    for index, due in enumerate(new):
        message = Message(
            rule.name,
            rule.category,
            rule.subject,
            rule.body,
            rule.entity,
            due.entity_id,
            due.link,
            due.values,
        )
        key = f"reminder:{rule.name}:{due.entity_id}:{due.occurrence}"
        batch.append((message, recipients[index], key))
    write(batch, now)
    db.session.commit()
    return len(new)


def close_due_calls(now: datetime) -> int:
    """The system closes each open call whose deadline has passed (a history row says
    "system"). A call another scheduler closed meanwhile is skipped."""
    from grants.services.workflow import fire

    due = db.session.scalars(
        select(Call.id).where(Call.state == "open", Call.closes_at <= now).order_by(Call.id)
    ).all()
    closed = 0
    for call_id in due:
        call = db.session.get(Call, call_id)
        try:
            fire(call, "close", None, now=now)
            db.session.commit()
            closed += 1
        except DomainError as error:
            db.session.rollback()
            log.info("Call %s not closed: %s", call_id, error)
    return closed


def sweep(now: datetime, settings: Mapping[str, Any]) -> dict[str, int]:
    """Timed transitions first (a closed call sends no closing reminder), then every
    reminder rule. Returns what each part handled."""
    handled = {"close_calls": close_due_calls(now)}
    for rule in REMINDERS:
        handled[rule.name] = sweep_rule(rule, now, settings)
    return handled


def table(settings: Mapping[str, Any]) -> list[tuple[str, str, str, str]]:
    """The rules as rows (name, who, what is due, when) with the offsets in force."""
    return [(r.name, r.who, r.due, r.when(settings)) for r in REMINDERS]
