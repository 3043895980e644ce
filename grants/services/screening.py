"""Screening: the officers' list of a call's applications and the eligibility checks.

The list is one query for the page's rows (associations joined), one for the count of
all that match and one for the rows' co-financing shares, whatever the number of
applications.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from math import ceil
from typing import Any

from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from grants.extensions import db
from grants.i18n import reader_moment
from grants.labels import state_label
from grants.models.applications import (
    Application,
    BudgetLine,
    CoFinancing,
    cofinancing_share,
)
from grants.models.associations import Association
from grants.models.calls import Call
from grants.numbers import money_text
from grants.orm import utcnow
from workflows import application as rules
from workflows.application import ApplicationLifecycle
from workflows.base import Context

STATES = ApplicationLifecycle.state_values()
FLAGS = ("amount", "cofinancing")
SORTS = {
    "reference": Application.reference,
    "association": Association.name,
    "amount": Application.amount_requested,
    "submitted": Application.submitted_at,
}


@dataclass(frozen=True)
class Filters:
    state: str = ""
    country: str = ""
    verified: str = ""
    #: "amount" (outside the call's limits) or "cofinancing" (below the minimum share).
    flag: str = ""
    query: str = ""
    sort: str = "reference"
    descending: bool = False
    page: int = 1

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        state = args.get("state", "")
        sort = args.get("sort", "reference")
        return cls(
            state=state if state in STATES else "",
            country=(args.get("country", "") or "")[:2].upper(),
            verified=args.get("verified", "") if args.get("verified") in ("yes", "no") else "",
            flag=args.get("flag", "") if args.get("flag") in FLAGS else "",
            query=(args.get("q", "") or "").strip()[:100],
            sort=sort if sort in SORTS else "reference",
            descending=args.get("order") == "desc",
            page=max(args.get("page", 1, type=int) or 1, 1),
        )


#: What a screening row shows: its columns, read as plain rows. The page is thrown away
#: once drawn, so tracking 25 applications and their associations as objects (each
#: unloaded column given a loader, everything expired again at the commit) was work for
#: nothing.
LISTED = (
    Application.id,
    Application.reference,
    Application.country,
    Application.state,
    Application.amount_requested,
    Association.name.label("association_name"),
    Association.state.label("association_state"),
)


@dataclass(frozen=True)
class ScreeningPage:
    """A page of the list: its rows, the count of all that match, and what the pager
    asks (as Flask-SQLAlchemy's pages answer it)."""

    items: list[Any]
    page: int
    per_page: int
    total: int
    cofinancing_shares: dict[int, Decimal]

    @property
    def pages(self) -> int:
        return ceil(self.total / self.per_page) if self.total else 0

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None


def applications_of_call(call: Call, filters: Filters, per_page: int = 25) -> ScreeningPage:
    statement = select(Application.id).where(
        Application.call_id == call.id, Application.state != "draft"
    )
    joined = filters.verified or filters.query or filters.sort == "association"
    if joined:
        statement = statement.join(Application.association)
    if filters.state:
        statement = statement.where(Application.state == filters.state)
    if filters.country:
        statement = statement.where(Application.country == filters.country)
    if filters.verified:
        verified = Association.state == "verified"
        statement = statement.where(verified if filters.verified == "yes" else ~verified)
    if filters.flag == "amount":
        statement = statement.where(
            or_(
                Application.amount_requested.is_(None),
                Application.amount_requested < call.min_grant,
                Application.amount_requested > call.max_grant,
            )
        )
    if filters.flag == "cofinancing":
        budget, brought = _sums()
        statement = statement.where(brought * 100 < budget * call.min_cofinancing_share)
    if filters.query:
        like = f"%{filters.query.lower()}%"
        statement = statement.where(
            or_(Application.reference.ilike(like), Association.name.ilike(like))
        )
    # Counted over the ids, joined to the associations only when a filter needs them:
    # PostgreSQL then counts from the (call, state) index without reading the rows.
    total = db.session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    column = SORTS[filters.sort]
    order = column.desc() if filters.descending else column.asc()
    rows = statement.with_only_columns(*LISTED, maintain_column_froms=True)
    if not joined:
        rows = rows.join_from(Application, Association, Application.association)
    items = db.session.execute(
        rows.order_by(order.nulls_last(), Application.id)
        .limit(per_page)
        .offset((filters.page - 1) * per_page)
    ).all()
    return ScreeningPage(
        items=items,
        page=filters.page,
        per_page=per_page,
        total=total,
        cofinancing_shares=_cofinancing_shares([row.id for row in items]),
    )


def _sums() -> tuple[Any, Any]:
    """An application's budget total and what its co-financing brings, as SQL."""
    budget = (
        select(func.coalesce(func.sum(BudgetLine.quantity * BudgetLine.unit_cost), 0))
        .where(BudgetLine.application_id == Application.id)
        .scalar_subquery()
    )
    brought = (
        select(func.coalesce(func.sum(CoFinancing.amount), 0))
        .where(CoFinancing.application_id == Application.id)
        .scalar_subquery()
    )
    return budget, brought


def _cofinancing_shares(ids: list[int]) -> dict[int, Decimal]:
    """Each application's co-financing share, summed by the database in one statement
    rather than from two hundred budget lines loaded as objects."""
    if not ids:
        return {}
    budget, brought = _sums()
    rows = db.session.execute(
        select(Application.id, budget, brought).where(Application.id.in_(ids))
    )
    return {row[0]: cofinancing_share(Decimal(str(row[2])), Decimal(str(row[1]))) for row in rows}


@dataclass(frozen=True)
class Check:
    label: str
    passed: bool
    detail: str = ""


def eligibility_checks(application: Application) -> list[Check]:
    """The automatic checks an officer sees before marking an application (in)eligible.

    They are the submission guards of the application machine, read again now: a rule
    is written once, in ``workflows/application.py``.
    """
    call = application.call
    ctx = Context(actor=None, now=utcnow())
    amount = application.amount_requested
    missing_documents = rules.required_documents_present(application, ctx)
    on_time = application.submitted_at is not None and (
        call.closes_at is None or application.submitted_at <= call.closes_at
    )
    share = application.cofinancing_share
    locale = str(get_locale())
    return [
        Check(
            _("Association verified"),
            application.association.state == "verified",
            state_label("association", application.association.state),
        ),
        Check(
            _("Amount within the call's limits"),
            amount is not None and rules.amount_within_limits(application, ctx) is None,
            f"{money_text(amount or 0, call.currency, locale)} "
            f"({money_text(call.min_grant, call.currency, locale)}–"
            f"{money_text(call.max_grant, call.currency, locale)})",
        ),
        Check(
            _("Co-financing share"),
            rules.cofinancing_share_reached(application, ctx) is None,
            f"{format_decimal(share, format='0.0')} % "
            f"(≥ {format_decimal(call.min_cofinancing_share, format='0')} %)",
        ),
        Check(_("Required documents present"), missing_documents is None, missing_documents or ""),
        Check(
            _("Submitted before the deadline"),
            on_time,
            reader_moment(application.submitted_at),
        ),
    ]
