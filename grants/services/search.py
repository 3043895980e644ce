"""One search for the programme's staff: applications, associations, grants and people.

The index (``models/search.SearchEntry``) is written in the same transaction as the
change to its records: after each flush, the entries of the records whose searched
fields changed are built again from the database (one statement per kind) and upserted.
An autosave of a draft's summary touches nothing searched (a draft is found by its
reference, title and association, not by text still being written), so the deadline's
saves cost the index nothing.

What a person finds is what the policy layer lets them see: each kind's results are
limited by that kind's ``Visibility``, in the one statement that searches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import (
    and_,
    delete,
    event,
    false,
    func,
    inspect,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, load_only
from sqlalchemy.sql.elements import False_

from grants import policy
from grants.extensions import db
from grants.models import Application, Association, Award, User
from grants.models.calls import Call
from grants.models.search import KINDS, SearchEntry
from grants.orm import utcnow
from grants.reference import country_name
from grants.services.errors import Forbidden, InvalidInput
from grants.text_search import excerpt, marked, searchable, words
from workflows.application import ApplicationLifecycle
from workflows.association import AssociationLifecycle
from workflows.award import AwardLifecycle

#: The languages whose names of a country are searched ("Sénégal", "Senegal", "السنغال").
_LANGUAGES = ("en", "fr", "es", "ar")
#: Drafts are still being written: their texts are not searched until submitted.
_UNSEARCHED_TEXT_STATES = frozenset({"draft", "concept_draft"})
#: How many characters of each long text an entry keeps for its excerpt.
_BODY_MOST = 4000

#: The fields of each model whose change rebuilds entries, and the kinds rebuilt.
WATCHED: dict[type, tuple[frozenset[str], tuple[str, ...]]] = {
    Application: (
        frozenset(
            {
                "reference",
                "title",
                "summary",
                "objectives",
                "locality",
                "country",
                "state",
                "call_id",
                "association_id",
            }
        ),
        ("application", "award"),
    ),
    Association: (
        frozenset(
            {
                "name",
                "registration_number",
                "registration_country",
                "residence_country",
                "countries_of_work",
                "description",
                "state",
            }
        ),
        ("association", "application", "award"),
    ),
    Award: (frozenset({"state", "application_id", "association_id"}), ("award",)),
    User: (frozenset({"full_name", "email", "active"}), ("person",)),
}

#: The states each kind's results can be filtered by.
STATES = {
    "application": ApplicationLifecycle.state_values(),
    "association": AssociationLifecycle.state_values(),
    "award": AwardLifecycle.state_values(),
    "person": ("active", "inactive"),
}

#: The visibility each kind's results obey.
VISIBILITY = {
    "application": policy.APPLICATIONS,
    "association": policy.ASSOCIATIONS,
    "award": policy.AWARDS,
    "person": policy.PEOPLE,
}


def country_names(code: str | None) -> str:
    """A country's code and its names in the product's languages."""
    if not code:
        return ""
    names = [code] + [country_name(code.upper(), language) for language in _LANGUAGES]
    return " ".join(dict.fromkeys(names))


def _joined(*parts: str | None) -> str:
    return " · ".join(part.strip() for part in parts if part and part.strip())


# --- building entries ------------------------------------------------------------------


def _application_entries(connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    a, s = Application.__table__, Association.__table__
    rows = connection.execute(
        select(
            a.c.id,
            a.c.reference,
            a.c.title,
            a.c.summary,
            a.c.objectives,
            a.c.locality,
            a.c.country,
            a.c.state,
            a.c.call_id,
            s.c.name,
        )
        .join(s, s.c.id == a.c.association_id)
        .where(a.c.id.in_(list(ids)))
    )
    entries = []
    for row in rows:
        texts = "" if row.state in _UNSEARCHED_TEXT_STATES else _joined(row.summary, row.objectives)
        entries.append(
            {
                "kind": "application",
                "record_id": row.id,
                "label": _joined(row.reference, row.title)[:400],
                "detail": row.name[:400],
                "body": texts[:_BODY_MOST],
                "searched": " ".join(
                    (row.reference, row.title or "", row.name, row.locality or "", texts)
                )
                + " "
                + country_names(row.country),
                "call_id": row.call_id,
                "state": row.state,
                "country": row.country,
            }
        )
    return entries


def _association_entries(connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    s = Association.__table__
    rows = connection.execute(select(s).where(s.c.id.in_(list(ids))))
    entries = []
    for row in rows:
        countries = dict.fromkeys(
            [row.residence_country, row.registration_country, *(row.countries_of_work or [])]
        )
        entries.append(
            {
                "kind": "association",
                "record_id": row.id,
                "label": row.name[:400],
                "detail": row.registration_number[:400],
                "body": (row.description or "")[:_BODY_MOST],
                "searched": " ".join(
                    (row.name, row.registration_number, row.description or "")
                    + tuple(country_names(code) for code in countries if code)
                ),
                "call_id": None,
                "state": row.state,
                "country": row.residence_country,
            }
        )
    return entries


def _award_entries(connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    w, a, s = Award.__table__, Application.__table__, Association.__table__
    rows = connection.execute(
        select(w.c.id, w.c.state, a.c.reference, a.c.title, a.c.call_id, a.c.country, s.c.name)
        .join(a, a.c.id == w.c.application_id)
        .join(s, s.c.id == w.c.association_id)
        .where(w.c.id.in_(list(ids)))
    )
    return [
        {
            "kind": "award",
            "record_id": row.id,
            "label": _joined(row.reference, row.title)[:400],
            "detail": row.name[:400],
            "body": "",
            "searched": " ".join((row.reference, row.title or "", row.name))
            + " "
            + country_names(row.country),
            "call_id": row.call_id,
            "state": row.state,
            "country": row.country,
        }
        for row in rows
    ]


def _person_entries(connection, ids: Iterable[int]) -> list[dict[str, Any]]:
    u = User.__table__
    rows = connection.execute(
        select(u.c.id, u.c.full_name, u.c.email, u.c.active).where(u.c.id.in_(list(ids)))
    )
    return [
        {
            "kind": "person",
            "record_id": row.id,
            "label": (row.full_name or row.email)[:400],
            "detail": row.email[:400],
            "body": "",
            "searched": f"{row.full_name or ''} {row.email} {row.email.replace('@', ' ')}",
            "call_id": None,
            "state": "active" if row.active else "inactive",
            "country": None,
        }
        for row in rows
    ]


_BUILDERS = {
    "application": _application_entries,
    "association": _association_entries,
    "award": _award_entries,
    "person": _person_entries,
}


def reindex(connection, kind: str, ids: Iterable[int]) -> int:
    """Build the entries of ``kind`` for ``ids`` again; those whose record is gone are
    removed. Returns how many entries were written."""
    ids = sorted(set(ids))
    if not ids:
        return 0
    entries = _BUILDERS[kind](connection, ids)
    now = utcnow()
    for entry in entries:
        entry["folded"] = searchable(entry.pop("searched"))
        entry["updated_at"] = now
    gone = set(ids) - {entry["record_id"] for entry in entries}
    if gone:
        connection.execute(
            delete(SearchEntry).where(SearchEntry.kind == kind, SearchEntry.record_id.in_(gone))
        )
    if entries:
        insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
        statement = insert(SearchEntry.__table__).values(entries)
        columns = ("label", "detail", "body", "folded", "call_id", "state", "country")
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["kind", "record_id"],
                set_={name: statement.excluded[name] for name in (*columns, "updated_at")},
            )
        )
    return len(entries)


def rebuild(connection, batch: int = 2000) -> dict[str, int]:
    """Every entry built again from the records (after the migration that created the
    index, or to repair it): ``flask search rebuild``."""
    written = {}
    for kind, model in (
        ("application", Application),
        ("association", Association),
        ("award", Award),
        ("person", User),
    ):
        table = model.__table__
        connection.execute(delete(SearchEntry).where(SearchEntry.kind == kind))
        written[kind] = 0
        last = 0
        while True:
            ids = list(
                connection.scalars(
                    select(table.c.id).where(table.c.id > last).order_by(table.c.id).limit(batch)
                )
            )
            if not ids:
                break
            written[kind] += reindex(connection, kind, ids)
            last = ids[-1]
    return written


# --- keeping the index up to date --------------------------------------------------------


def _changed(record: Any, fields: frozenset[str]) -> bool:
    state = inspect(record)
    if isinstance(record, Application) and record.state in _UNSEARCHED_TEXT_STATES:
        fields = fields - {"summary", "objectives"}
    return any(state.attrs[name].history.has_changes() for name in fields)


def _due(session: Session) -> dict[str, set[int]]:
    """The entries this flush makes stale: (kind, ids), from the records it wrote."""
    due: dict[str, set[int]] = defaultdict(set)
    for record in (*session.new, *session.dirty, *session.deleted):
        watched = WATCHED.get(type(record))
        if watched is None:
            continue
        fields, kinds = watched
        if record in session.dirty and not _changed(record, fields):
            continue
        if isinstance(record, Association):
            due["association"].add(record.id)
            due["_association"].add(record.id)
        elif isinstance(record, Application):
            due["application"].add(record.id)
            due["_application"].add(record.id)
        elif isinstance(record, Award):
            due["award"].add(record.id)
        else:
            due["person"].add(record.id)
    return due


@event.listens_for(Session, "after_flush")
def _keep_index(session: Session, _context) -> None:
    due = _due(session)
    if not due:
        return
    connection = session.connection()
    a, w = Application.__table__, Award.__table__
    if due.get("_association"):
        owners = list(due.pop("_association"))
        due["application"].update(
            connection.scalars(select(a.c.id).where(a.c.association_id.in_(owners)))
        )
        due["award"].update(
            connection.scalars(select(w.c.id).where(w.c.association_id.in_(owners)))
        )
    if due.get("_application"):
        applications = list(due.pop("_application"))
        due["award"].update(
            connection.scalars(select(w.c.id).where(w.c.application_id.in_(applications)))
        )
    for kind in KINDS:
        if due.get(kind):
            reindex(connection, kind, due[kind])


# --- searching ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    kind: str
    record_id: int
    label: Any  # Markup, the words found marked
    detail: Any
    excerpt: Any
    state: str | None
    country: str | None


@dataclass(frozen=True)
class SearchPage:
    query: str
    words: list[str]
    results: list[Result]
    page: int
    has_next: bool


def check_may_search(person: User) -> None:
    if not (policy.STAFF & person.role_names):
        raise Forbidden(_("The search is for the programme's staff."))


def _visible(person: User):
    """The condition on entries that keeps what the person may see, kind by kind."""
    allowed = []
    for kind, rule in VISIBILITY.items():
        condition = rule.condition(person)
        if condition is None:
            allowed.append(SearchEntry.kind == kind)
        elif not isinstance(condition, False_):
            ids = select(rule.model.id).where(condition)
            allowed.append(and_(SearchEntry.kind == kind, SearchEntry.record_id.in_(ids)))
    return or_(*allowed) if allowed else false()


PER_PAGE = 20


def search(
    person: User,
    query: str,
    *,
    kind: str | None = None,
    call_id: int | None = None,
    state: str | None = None,
    country: str | None = None,
    page: int = 1,
) -> SearchPage:
    """The entries matching every word of ``query`` (each as the start of a word), newest
    first, that the person may see; one statement, whatever the number of results."""
    check_may_search(person)
    problems: dict[str, list[str]] = {}
    found = words(query or "")
    if not found:
        problems["q"] = [_("Type at least one word or number to search for.")]
    if kind and kind not in KINDS:
        problems["kind"] = [_("Choose what to search among the kinds offered.")]
    if country and (len(country) != 2 or not country.isalpha()):
        problems["country"] = [_("Give a country as its two-letter code, such as SN.")]
    if page < 1:
        problems["page"] = [_("Pages are numbered from 1.")]
    if problems:
        raise InvalidInput(_("The search could not be run."), problems)

    dialect = db.session.get_bind().dialect.name
    statement = select(SearchEntry).where(_visible(person))
    if dialect == "postgresql":
        terms = func.to_tsquery("simple", " & ".join(f"{word}:*" for word in found))
        vector = literal_column("search_entries.search_vector")
        phrase = " ".join(found)
        statement = statement.where(
            or_(vector.op("@@")(terms), SearchEntry.folded.contains(phrase, autoescape=True))
        )
    else:
        match = " AND ".join(f'"{word}"*' for word in found)
        fts = (
            select(literal_column("rowid").label("id"))
            .select_from(text("search_fts"))
            .where(text("search_fts MATCH :match").bindparams(match=match))
            .subquery()
        )
        statement = statement.join(fts, fts.c.id == SearchEntry.id)
    if kind:
        statement = statement.where(SearchEntry.kind == kind)
    if call_id:
        statement = statement.where(SearchEntry.call_id == call_id)
    if state:
        statement = statement.where(SearchEntry.state == state)
    if country:
        statement = statement.where(SearchEntry.country == country.upper())
    # Newest entries first, not by relevance: every result holds every word, and ranking
    # thousands of matches of a common word ("Sénégal") costs 150 ms where reading the
    # newest twenty along the primary key costs under one.
    rows = list(
        db.session.scalars(
            statement.order_by(SearchEntry.id.desc())
            .limit(PER_PAGE + 1)
            .offset((page - 1) * PER_PAGE)
        )
    )
    return SearchPage(
        query=query,
        words=found,
        results=[
            Result(
                kind=row.kind,
                record_id=row.record_id,
                label=marked(row.label, found),
                detail=marked(row.detail, found),
                excerpt=excerpt(row.body, found) if row.body else None,
                state=row.state,
                country=row.country,
            )
            for row in rows[:PER_PAGE]
        ],
        page=page,
        has_next=len(rows) > PER_PAGE,
    )


def searchable_calls(person: User) -> list[Call]:
    """The calls offered in the search's call filter: those the person may see."""
    return list(
        db.session.scalars(
            policy.CALLS.select(person)
            .options(load_only(Call.id, Call.code, Call.language, Call.title))
            .order_by(Call.id.desc())
        )
    )


def countries_searched() -> list[str]:
    """The countries offered in the search's country filter: where the calls fund
    projects and where the associations' members live."""
    codes: set[str] = set()
    for countries in db.session.scalars(select(Call.countries)):
        codes.update(countries or [])
    codes.update(db.session.scalars(select(Association.residence_country).distinct()))
    return sorted(code for code in codes if code)
