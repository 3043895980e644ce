"""Benchmark of the duplicate check on PostgreSQL with 100,000 applications: the lookup
an officer's application page runs (the applications most like one, with verdicts and the
grants held), and the ranking page's double-funding warning for a page of 100 rows.

The programme is the one of ``bench/programme.py``; its applications then get texts of
their own (titles, summaries, villages and partners drawn from word lists, a few hundred
near-duplicate pairs among them), so that the trigram index meets the spread of real
texts rather than 100,000 "Project N". The profiles are built with ``rebuild``, as
``flask search rebuild`` does after the migration.

    .venv/bin/python bench/duplicates.py [--applications 100000] [--lookups 200]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text  # noqa: E402

from bench.programme import generate, settle  # noqa: E402
from bench.workflows import postgres_app  # noqa: E402
from grants.extensions import db  # noqa: E402
from grants.models import Application  # noqa: E402
from grants.models.duplicates import DuplicateProfile  # noqa: E402
from grants.services import duplicates  # noqa: E402
from tests.queries import statements  # noqa: E402

LIMIT_MS = 200

ACTIVITIES = (
    "Formation des jeunes",
    "Atelier de couture",
    "Jardin maraîcher",
    "Forage solaire",
    "Case de santé",
    "Centre de formation",
    "Coopérative agricole",
    "Mutuelle de santé",
    "Bibliothèque scolaire",
    "Unité de transformation",
    "Poulailler communautaire",
    "Moulin à mil",
    "Électrification solaire",
    "Classe numérique",
    "Maternité rurale",
    "Apiculture",
    "Pêche artisanale",
    "Boulangerie solidaire",
    "Menuiserie",
    "Alphabétisation des femmes",
    "Fablab",
    "Cantine scolaire",
    "Pépinière",
    "Séchage de mangues",
    "Transformation du karité",
    "Élevage de chèvres",
    "Reboisement",
    "Gestion des déchets",
    "Accès à l'eau potable",
    "Soins maternels",
)
OBJECTS = (
    "pour les jeunes",
    "des femmes",
    "du village",
    "de la commune",
    "pour 40 apprentis",
    "avec la mairie",
    "et emploi local",
    "et insertion",
    "pour les familles",
    "des artisans",
    "des agriculteurs",
    "et micro-crédit",
    "pour l'école",
    "et santé communautaire",
    "des pêcheurs",
    "pour 200 ménages",
)
SENTENCES = (
    "Le projet forme {n} jeunes aux métiers de {a} et accompagne leur installation.",
    "Une association de la diaspora finance l'équipement et la formation à {v}.",
    "Les femmes du village gèrent l'activité à travers un comité élu.",
    "La commune met un terrain à disposition et suit les travaux.",
    "Un partenaire local assure le suivi pendant {m} mois.",
    "Les revenus financent l'entretien et de nouvelles formations.",
    "Le projet crée {e} emplois durables et soutient {n} familles.",
    "Des agents communautaires sont formés au suivi des bénéficiaires.",
)
SYLLABLES = (
    "ndi",
    "aga",
    "nia",
    "o",
    "ko",
    "lda",
    "ta",
    "mba",
    "ka",
    "sa",
    "thi",
    "es",
    "dia",
    "lo",
    "ma",
    "ra",
    "ve",
    "bo",
    "to",
    "fa",
    "zi",
    "gui",
    "chor",
    "ba",
)


def _village(chance: random.Random) -> str:
    return "".join(chance.choice(SYLLABLES) for _ in range(chance.randint(2, 4))).title()


def _texts(ids: list[int], chance: random.Random) -> list[dict]:
    villages = [_village(chance) for _ in range(4000)]
    rows, previous = [], None
    for application_id in ids:
        if previous is not None and chance.random() < 0.005:
            # A near duplicate: the previous project written again by someone else.
            title = previous["title"].replace(" pour ", " - ").replace(" des ", " aux ")
            summary = " ".join(reversed(previous["summary"].split(". ")))
            row = {**previous, "id": application_id, "title": title, "summary": summary}
        else:
            village = chance.choice(villages)
            activity = chance.choice(ACTIVITIES)
            summary = " ".join(
                sentence.format(
                    n=chance.randint(10, 300),
                    a=activity.lower(),
                    v=village,
                    m=chance.randint(6, 36),
                    e=chance.randint(2, 40),
                )
                for sentence in chance.sample(SENTENCES, 4)
            )
            row = {
                "id": application_id,
                "title": f"{activity} {chance.choice(OBJECTS)} à {village}",
                "summary": summary,
                "locality": village,
            }
        rows.append(row)
        previous = row
    return rows


def run(count: int, lookups: int) -> tuple[dict, list[tuple]]:
    with postgres_app("duplicates") as _app:
        began = time.perf_counter()
        world = generate(count).world
        chance = random.Random(19)
        ids = list(db.session.scalars(select(Application.id).order_by(Application.id)))
        connection = db.session.connection()
        for start in range(0, len(ids), 5000):
            connection.execute(
                text(
                    "UPDATE applications SET title = :title, summary = :summary, "
                    "locality = :locality WHERE id = :id"
                ),
                _texts(ids[start : start + 5000], chance),
            )
        db.session.commit()
        loaded = time.perf_counter() - began
        began = time.perf_counter()
        profiles = duplicates.rebuild(db.session.connection())
        db.session.commit()
        built = time.perf_counter() - began
        settle()
        sizes = {
            "applications": len(ids),
            "profiles": profiles,
            "profiles MB": round(
                db.session.scalar(select(func.pg_total_relation_size("duplicate_profiles"))) / 2**20
            ),
            "trigram index MB": round(
                db.session.scalar(select(func.pg_relation_size("ix_duplicate_profiles_key")))
                / 2**20
            ),
            "seconds to load": round(loaded),
            "seconds to build profiles": round(built),
        }
        sample = chance.sample(
            list(db.session.scalars(select(DuplicateProfile.application_id))), lookups
        )
        officer = world.officer
        samples, counts, shown = [], [], []
        for application_id in sample:
            db.session.expire_all()
            application = db.session.get(Application, application_id)
            assert officer.role_names  # the person is loaded as a request's would be
            with statements() as seen:
                started = time.perf_counter()
                found = duplicates.check(officer, application)
                samples.append((time.perf_counter() - started) * 1000)
            counts.append(len(seen))
            shown.append(len(found.similar))
        page = list(
            db.session.scalars(
                select(Application).where(Application.state == "reviewed").limit(100)
            )
        )
        pages, page_counts = [], []
        for _ in range(10):
            with statements() as seen:
                started = time.perf_counter()
                duplicates.double_funding(officer, page)
                pages.append((time.perf_counter() - started) * 1000)
            page_counts.append(len(seen))
        rows = [
            ("lookup per application", samples, max(counts), statistics.mean(shown)),
            ("ranking page (100 rows)", pages, max(page_counts), None),
        ]
        return sizes, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=200)
    arguments = parser.parse_args()
    sizes, rows = run(arguments.applications, arguments.lookups)
    print(
        f"\nDuplicate check on PostgreSQL ({os.cpu_count()} CPUs): "
        + ", ".join(f"{value:,} {key}" for key, value in sizes.items())
    )
    print(
        f"{'check':<26} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'queries':>8} "
        f"{'similar shown':>14}"
    )
    for name, samples, queries, shown in rows:
        ordered = sorted(samples)
        p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
        flag = "" if p95 < LIMIT_MS else f"  over {LIMIT_MS} ms"
        print(
            f"{name:<26} {statistics.median(samples):>10.1f} {p95:>8.1f} {max(samples):>8.1f} "
            f"{queries:>8} {'' if shown is None else f'{shown:.1f}':>14}{flag}"
        )


if __name__ == "__main__":
    main()
