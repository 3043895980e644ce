"""Calls: what is open now, who runs what, and the officers' call form."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, select

from grants import policy
from grants import text_limits as limits
from grants.extensions import db
from grants.models.accounts import User
from grants.models.applications import Application
from grants.models.calls import Call, Criterion, DocumentType
from grants.orm import utcnow
from grants.reference import active_currencies, language_names
from grants.roles import PROGRAMME_OFFICER
from grants.services import audit
from grants.services.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.call import CallLifecycle, grant_limit_problems


def open_calls(page: int = 1, per_page: int = 20, count: bool = True):
    """Open calls whose deadline has not passed, the soonest deadline first; counted
    only when ``count`` (a list without pages, like the home page's, needs no total)."""
    statement = (
        select(Call)
        .where(Call.state == "open", Call.closes_at > utcnow())
        .order_by(Call.closes_at, Call.id)
    )
    return db.paginate(statement, page=page, per_page=per_page, error_out=False, count=count)


def calls_run_by(user: User, limit: int = 20) -> list[Call]:
    """The calls a programme officer created, newest first."""
    statement = (
        select(Call)
        .where(Call.created_by_id == user.id)
        .order_by(Call.created_at.desc(), Call.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(statement))


def all_calls(page: int = 1, per_page: int = 25):
    """Every call for the officers, newest first, and the number of applications of each
    call on the page (one grouped query, whatever the page size)."""
    calls = db.paginate(
        select(Call).order_by(Call.created_at.desc(), Call.id.desc()),
        page=page,
        per_page=per_page,
        error_out=False,
    )
    ids = [call.id for call in calls.items]
    counts = (
        dict(
            db.session.execute(
                select(Application.call_id, func.count(Application.id))
                .where(Application.call_id.in_(ids))
                .group_by(Application.call_id)
            ).all()
        )
        if ids
        else {}
    )
    return calls, counts


def visible_call(user: User, call_id: int) -> Call:
    """A call the person may see (``policy.CALLS``: drafts only to programme staff)."""
    return policy.CALLS.get(user, call_id)


def find_call(code: str) -> Call:
    call = db.session.scalar(select(Call).where(Call.code == code))
    if call is None:
        raise NotFound(_("No such call."))
    return call


def local_moment(moment, zone: str):
    """A naive date-time typed in the call's time zone, as an aware UTC instant."""
    if moment is None:
        return None
    return moment.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _apply(call: Call, data: dict[str, Any]) -> None:
    zone = data["timezone"]
    call.code = data["code"]
    call.language = data["language"]
    call.title = data["title"]
    call.description = data["description"]
    call.sector = data["sector"]
    call.countries = list(data["countries"])
    call.sdg_targets = data["sdg_targets"]
    call.currency = data["currency"]
    call.envelope = data["envelope"] or Decimal("0")
    call.min_grant = data["min_grant"] or Decimal("0")
    call.max_grant = data["max_grant"] or Decimal("0")
    call.min_cofinancing_share = data["min_cofinancing_share"] or Decimal("0")
    call.timezone = zone
    call.opens_at = local_moment(data["opens_at"], zone)
    call.closes_at = local_moment(data["closes_at"], zone)
    call.proposal_closes_at = local_moment(data.get("proposal_closes_at"), zone)
    call.two_stage = bool(data["two_stage"])
    call.require_verified_association = bool(data["require_verified_association"])
    main = call.language
    # The questions a criterion scores stay with the criterion of the same name.
    scored = {c.name.get(main): c.question_keys for c in call.criteria if c.question_keys}
    call.criteria = [
        Criterion(
            position=index,
            name={main: row["name"].strip()},
            description={main: (row.get("description") or "").strip()},
            weight=row["weight"] or Decimal("0"),
            scale_min=row.get("scale_min") or 0,
            scale_max=row.get("scale_max") or 5,
            question_keys=scored.get(row["name"].strip(), []),
        )
        for index, row in enumerate(data["criteria"], start=1)
    ]
    call.document_types = [
        DocumentType(
            position=index,
            name={main: row["name"].strip()},
            help={main: (row.get("help") or "").strip()},
            required=row["required"],
            identifying=row["identifying"],
            max_size_mb=row["max_size_mb"] or 10,
            allowed_kinds=list(row["allowed_kinds"]),
        )
        for index, row in enumerate(data["document_types"], start=1)
    ]
    call.indicators = [
        {
            "name": {main: row["name"].strip()},
            "unit": (row.get("unit") or "").strip(),
            "by_sex": bool(row["by_sex"]),
        }
        for row in data["indicators"]
    ]
    call.tranche_schedule = [
        {"percentage": str(row["percentage"]), "after_report": row["after_report"] or None}
        for row in data["tranches"]
    ]
    call.report_schedule = [
        {"kind": row["kind"], "months": row["months"]} for row in data["reports"]
    ]


#: The fields of a call its audit rows compare before and after an edit.
AUDITED_FIELDS = (
    "code",
    "language",
    "title",
    "description",
    "sector",
    "countries",
    "sdg_targets",
    "currency",
    "envelope",
    "min_grant",
    "max_grant",
    "min_cofinancing_share",
    "timezone",
    "opens_at",
    "closes_at",
    "proposal_closes_at",
    "two_stage",
    "require_verified_association",
    "indicators",
    "tranche_schedule",
    "report_schedule",
)


def audited(call: Call) -> dict[str, Any]:
    """The call as its audit rows compare it: its fields, its rubric and its documents."""
    values = audit.snapshot(call, AUDITED_FIELDS)
    values["criteria"] = audit.plain(
        [
            [criterion.name, criterion.weight, criterion.scale_min, criterion.scale_max]
            for criterion in call.criteria
        ]
    )
    values["document_types"] = audit.plain(
        [
            [document_type.name, document_type.required, document_type.max_size_mb]
            for document_type in call.document_types
        ]
    )
    return values


def money_problems(data: dict[str, Any]) -> dict[str, list[str]]:
    """What is wrong with a call's currency and amounts, by field: a currency in use
    (ISO 4217), and the order of the amounts the call machine checks again at publishing."""
    problems: dict[str, list[str]] = {}
    if data.get("currency") not in active_currencies():
        problems["currency"] = [_("Choose a currency in use, such as USD, EUR or XOF.")]
    limits = grant_limit_problems(
        data.get("envelope"), data.get("min_grant"), data.get("max_grant")
    )
    for field, sentence in limits.items():
        problems.setdefault(field, []).append(str(sentence))
    return problems


def title_problems(data: dict[str, Any]) -> dict[str, list[str]]:
    """A call is listed and cited by its title in its main language: it needs one,
    named by the field of that language (``title_fr``)."""
    language = data.get("language") or ""
    if (data.get("title") or {}).get(language, "").strip():
        return {}
    name = language_names(str(get_locale() or "en")).get(language, language)
    return {
        f"title_{language}": [
            _("Give the call a title in its main language, %(language)s.", language=name)
        ]
    }


def text_problems(data: dict[str, Any]) -> dict[str, list[str]]:
    """Titles and descriptions, in every language, within their limits; named by the
    form's field of that language (``description_fr``)."""
    problems: dict[str, list[str]] = {}
    for name, limit in (("title", limits.CALL_TITLE), ("description", limits.CALL_DESCRIPTION)):
        texts = data.get(name) if isinstance(data.get(name), dict) else {}
        for language, text in texts.items():
            problem = limit.problem(text)
            if problem:
                problems[f"{name}_{language}"] = [problem]
    return problems


def _check(data: dict[str, Any], exclude_id: int | None = None) -> None:
    problems = {**money_problems(data), **title_problems(data), **text_problems(data)}
    if _code_taken(data["code"], exclude_id=exclude_id):
        problems["code"] = [_("Another call has this code.")]
    if problems:
        message = next(iter(problems.values()))[0] if len(problems) == 1 else None
        raise InvalidInput(message or _("The call is not saved: see the fields."), problems)


def _code_taken(code: str, exclude_id: int | None = None) -> bool:
    statement = select(Call.id).where(Call.code == code)
    if exclude_id is not None:
        statement = statement.where(Call.id != exclude_id)
    return db.session.scalar(statement) is not None


def check_may_create(actor: User) -> None:
    """Programme officers create calls (before anything they send is read: 403 first)."""
    if PROGRAMME_OFFICER not in actor.role_names:
        raise Forbidden(_("Only a programme officer creates calls."))


def create_call(actor: User, data: dict[str, Any]) -> Call:
    """A new draft call; it is published through the call machine once complete."""
    check_may_create(actor)
    _check(data)
    call = Call(state=CallLifecycle.initial_value(), created_by_id=actor.id)
    _apply(call, data)
    db.session.add(call)
    db.session.flush()
    audit.record(
        actor,
        "call.created",
        ("call", call.id),
        {name: [None, value] for name, value in audited(call).items() if value not in (None, [])},
    )
    return call


def update_call(actor: User, call: Call, version: int, data: dict[str, Any]) -> None:
    """Change a draft call. Published calls change only through their transitions."""
    if call.state != "draft":
        raise Conflict(
            _("Only a draft call can be edited; an open call's deadline can be extended.")
        )
    if version != call.version:
        raise Conflict(
            _(
                "Someone else saved this call since you opened it; your changes "
                "are kept on this page."
            )
        )
    _check(data, exclude_id=call.id)
    before = audited(call)
    _apply(call, data)
    call.updated_at = utcnow()
    db.session.flush()
    after = audited(call)
    changes = {name: [before[name], after[name]] for name in before if before[name] != after[name]}
    if changes:
        audit.record(actor, "call.edited", ("call", call.id), changes)
