"""Duplicates and double funding: the applications most like one, across every call and
association, an officer's verdict on a pair, and the warning before an award when the
same association or locality already holds a grant for a similar project.

How alike two applications are is one rule for both databases: their title, summary,
locality, country and partners compared by ``rapidfuzz`` and weighted into a percentage
(``similarity``). What differs is how the candidates are found. On PostgreSQL a trigram
index (``pg_trgm``) on the locality (the title for an application naming none: a concept
note) finds the same village however it is spelled, and the association's index its
other projects: at most ``CANDIDATES`` + ``SAME_ASSOCIATION`` rows in one statement,
whatever the number of applications; on SQLite, the newest ``SQLITE_CANDIDATES`` of the
same association, country or locality.

The profiles compared (``models/duplicates``) are written in the same transaction as the
change to their application, after each flush, as the search's entries are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from rapidfuzz import fuzz
from sqlalchemy import delete, event, func, inspect, or_, select, tuple_, union
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Load, Session, joinedload, lazyload, load_only

from grants import policy
from grants import text_limits as limits
from grants.extensions import db
from grants.models.accounts import User
from grants.models.applications import Application, Partner
from grants.models.associations import Association
from grants.models.awards import Award
from grants.models.calls import Call
from grants.models.duplicates import VERDICTS, DuplicateProfile, DuplicateVerdict
from grants.models.history import HistoryEntry
from grants.orm import utcnow
from grants.roles import PROGRAMME_OFFICER
from grants.services import audit
from grants.services.errors import Forbidden, InvalidInput
from grants.text_search import searchable

#: Drafts are still being written: they are compared once submitted.
UNPROFILED_STATES = frozenset({"draft", "proposal_draft"})
#: Where an officer records a verdict: from the screening to the committee's decision.
CHECKED_STATES = (
    "concept_submitted",
    "submitted",
    "eligible",
    "in_review",
    "reviewed",
    "waitlisted",
)
#: A grant the association or locality "already holds".
HELD_GRANT_STATES = ("offered", "active", "suspended")
#: Shown as similar from this percentage.
SIMILAR_FROM = 70
#: How many similar applications the application page lists.
SHOWN = 5
#: Rows one lookup reads at most: by trigrams of the locality (or title), and of the
#: same association.
CANDIDATES = 40
SAME_ASSOCIATION = 20
SQLITE_CANDIDATES = 500
#: How many characters of the summary are compared (a summary's opening says what the
#: project is; the rest costs time to compare and adds little).
SUMMARY_COMPARED = 1500

#: The weight of each compared part; parts one of the two lacks are left out.
WEIGHTS = {"title": 35, "summary": 35, "locality": 15, "country": 5, "partners": 10}

_WATCHED = frozenset(
    {"title", "summary", "locality", "country", "state", "call_id", "association_id"}
)


# --- how alike ---------------------------------------------------------------------------


def similarity(one: Any, other: Any) -> int:
    """How alike two profiles are, in percent (0–100)."""
    parts: list[tuple[float, int]] = []
    if one.title and other.title:
        parts.append((fuzz.token_sort_ratio(one.title, other.title), WEIGHTS["title"]))
    if one.summary and other.summary:
        parts.append((fuzz.token_sort_ratio(one.summary, other.summary), WEIGHTS["summary"]))
    if one.locality and other.locality:
        parts.append((fuzz.ratio(one.locality, other.locality), WEIGHTS["locality"]))
    if one.country and other.country:
        parts.append((100.0 if one.country == other.country else 0.0, WEIGHTS["country"]))
    if one.partners and other.partners:
        parts.append((fuzz.token_set_ratio(one.partners, other.partners), WEIGHTS["partners"]))
    total = sum(weight for _, weight in parts)
    if not total:
        return 0
    return round(sum(score * weight for score, weight in parts) / total)


# --- keeping the profiles up to date -----------------------------------------------------


def _profiles(connection, ids: list[int]) -> list[dict[str, Any]]:
    a, p = Application.__table__, Partner.__table__
    rows = list(
        connection.execute(
            select(
                a.c.id,
                a.c.call_id,
                a.c.association_id,
                a.c.state,
                a.c.country,
                a.c.locality,
                a.c.title,
                a.c.summary,
            ).where(a.c.id.in_(ids), a.c.state.not_in(UNPROFILED_STATES))
        )
    )
    names: dict[int, list[str]] = {}
    if rows:
        for row in connection.execute(
            select(p.c.application_id, p.c.name)
            .where(p.c.application_id.in_([row.id for row in rows]))
            .order_by(p.c.application_id, p.c.position)
        ):
            names.setdefault(row.application_id, []).append(row.name)
    now = utcnow()
    profiles = []
    for row in rows:
        title, locality = searchable(row.title or ""), searchable(row.locality or "")[:200]
        profiles.append(
            {
                "application_id": row.id,
                "call_id": row.call_id,
                "association_id": row.association_id,
                "state": row.state,
                "country": row.country,
                "locality": locality,
                "title": title,
                "summary": searchable((row.summary or "")[:SUMMARY_COMPARED]),
                "partners": searchable(" ".join(names.get(row.id, []))),
                "key": locality or title,
                "updated_at": now,
            }
        )
    return profiles


def refresh(connection, ids: Iterable[int]) -> int:
    """Build the profiles of ``ids`` again from their applications; those now drafts (or
    gone) lose theirs. Returns how many were written."""
    ids = sorted(set(ids))
    if not ids:
        return 0
    profiles = _profiles(connection, ids)
    gone = set(ids) - {profile["application_id"] for profile in profiles}
    if gone:
        connection.execute(
            delete(DuplicateProfile).where(DuplicateProfile.application_id.in_(gone))
        )
    if profiles:
        insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
        statement = insert(DuplicateProfile.__table__).values(profiles)
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["application_id"],
                set_={
                    name: statement.excluded[name]
                    for name in profiles[0]
                    if name != "application_id"
                },
            )
        )
    return len(profiles)


def rebuild(connection, batch: int = 2000) -> int:
    """Every profile built again (after the migration that created them, or to repair
    them): part of ``flask search rebuild``."""
    table = Application.__table__
    written, last = 0, 0
    while True:
        ids = list(
            connection.scalars(
                select(table.c.id).where(table.c.id > last).order_by(table.c.id).limit(batch)
            )
        )
        if not ids:
            return written
        written += refresh(connection, ids)
        last = ids[-1]


def _unprofiled_draft(session: Session, application: Application | None) -> bool:
    """A draft that stays one: its saves cost the profiles nothing."""
    if application is None or application.state not in UNPROFILED_STATES:
        return False
    return not inspect(application).attrs.state.history.has_changes()


@event.listens_for(Session, "after_flush")
def _keep_profiles(session: Session, _context) -> None:
    due: set[int] = set()
    for record in (*session.new, *session.dirty, *session.deleted):
        if isinstance(record, Application):
            if record in session.deleted:
                continue  # its profile goes with it (ON DELETE CASCADE)
            if record in session.dirty and not any(
                inspect(record).attrs[name].history.has_changes() for name in _WATCHED
            ):
                continue
            if record in session.new and record.state in UNPROFILED_STATES:
                continue
            if _unprofiled_draft(session, record) and record in session.dirty:
                continue
            due.add(record.id)
        elif isinstance(record, Partner):
            if record in session.dirty and not inspect(record).attrs.name.history.has_changes():
                continue
            owner = session.identity_map.get(
                inspect(Application).identity_key_from_primary_key((record.application_id,))
            )
            if _unprofiled_draft(session, owner):
                continue
            due.add(record.application_id)
    due.discard(None)
    if due:
        refresh(session.connection(), due)


# --- who may see it ----------------------------------------------------------------------


def may_check(person: User) -> bool:
    """Whether the person sees the duplicate check (``policy.DUPLICATE_CHECK``)."""
    return policy.DUPLICATE_CHECK.condition(person) is None


def check_may_check(person: User) -> None:
    if not may_check(person):
        raise Forbidden(_("Only the programme office checks applications for duplicates."))


# --- looking up --------------------------------------------------------------------------


@dataclass(frozen=True)
class Similar:
    application: Application
    similarity: int
    #: The officers' last verdict on the pair, if any.
    verdict: DuplicateVerdict | None
    #: A grant the similar application holds (offered, active or suspended), if any.
    grant: Award | None
    same_association: bool
    same_locality: bool

    @property
    def double_funding(self) -> bool:
        """A grant already held for a similar project by the same association, or in the
        same locality."""
        return self.grant is not None and (self.same_association or self.same_locality)


@dataclass(frozen=True)
class DuplicateCheck:
    similar: list[Similar]
    #: Similar projects already holding a grant, by the same association or locality.
    double_funding: list[Similar]


def _own_profile(application_id: int) -> DuplicateProfile | None:
    return db.session.get(DuplicateProfile, application_id)


def _candidates(profile: DuplicateProfile) -> list[DuplicateProfile]:
    """The profiles worth comparing with ``profile``, in one statement: on PostgreSQL
    those whose locality is spelled alike (or title, for applications that name no
    locality, such as concept notes), by the trigram index, and the association's own."""
    P = DuplicateProfile
    others = P.application_id != profile.application_id
    if db.session.get_bind().dialect.name == "postgresql":
        parts = [
            select(P.application_id)
            .where(P.association_id == profile.association_id, others)
            .order_by(P.application_id.desc())
            .limit(SAME_ASSOCIATION)
            .subquery()
        ]
        if profile.key:
            parts.append(
                select(P.application_id)
                .where(P.key.op("%")(profile.key), others)
                .order_by(func.similarity(P.key, profile.key).desc())
                .limit(CANDIDATES)
                .subquery()
            )
        found = union(*(select(part.c.application_id) for part in parts)).subquery()
        statement = select(P).join(found, found.c.application_id == P.application_id)
    else:
        near = [P.association_id == profile.association_id]
        if profile.country:
            near.append(P.country == profile.country)
        if profile.locality:
            near.append(P.locality == profile.locality)
        statement = (
            select(P)
            .where(others, or_(*near))
            .order_by(P.application_id.desc())
            .limit(SQLITE_CANDIDATES)
        )
    return list(db.session.scalars(statement))


def _scored(profile: DuplicateProfile) -> list[tuple[DuplicateProfile, int]]:
    scored = [(other, similarity(profile, other)) for other in _candidates(profile)]
    scored = [(other, score) for other, score in scored if score >= SIMILAR_FROM]
    return sorted(scored, key=lambda item: (-item[1], -item[0].application_id))


def _pair(one: int, other: int) -> tuple[int, int]:
    return (one, other) if one < other else (other, one)


#: What the check shows of an application and of a grant.
_APPLICATION_SHOWN = (
    Application.reference,
    Application.title,
    Application.state,
    Application.locality,
    Application.country,
    Application.association_id,
    Application.call_id,
)
_GRANT_SHOWN = (Award.id, Award.application_id, Award.state, Award.amount, Award.currency)


def _shown(person: User, ids: list[int]) -> dict[int, Application]:
    """The applications of ``ids`` the person may see, with what the check shows of
    them (their association's name, their call's code), in one statement."""
    if not ids:
        return {}
    return {
        row.id: row
        for row in db.session.scalars(
            policy.APPLICATIONS.select(person)
            .where(Application.id.in_(ids))
            .options(
                lazyload("*"),
                load_only(*_APPLICATION_SHOWN),
                joinedload(Application.association).load_only(Association.name).lazyload("*"),
                joinedload(Application.call).load_only(Call.code).lazyload("*"),
            )
        )
    }


def _held_grants(ids: list[int]) -> dict[int, Award]:
    if not ids:
        return {}
    return {
        award.application_id: award
        for award in db.session.scalars(
            select(Award)
            .where(Award.application_id.in_(ids), Award.state.in_(HELD_GRANT_STATES))
            .options(load_only(*_GRANT_SHOWN), Load(Award).lazyload("*"))
        )
    }


def _verdicts(application_id: int, ids: list[int]) -> dict[int, DuplicateVerdict]:
    if not ids:
        return {}
    pairs = [_pair(application_id, other) for other in ids]
    found = db.session.scalars(
        select(DuplicateVerdict).where(
            tuple_(DuplicateVerdict.first_id, DuplicateVerdict.second_id).in_(pairs)
        )
    )
    return {
        verdict.second_id if verdict.first_id == application_id else verdict.first_id: verdict
        for verdict in found
    }


def check(person: User, application: Application) -> DuplicateCheck:
    """The applications most like ``application`` (at most ``SHOWN``), with the officers'
    verdicts, and every similar project already holding a grant of the same association
    or locality. A fixed number of statements, whatever the number of applications."""
    check_may_check(person)
    profile = _own_profile(application.id)
    if profile is None:
        return DuplicateCheck([], [])
    scored = _scored(profile)
    ids = [other.application_id for other, _score in scored]
    grants = _held_grants(ids)
    kept = [
        (other, score)
        for index, (other, score) in enumerate(scored)
        if index < SHOWN or other.application_id in grants
    ]
    kept_ids = [other.application_id for other, _score in kept]
    shown = _shown(person, kept_ids)
    verdicts = _verdicts(application.id, kept_ids)
    similar = [
        Similar(
            application=shown[other.application_id],
            similarity=score,
            verdict=verdicts.get(other.application_id),
            grant=grants.get(other.application_id),
            same_association=other.association_id == profile.association_id,
            same_locality=bool(profile.locality)
            and other.locality == profile.locality
            and other.country == profile.country,
        )
        for other, score in kept
        if other.application_id in shown
    ]
    return DuplicateCheck(
        similar=similar[:SHOWN], double_funding=[s for s in similar if s.double_funding]
    )


def double_funding(person: User, applications: list[Application]) -> dict[int, list[Similar]]:
    """For a page of applications about to be decided (the ranking), the similar projects
    of the same association or locality already holding a grant: three statements for
    the whole page, reading only the grants those associations and places hold."""
    if not may_check(person) or not applications:
        return {}
    ids = [application.id for application in applications]
    P = DuplicateProfile
    own = {
        p.application_id: p for p in db.session.scalars(select(P).where(P.application_id.in_(ids)))
    }
    if not own:
        return {}
    associations = {p.association_id for p in own.values()}
    places = {(p.country, p.locality) for p in own.values() if p.country and p.locality}

    def holding(condition) -> Any:
        return (
            select(P.application_id)
            .join(Award, Award.application_id == P.application_id)
            .where(Award.state.in_(HELD_GRANT_STATES), condition)
        )

    parts = [holding(P.association_id.in_(associations))]
    if places:
        parts.append(holding(tuple_(P.country, P.locality).in_(places)))
    found = union(*parts).subquery()
    rows = list(
        db.session.execute(
            select(P, Award)
            .join(found, found.c.application_id == P.application_id)
            .join(Award, Award.application_id == P.application_id)
            .where(P.application_id.not_in(ids))
            .options(load_only(*_GRANT_SHOWN), Load(Award).lazyload("*"))
        )
    )
    if not rows:
        return {}
    by_association: dict[int, list] = {}
    by_place: dict[tuple, list] = {}
    for other, award in rows:
        by_association.setdefault(other.association_id, []).append((other, award))
        by_place.setdefault((other.country, other.locality), []).append((other, award))
    scored: dict[int, list[tuple[DuplicateProfile, Award, int]]] = {}
    for application_id, profile in own.items():
        near = by_association.get(profile.association_id, [])
        if profile.country and profile.locality:
            near = near + by_place.get((profile.country, profile.locality), [])
        seen: set[int] = set()
        for other, award in near:
            if other.application_id in seen:
                continue
            seen.add(other.application_id)
            score = similarity(profile, other)
            if score >= SIMILAR_FROM:
                scored.setdefault(application_id, []).append((other, award, score))
    if not scored:
        return {}
    held = _shown(
        person, [other.application_id for found in scored.values() for other, _, _ in found]
    )
    warnings: dict[int, list[Similar]] = {}
    for application_id, found in scored.items():
        profile = own[application_id]
        warnings[application_id] = sorted(
            (
                Similar(
                    held[other.application_id],
                    score,
                    None,
                    award,
                    other.association_id == profile.association_id,
                    bool(profile.locality)
                    and (other.country, other.locality) == (profile.country, profile.locality),
                )
                for other, award, score in found
                if other.application_id in held
            ),
            key=lambda s: -s.similarity,
        )
    return {key: value for key, value in warnings.items() if value}


def recorded_duplicates(person: User, ids: list[int]) -> set[int]:
    """Of a page of applications (the screening list), those an officer recorded as a
    duplicate of another: one statement for the page."""
    if not may_check(person) or not ids:
        return set()
    V = DuplicateVerdict
    found: set[int] = set()
    for first, second in db.session.execute(
        select(V.first_id, V.second_id).where(
            V.verdict == "duplicate", or_(V.first_id.in_(ids), V.second_id.in_(ids))
        )
    ):
        found.update({first, second} & set(ids))
    return found


# --- the officers' verdict ----------------------------------------------------------------


def record_verdict(
    person: User,
    application: Application,
    other_id: int | None,
    verdict: str,
    comment: str,
    now: datetime | None = None,
) -> DuplicateVerdict:
    """Record that ``application`` and another one are, or are not, duplicates: the
    pair's verdict (the last one counts) and a row in both applications' history, with
    an audit row. Every problem is said at once, and nothing is written then."""
    check_may_check(person)
    if PROGRAMME_OFFICER not in person.role_names:
        raise Forbidden(_("Only programme officers record whether applications are duplicates."))
    now = now or utcnow()
    comment = (comment or "").strip()
    problems: dict[str, list[str]] = {}
    if application.state not in CHECKED_STATES:
        raise InvalidInput(
            _(
                "Duplicates are recorded between the screening and the committee's "
                "decision; this application is past that or not yet submitted."
            )
        )
    if verdict not in VERDICTS:
        problems["verdict"] = [_("Choose “duplicate” or “not a duplicate”.")]
    if not comment:
        problems["comment"] = [_("Say why in a comment: it is kept in the history.")]
    else:
        too_long = limits.TRANSITION_COMMENT.problem(comment)
        if too_long:
            problems["comment"] = [too_long]
    other = None
    if other_id is not None and other_id != application.id:
        other = db.session.scalar(
            policy.APPLICATIONS.select(person).where(Application.id == other_id)
        )
    if other is None:
        problems["other_id"] = [_("Choose one of the similar applications listed.")]
    own = _own_profile(application.id)
    other_profile = _own_profile(other.id) if other is not None else None
    if other is not None and (own is None or other_profile is None):
        problems["other_id"] = [_("Choose one of the similar applications listed.")]
    if problems:
        raise InvalidInput(_("The verdict could not be recorded."), problems)
    score = similarity(own, other_profile)
    first, second = _pair(application.id, other.id)
    row = db.session.scalar(
        select(DuplicateVerdict).where(
            DuplicateVerdict.first_id == first, DuplicateVerdict.second_id == second
        )
    )
    if row is None:
        row = DuplicateVerdict(first_id=first, second_id=second)
        db.session.add(row)
    row.verdict, row.similarity, row.comment = verdict, score, comment
    row.decided_by_id, row.decided_at = person.id, now
    for one, two in ((application, other), (other, application)):
        db.session.add(
            HistoryEntry(
                entity_type="application",
                entity_id=one.id,
                transition=verdict,
                from_state=one.state,
                to_state=one.state,
                actor_id=person.id,
                actor_label=person.display_name,
                comment=f"{two.reference}: {comment}",
                data={
                    "other_application_id": two.id,
                    "other_reference": two.reference,
                    "similarity": score,
                },
                created_at=now,
            )
        )
    audit.record(
        person,
        "application.duplicate_verdict",
        ("application", application.id),
        {"verdict": verdict, "other_reference": other.reference, "similarity": score},
        note=comment,
    )
    db.session.flush()
    return row
