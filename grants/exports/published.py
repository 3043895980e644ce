"""The open-data files, kept on disk and written again only when what they publish
changes.

Built on every request, the 360Giving package of 12,000 grants took five seconds and a
gigabyte of a worker's memory, and a few readers at once stopped the site. Now each
file is written once per state of the published grants, a batch of awards at a time
(memory holds one batch), to the instance folder, and served from there as a file:
the first byte leaves at once, conditional requests answer 304.

What the files say changes only when a published award, one of its tranches, its
application, association or call changes, and each of those rows carries a version
that every change moves on. ``published_stamp`` sums them (two small aggregate
queries): the file of a stamp is current. One worker writes a missing file while the
others wait for it (a file lock), and older files are removed.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from grants.exports import opendata
from grants.extensions import db
from grants.models.applications import Application
from grants.models.associations import Association
from grants.models.awards import Award, Tranche
from grants.models.calls import Call
from grants.orm import utcnow

#: Awards loaded at a time while a file is written.
BATCH = 500
#: Moves on when the files' format changes, so files written by older code are not served.
FORMAT = "1"

KINDS = {"360giving": "json", "iati": "xml"}


def published_stamp() -> str | None:
    """What identifies the published grants' current state; None when none is."""
    published = Award.state.in_(opendata.PUBLISHED_STATES)
    awards = db.session.execute(
        select(
            func.count(Award.id),
            func.max(Award.id),
            func.sum(Award.version),
            func.sum(Application.version),
            func.sum(Association.version),
            func.sum(Call.version),
            # Versions restart with a new row: an award rolled back and another created
            # under the same id would sum the same; their changes' times do not.
            func.max(Application.updated_at),
            func.max(Association.updated_at),
            func.max(Call.updated_at),
        )
        .join(Application, Application.id == Award.application_id)
        .join(Association, Association.id == Application.association_id)
        .join(Call, Call.id == Application.call_id)
        .where(published)
    ).one()
    if not awards[0]:
        return None
    tranches = db.session.execute(
        select(func.count(Tranche.id), func.sum(Tranche.version))
        .join(Award, Award.id == Tranche.award_id)
        .where(published)
    ).one()
    text = "|".join(str(part) for part in (FORMAT, *awards, *tranches, *_settings().values()))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def refresh() -> int:
    """Write the files of the current state that are missing (the scheduler's job, so
    that the first reader after a change does not wait); how many were written."""
    stamp = published_stamp()
    if stamp is None:
        return 0
    missing = [kind for kind in KINDS if not _path(kind, stamp).exists()]
    for kind in missing:
        _ensure(kind, stamp)
    return len(missing)


def _path(kind: str, stamp: str) -> Path:
    folder = Path(current_app.config["INSTANCE_PATH"]) / "open-data"
    return folder / f"{kind}-{stamp}.{KINDS[kind]}"


def current_file(kind: str) -> Path | None:
    """The file of ``kind`` ("360giving" or "iati") for the current state, written now
    if it is missing; None when no grant is published."""
    stamp = published_stamp()
    return None if stamp is None else _ensure(kind, stamp)


def _ensure(kind: str, stamp: str) -> Path:
    """The file of ``kind`` for ``stamp``, written if missing: one writer at a time (a
    file lock; the others wait, then find it), older files of that kind removed."""
    path = _path(kind, stamp)
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return path
    with open(folder / f".{kind}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            _write(path, WRITERS[kind])
            for older in folder.glob(f"{kind}-*.{KINDS[kind]}"):
                if older != path:
                    older.unlink(missing_ok=True)
    return path


def _write(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Write to a temporary file beside ``path``, then rename: readers never see half."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def award_batches() -> Iterator[list[Award]]:
    """The published awards, ``BATCH`` at a time, each batch loaded with what the files
    read (``opendata.published_awards``) and let go of once written. They are read in a
    session of their own, on the request's connection (its transaction, its snapshot),
    so the caller's records stay as they were."""
    with Session(bind=db.session.connection()) as reader:
        ids = list(
            reader.scalars(
                select(Award.id)
                .where(Award.state.in_(opendata.PUBLISHED_STATES))
                .order_by(Award.id)
            )
        )
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            yield list(reader.scalars(opendata.published_awards().where(Award.id.in_(chunk))))
            reader.expunge_all()


def _settings() -> dict[str, str]:
    config = current_app.config
    return {
        "name": config["PROGRAMME_NAME"],
        "prefix": config.get("OPEN_DATA_PREFIX", "diaspora-grants"),
        "funder": config.get("OPEN_DATA_FUNDER_ID", "XI-IATI-DIASPORA-GRANTS"),
        "type": config.get("OPEN_DATA_ORG_TYPE", opendata.REPORTING_ORG_TYPE),
    }


def _three_sixty_giving(out: IO[bytes]) -> None:
    settings = _settings()
    opendata.write_three_sixty_giving(
        out,
        award_batches(),
        prefix=settings["prefix"],
        funder_id=settings["funder"],
        funder_name=settings["name"],
        published=utcnow(),
    )


def _iati(out: IO[bytes]) -> None:
    settings = _settings()
    opendata.write_iati_activities(
        out,
        award_batches(),
        reporting_org_ref=settings["funder"],
        reporting_org_name=settings["name"],
        reporting_org_type=settings["type"],
        prefix=settings["prefix"],
        generated=utcnow(),
    )


WRITERS: dict[str, Callable[[IO[bytes]], None]] = {"360giving": _three_sixty_giving, "iati": _iati}
