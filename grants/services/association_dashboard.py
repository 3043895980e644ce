"""An association's dashboard: its applications and grants on a timeline, and what is
due next. Members see their own association only (staff may read any, as its page).

At most four queries of a few columns each, whatever the number of applications: the
applications (the most recent ``LANES``), their awards, the awards' reports and paid
tranches (the last three only when there is something to ask about).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from babel.dates import format_skeleton
from flask_babel import get_locale, to_user_timezone
from flask_babel import gettext as _
from sqlalchemy import select

from grants.exports.spreadsheets import DATE, Column, Table
from grants.extensions import db
from grants.labels import state_label
from grants.models.applications import Application
from grants.models.associations import Association
from grants.models.awards import Award, Report, Tranche
from grants.models.calls import Call
from grants.orm import utcnow

#: The most applications the timeline shows, the most recent ones.
LANES = 20
#: What the association itself must do: these kinds of moment can be "due next".
DUE_KINDS = ("deadline", "offer", "report")
#: Room on the axis before the first moment and after the last.
MARGIN = timedelta(days=10)


@dataclass(frozen=True)
class Event:
    when: date
    lane: int
    application: str
    what: str
    state: str
    kind: str
    done: bool


@dataclass(frozen=True)
class Lane:
    label: str
    #: The grant's span: from the offer to the last report due.
    grant_start: date | None = None
    grant_end: date | None = None


@dataclass(frozen=True)
class Timeline:
    lanes: tuple[Lane, ...]
    events: tuple[Event, ...]
    today: date
    first: date
    last: date
    next_due: Event | None
    more: bool
    name = "timeline"

    @property
    def header(self) -> tuple[str, ...]:
        return (_("Date"), _("Application"), _("What"), _("State"))

    def csv_rows(self):
        for event in self.events:
            yield (event.when, event.application, event.what, event.state)

    def table(self) -> Table:
        columns = (
            Column(_("Date"), DATE),
            Column(_("Application"), width=40),
            Column(_("What"), width=32),
            Column(_("State"), width=14),
        )
        return Table(self.name, _("Timeline"), columns, self.csv_rows())

    @property
    def days(self) -> int:
        return max((self.last - self.first).days, 1)

    @property
    def ticks(self) -> list[tuple[date, str]]:
        """First days of months along the axis, at most six, with their names."""
        months = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month
        step = next(s for s in (1, 2, 3, 6, 12, 24, 60, 120) if months / s <= 6 or s == 120)
        found, index = [], self.first.year * 12 + self.first.month
        while True:
            day = date(index // 12, index % 12 + 1, 1)
            if day > self.last:
                return found
            if (day.month - 1) % step == 0 or step == 1:
                found.append((day, format_skeleton("yMMM", day, locale=get_locale())))
            index += 1


def _day(moment: datetime | date | None) -> date | None:
    """A moment as the reader's calendar day."""
    if moment is None or not isinstance(moment, datetime):
        return moment
    return to_user_timezone(moment).date()


def _rows(ids: list[int], statement) -> list:
    """The statement's rows, or none without asking when it is about no record."""
    return db.session.execute(statement).all() if ids else []


def timeline(association: Association, now: datetime | None = None) -> Timeline:
    now = now or utcnow()
    today = _day(now)
    applications = db.session.execute(
        select(
            Application.id,
            Application.reference,
            Application.title,
            Application.state,
            Application.submitted_at,
            Call.closes_at,
            Call.state.label("call_state"),
        )
        .join(Call, Call.id == Application.call_id)
        .where(Application.association_id == association.id)
        .order_by(Application.created_at.desc(), Application.id.desc())
        .limit(LANES + 1)
    ).all()
    more = len(applications) > LANES
    applications = list(reversed(applications[:LANES]))
    lane_of = {row.id: index for index, row in enumerate(applications)}
    names = {
        row.id: " — ".join(part for part in (row.reference, row.title) if part)
        or _("Untitled application")
        for row in applications
    }
    events: list[Event] = []
    # Twenty lanes share a few states: each state's words are translated once.
    words = cache(state_label)

    def add(application_id: int, when, what: str, state: str, kind: str, done: bool) -> None:
        day = _day(when)
        if day is not None:
            events.append(
                Event(day, lane_of[application_id], names[application_id], what, state, kind, done)
            )

    for row in applications:
        state = words("application", row.state)
        if row.submitted_at:
            add(row.id, row.submitted_at, _("Application submitted"), state, "submitted", True)
        elif row.state in ("draft", "proposal_draft") and row.call_state == "open":
            if row.closes_at and row.closes_at > now:
                add(row.id, row.closes_at, _("Deadline of the call"), state, "deadline", False)

    ids = list(lane_of)
    # Most associations have no grant yet: what has no award asks nothing of the database.
    awards = _rows(
        ids,
        select(
            Award.id, Award.application_id, Award.state, Award.offered_at, Award.accepted_at
        ).where(Award.association_id == association.id, Award.application_id.in_(ids)),
    )
    application_of = {award.id: award.application_id for award in awards}
    for award in awards:
        state = words("award", award.state)
        add(award.application_id, award.offered_at, _("Grant offered"), state, "award", True)
        if award.state == "offered":
            add(
                award.application_id, award.offered_at, _("Answer the offer"), state, "offer", False
            )
        if award.accepted_at:
            add(award.application_id, award.accepted_at, _("Grant accepted"), state, "award", True)

    award_ids = list(application_of)
    reports = _rows(
        award_ids,
        select(Report.award_id, Report.kind, Report.due_date, Report.state, Report.submitted_at)
        .where(Report.award_id.in_(award_ids))
        .order_by(Report.due_date),
    )
    ends: dict[int, date] = {}
    for report in reports:
        application_id = application_of[report.award_id]
        what = _("Interim report due") if report.kind == "interim" else _("Final report due")
        done = report.submitted_at is not None and report.state != "changes_requested"
        state = words("report", report.state)
        add(application_id, report.due_date, what, state, "report", done)
        ends[application_id] = max(report.due_date, ends.get(application_id, report.due_date))
    tranches = _rows(
        award_ids,
        select(Tranche.award_id, Tranche.position, Tranche.payment_date, Tranche.paid_at).where(
            Tranche.award_id.in_(award_ids), Tranche.state == "paid"
        ),
    )
    for tranche in tranches:
        add(
            application_of[tranche.award_id],
            tranche.payment_date or tranche.paid_at,
            _("Tranche %(position)s paid", position=tranche.position),
            "",
            "payment",
            True,
        )

    starts = {award.application_id: _day(award.offered_at) for award in awards}
    lanes = tuple(
        Lane(names[row.id], starts.get(row.id), ends.get(row.id) or starts.get(row.id))
        for row in applications
    )
    events.sort(key=lambda event: (event.when, event.lane, event.what))
    days = [event.when for event in events] + [today]
    days += [lane.grant_end for lane in lanes if lane.grant_end]
    due = [event for event in events if not event.done and event.kind in DUE_KINDS]
    return Timeline(
        lanes=lanes,
        events=tuple(events),
        today=today,
        first=min(days) - MARGIN,
        last=max(days) + MARGIN,
        next_due=due[0] if due else None,
        more=more,
    )
