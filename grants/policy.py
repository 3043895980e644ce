"""Who may see which records: declared once here, asked by the pages, the API, the
exports and every list.

Each ``Visibility`` turns a person into a SQL condition on one model: ``None`` when the
person sees every record (their roles say so), a condition on the person's associations
or own records otherwise, and a condition no row meets for everyone else. Lists filter
with it, and one record is loaded with it in the same statement, so a record a person
may not see is never loaded for them: it is "not found" (404), whether it exists or not.
What a person may *do* with a record they see is the lifecycle's business (the roles of
each transition in ``workflows``), checked by the services.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, false, or_, select

from grants.extensions import db
from grants.models.accounts import User
from grants.models.applications import Application
from grants.models.associations import Association
from grants.models.awards import Award, Report, Tranche
from grants.models.bulk_actions import BulkRun
from grants.models.calls import Call
from grants.models.conversations import Message, Thread
from grants.models.duplicates import DuplicateVerdict
from grants.models.reviews import ConflictDeclaration, Review
from grants.roles import ADMIN, EVALUATOR, FINANCE_OFFICER, PROGRAMME_OFFICER
from grants.services.errors import NotFound

#: The programme's staff: they see every association, award, tranche and report.
STAFF = frozenset({ADMIN, PROGRAMME_OFFICER, FINANCE_OFFICER})
#: Those who run calls and evaluations: they also see drafts, applications and reviews.
PROGRAMME = frozenset({ADMIN, PROGRAMME_OFFICER})


def member_of(person: User) -> list[int]:
    """The associations the person is a member of."""
    return [membership.association_id for membership in person.memberships]


@dataclass(frozen=True)
class Visibility:
    """The records of ``model`` a person may see.

    ``everything``: roles that see them all. ``own``: for anyone else, the condition on
    the rows they see (``None``: they see none)."""

    model: Any
    everything: frozenset[str]
    own: Callable[[User], ColumnElement[bool] | None]
    missing: Any

    def condition(self, person: User) -> ColumnElement[bool] | None:
        """``None`` when the person sees every record; otherwise what their rows meet."""
        if self.everything & person.role_names:
            return None
        condition = self.own(person)
        return false() if condition is None else condition

    def select(self, person: User) -> Select:
        """The records the person may see, as a statement to filter, sort and page."""
        condition = self.condition(person)
        statement = select(self.model)
        return statement if condition is None else statement.where(condition)

    def get(self, person: User, record_id: int, *options: Any) -> Any:
        """One record the person may see, with ``options`` shaping what is loaded; 404
        (the same answer whether it exists or not) when they may not."""
        condition = self.condition(person)
        if condition is None:
            record = db.session.get(self.model, record_id, options=options)
        else:
            record = db.session.scalars(
                select(self.model).where(self.model.id == record_id, condition).options(*options)
            ).first()
        if record is None:
            raise NotFound(str(self.missing))
        return record

    def allows(self, person: User, record: Any) -> bool:
        """Whether the person may see a record already loaded."""
        condition = self.condition(person)
        if condition is None:
            return True
        return (
            db.session.scalar(select(self.model.id).where(self.model.id == record.id, condition))
            is not None
        )


def _in_own_associations(column: Any) -> Callable[[User], ColumnElement[bool] | None]:
    """Rows whose ``column`` is one of the person's associations."""

    def own(person: User) -> ColumnElement[bool] | None:
        mine = member_of(person)
        return column.in_(mine) if mine else None

    return own


def _reviews_own(person: User) -> ColumnElement[bool] | None:
    """An evaluator's own reviews, gone once they declare a conflict with the association
    (on the review, or for the association as a whole)."""
    if EVALUATOR not in person.role_names:
        return None
    # Checked per review row (an evaluator has dozens), by index, not over every
    # application of the programme.
    conflicted = (
        select(ConflictDeclaration.id)
        .join(Application, Application.association_id == ConflictDeclaration.association_id)
        .where(
            Application.id == Review.application_id,
            ConflictDeclaration.evaluator_id == person.id,
        )
    )
    return and_(
        Review.evaluator_id == person.id,
        Review.state != "conflicted",
        ~conflicted.exists(),
    )


def _of_own_awards(column: Any) -> Callable[[User], ColumnElement[bool] | None]:
    def own(person: User) -> ColumnElement[bool] | None:
        mine = member_of(person)
        if not mine:
            return None
        return column.in_(select(Award.id).where(Award.association_id.in_(mine)))

    return own


#: Published calls are public; drafts are for those who run calls.
CALLS = Visibility(Call, PROGRAMME, lambda person: Call.state != "draft", _l("No such call."))
#: Staff see every association; members see their own.
ASSOCIATIONS = Visibility(
    Association, STAFF, _in_own_associations(Association.id), _l("No such association.")
)
#: Programme officers and admins see every application; members, their association's.
#: Evaluators read an application only through their review (``evaluation``), where a
#: blind call hides who applied.
APPLICATIONS = Visibility(
    Application,
    PROGRAMME,
    _in_own_associations(Application.association_id),
    _l("No such application."),
)
#: Programme officers and admins see every review; evaluators their own.
REVIEWS = Visibility(Review, PROGRAMME, _reviews_own, _l("No such review."))
#: Staff see every award, tranche and report; members their association's.
AWARDS = Visibility(Award, STAFF, _in_own_associations(Award.association_id), _l("No such award."))
TRANCHES = Visibility(Tranche, STAFF, _of_own_awards(Tranche.award_id), _l("No such tranche."))
REPORTS = Visibility(Report, STAFF, _of_own_awards(Report.award_id), _l("No such report."))

#: Those who run calls read the results of every bulk action on their lists.
BULK_RUNS = Visibility(BulkRun, PROGRAMME, lambda person: None, _l("No such bulk action."))

#: Admins see every person (the people pages are theirs); no one else finds people.
PEOPLE = Visibility(User, frozenset({ADMIN}), lambda person: None, _l("No such person."))


def _threads_own(person: User) -> ColumnElement[bool] | None:
    """Members read their association's threads; finance officers the grants' threads.
    Evaluators have no thread: the notes shared with them show on their review."""
    conditions = []
    if mine := member_of(person):
        conditions.append(Thread.association_id.in_(mine))
    if FINANCE_OFFICER in person.role_names:
        conditions.append(Thread.award_id.is_not(None))
    return or_(*conditions) if conditions else None


def _messages_own(person: User) -> ColumnElement[bool] | None:
    """Members read what is said to them, never the staff's notes; finance officers
    everything on a grant; an evaluator the notes an officer shared on an application
    they review, once they have declared no conflict with it, except in a blind call,
    where a note could name the association."""
    conditions = []
    if mine := member_of(person):
        conditions.append(
            and_(
                Message.kind != "note",
                Message.thread_id.in_(select(Thread.id).where(Thread.association_id.in_(mine))),
            )
        )
    if FINANCE_OFFICER in person.role_names:
        conditions.append(
            Message.thread_id.in_(select(Thread.id).where(Thread.award_id.is_not(None)))
        )
    if EVALUATOR in person.role_names:
        reviewed = (
            select(Application.id)
            .join(Call, Call.id == Application.call_id)
            .join(Review, Review.application_id == Application.id)
            .where(
                Call.blind_review.is_(False),
                Review.no_conflict_attested_at.is_not(None),
                _reviews_own(person),
            )
        )
        conditions.append(
            and_(
                Message.kind == "note",
                Message.shared_with_evaluators.is_(True),
                Message.thread_id.in_(select(Thread.id).where(Thread.application_id.in_(reviewed))),
            )
        )
    return or_(*conditions) if conditions else None


#: Programme officers and admins read every thread; members and finance their part.
THREADS = Visibility(Thread, PROGRAMME, _threads_own, _l("No such conversation."))
#: What each person reads in the threads they see (notes are the staff's).
MESSAGES = Visibility(Message, PROGRAMME, _messages_own, _l("No such message."))
#: The duplicate check (the applications most like one, the verdicts on pairs): programme
#: officers and admins; never the associations, whose rivals it names, nor evaluators.
DUPLICATE_CHECK = Visibility(
    DuplicateVerdict, PROGRAMME, lambda person: None, _l("No such application.")
)

BY_MODEL = {
    rule.model: rule
    for rule in (
        CALLS,
        ASSOCIATIONS,
        APPLICATIONS,
        REVIEWS,
        AWARDS,
        TRANCHES,
        REPORTS,
        THREADS,
        MESSAGES,
    )
}


def visibility_of(model: Any) -> Visibility:
    return BY_MODEL[model]
