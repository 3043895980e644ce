"""The benchmark programme: one generator shared by the dashboards, ranking and load
benchmarks.

``generate`` builds a programme in its second year on PostgreSQL: calls with five
criteria, thousands of associations, applications in every state, sector, country and
currency (bulk-loaded with COPY through ``grants.bulk.insert_rows``), and, derived from
them in the database (INSERT … SELECT): budget lines, co-financing, three reviews with
five scores on every application that reached review, awards, tranches, reports, ledger
entries and decisions in the history.

``ranked_call`` adds one call whose applications all carry three submitted reviews (the
ranking page's worst case); it runs on SQLite too. ``drafters`` adds people who each
have one complete draft open in a call (the deadline surge).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, text

from bench.reminders import clone
from grants.bulk import insert_rows
from grants.extensions import db
from grants.models import Application, Call, Criterion, Review, Score

CALLS = 24
ASSOCIATIONS = 2000
EVALUATORS = 60
CURRENCIES = ("USD", "EUR", "XOF")
COUNTRIES = ("SN", "ML", "MG", "EC", "MA", "TN")
SECTORS = ("employment", "education", "health", "human_rights_social_security")
#: A programme in its second year: most applications decided.
STATES = (
    ("draft", 8),
    ("submitted", 10),
    ("eligible", 6),
    ("in_review", 8),
    ("reviewed", 4),
    ("awarded", 12),
    ("waitlisted", 4),
    ("rejected", 38),
    ("ineligible", 5),
    ("withdrawn", 5),
)
TARGETS = ("8.5", "8.6", "4.3", "4.4", "3.8", "3.1", "10.c", "10.7", "5.5", "1.4", "16.9")
#: Weights of the five criteria of every call (percent).
WEIGHTS = (Decimal("30"), Decimal("25"), Decimal("25"), Decimal("10"), Decimal("10"))


@dataclass
class Programme:
    world: object  # tests.fixtures.programme.World
    calls: list[Call]
    evaluators: list


def five_criteria(call: Call) -> None:
    """The rubric of a real call: the two of ``make_call`` reweighted, three more."""
    call.criteria[0].weight, call.criteria[1].weight = WEIGHTS[0], WEIGHTS[1]
    call.criteria.extend(
        Criterion(position=position, name={"en": f"Criterion {position}"}, weight=weight)
        for position, weight in zip((3, 4, 5), WEIGHTS[2:], strict=True)
    )


def _applications(count: int, calls, association_ids, user_id: int, now: datetime):
    chance = random.Random(2027)
    states = [state for state, weight in STATES for _ in range(weight)]
    for number in range(1, count + 1):
        call = calls[number % len(calls)]
        state = chance.choice(states)
        submitted = None if state == "draft" else now - timedelta(days=chance.randint(30, 700))
        requested = Decimal(chance.randrange(10_000, 40_000, 500))
        yield {
            "call_id": call.id,
            "association_id": association_ids[number % len(association_ids)],
            "reference": f"{call.code}-{number:06d}",
            "language": "fr",
            "title": f"Project {number}",
            "summary": "",
            "objectives": "",
            "sector": call.sector,
            "country": call.countries[0],
            "locality": "",
            "beneficiaries_description": "",
            "sdg_targets": json.dumps(chance.sample(TARGETS, chance.randint(0, 3))),
            "budget_currency": call.currency,
            "amount_requested": requested,
            "amount_awarded": requested if state == "awarded" else None,
            "state": state,
            "version": 1,
            "created_by_id": user_id,
            "created_at": (submitted or now) - timedelta(days=10),
            "updated_at": submitted or now,
            "submitted_at": submitted,
        }


REVIEWED_STATES = "('in_review', 'reviewed', 'awarded', 'waitlisted', 'rejected')"

DERIVED = [
    # The budget: equipment (60 %) and training (40 %) make up the amount requested; the
    # association brings 15 % of it in cash and 5 % in kind.
    """INSERT INTO budget_lines (application_id, position, category, description, quantity,
        unit_cost)
       SELECT a.id, p, CASE p WHEN 1 THEN 'equipment' ELSE 'training' END,
        CASE p WHEN 1 THEN 'Sewing machines' ELSE 'Trainers' END,
        CASE p WHEN 1 THEN 10 ELSE 12 END,
        round(a.amount_requested * CASE p WHEN 1 THEN 0.06 ELSE 0.4 / 12 END, 2)
       FROM applications a, generate_series(1, 2) p""",
    """INSERT INTO cofinancing (application_id, source, description, amount)
       SELECT a.id, s, '', round(a.amount_requested *
        CASE s WHEN 'association_cash' THEN 0.15 ELSE 0.05 END, 2)
       FROM applications a, unnest(ARRAY['association_cash', 'in_kind']) s""",
    # Three reviews of every application that reached review, by three different
    # evaluators; all submitted but the third of those still in review.
    f"""INSERT INTO reviews (application_id, evaluator_id, assigned_by_id, assigned_at,
        no_conflict_attested_at, recommendation, overall_comment, submitted_at, state,
        version)
       SELECT a.id, (:evaluators)[1 + (a.id + r * 20) % :count], :officer,
        a.submitted_at + interval '10 days',
        a.submitted_at + interval '11 days',
        CASE WHEN a.state = 'in_review' AND r = 2 THEN NULL
             WHEN (a.id + r) % 3 = 0 THEN 'do_not_fund' ELSE 'fund' END,
        '',
        CASE WHEN a.state = 'in_review' AND r = 2 THEN NULL
             ELSE a.submitted_at + interval '15 days' END,
        CASE WHEN a.state = 'in_review' AND r = 2 THEN 'assigned' ELSE 'submitted' END, 1
       FROM applications a, generate_series(0, 2) r
       WHERE a.state IN {REVIEWED_STATES}""",
    """INSERT INTO scores (review_id, criterion_id, score, comment)
       SELECT r.id, c.id, (r.id * 7 + c.position * 3) % 6, ''
       FROM reviews r JOIN applications a ON a.id = r.application_id
       JOIN criteria c ON c.call_id = a.call_id
       WHERE r.state = 'submitted'""",
    # An award per awarded application, accepted two months after the submission.
    """INSERT INTO awards (application_id, association_id, amount, currency, conditions,
        offered_at, accepted_at, signatory_name, signatory_role, account_holder, iban,
        account_number, bank_name, bic, bank_change_pending, paid_total, state, version)
       SELECT a.id, a.association_id, a.amount_awarded, c.currency, '',
        a.submitted_at + interval '50 days', a.submitted_at + interval '60 days', 'S', 'P',
        'H', '', '1', 'B', 'BANKSNDA', false, 0, 'active', 1
       FROM applications a JOIN calls c ON c.id = a.call_id WHERE a.state = 'awarded'""",
    # The decision of every decided application, 20 to 120 days after the submission.
    """INSERT INTO history (entity_type, entity_id, transition, from_state, to_state,
        actor_label, comment, data, created_at)
       SELECT 'application', a.id,
        CASE a.state WHEN 'awarded' THEN 'award' WHEN 'waitlisted' THEN 'waitlist'
             ELSE 'reject' END,
        'reviewed', a.state, 'Officer', '', '{}',
        a.submitted_at + (20 + a.id % 100) * interval '1 day'
       FROM applications a WHERE a.state IN ('awarded', 'waitlisted', 'rejected')""",
    """UPDATE applications SET decided_at = submitted_at + (20 + id % 100) * interval '1 day'
       WHERE state IN ('awarded', 'waitlisted', 'rejected')""",
    """INSERT INTO ledger_entries (award_id, kind, amount, currency, value_date, reference,
        actor_label, created_at)
       SELECT id, 'commitment', amount, currency, accepted_at::date, '', 'System', accepted_at
       FROM awards""",
    # The first tranche (40 %) paid on most grants, a second one waiting for approval.
    """INSERT INTO ledger_entries (award_id, kind, amount, currency, value_date, reference,
        actor_label, created_at)
       SELECT id, 'payment', round(amount * 0.4, 2), currency,
        LEAST(accepted_at::date + 20, current_date), '', 'Finance', accepted_at
       FROM awards WHERE id % 5 <> 0""",
    """INSERT INTO tranches (award_id, position, percentage, amount, cycle, bank_reference,
        state, version, requested_at, paid_at, payment_date)
       SELECT id, p, 40, round(amount * 0.4, 2), 1, '',
        CASE WHEN p = 1 AND id % 5 <> 0 THEN 'paid' WHEN p = 2 AND id % 3 = 0
             THEN 'requested' ELSE 'planned' END,
        1,
        CASE WHEN p = 2 AND id % 3 = 0 THEN now() - (id % 45) * interval '1 day' END,
        CASE WHEN p = 1 AND id % 5 <> 0 THEN accepted_at + interval '20 days' END,
        CASE WHEN p = 1 AND id % 5 <> 0 THEN LEAST(accepted_at::date + 20, current_date) END
       FROM awards, generate_series(1, 2) p""",
    """INSERT INTO reports (award_id, kind, due_date, activities, results, difficulties,
        next_steps, spending, indicator_values, cofinancing_received, review_comments,
        submitted_at, state, version)
       SELECT id, k, accepted_at::date + CASE k WHEN 'interim' THEN 180 ELSE 365 END,
        '', '', '', '', '[]', '{}', '{}', '{}',
        CASE WHEN id % 4 <> 0 AND accepted_at::date + CASE k WHEN 'interim' THEN 180
             ELSE 365 END < current_date
             THEN accepted_at + CASE k WHEN 'interim' THEN 170 ELSE 380 END
                  * interval '1 day' END,
        CASE WHEN id % 4 <> 0 AND accepted_at::date + CASE k WHEN 'interim' THEN 180
             ELSE 365 END < current_date THEN 'accepted' ELSE 'scheduled' END, 1
       FROM awards, unnest(ARRAY['interim', 'final']) k""",
]


def make_evaluators(count: int = EVALUATORS) -> list:
    from grants.roles import EVALUATOR
    from tests.fixtures.people import make_user

    return [make_user(EVALUATOR) for _ in range(count)]


def generate(
    count: int, calls: int = CALLS, associations: int = ASSOCIATIONS, code: str = "BENCH"
) -> Programme:
    """The programme at scale on PostgreSQL; ``count`` applications over ``calls`` calls."""
    from tests.fixtures.programme import make_call, make_world

    now = datetime.now(UTC)
    world = make_world()
    made = []
    for number in range(calls):
        call = make_call(
            world,
            code=f"{code}-{number:02d}",
            sector=SECTORS[number % len(SECTORS)],
            currency=CURRENCIES[number % len(CURRENCIES)],
            countries=[COUNTRIES[number % len(COUNTRIES)]],
            envelope=Decimal("100000000"),
        )
        five_criteria(call)
        made.append(call)
    evaluators = make_evaluators()
    db.session.commit()
    clone("associations", world.association.id, associations - 1, {"name": "'Bench ' || g"})
    ids = list(db.session.scalars(text("SELECT id FROM associations ORDER BY id")))
    insert_rows(Application.__table__, _applications(count, made, ids, world.applicant.id, now))
    parameters = {
        "evaluators": [e.id for e in evaluators],
        "count": len(evaluators),
        "officer": world.officer.id,
    }
    for statement in DERIVED:
        db.session.execute(
            text(statement), {k: v for k, v in parameters.items() if f":{k}" in statement}
        )
    db.session.commit()
    return Programme(world, made, evaluators)


def settle() -> None:
    """As autovacuum leaves a settled PostgreSQL database: statistics, visibility map."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))


def ranked_call(world, evaluators: list, applications: int, reviews: int = 3, **fields) -> Call:
    """A call in review whose every application has ``reviews`` submitted reviews scored
    on five criteria by different evaluators (portable: SQLite and PostgreSQL)."""
    from tests.fixtures.programme import make_call

    call = make_call(world, envelope=Decimal("5000000"), **fields)
    five_criteria(call)
    db.session.flush()
    chance = random.Random(7)
    db.session.execute(
        insert(Application),
        [
            dict(
                call_id=call.id,
                association_id=world.association.id,
                reference=f"{call.code}-R{number:05d}",
                language="en",
                state="in_review",
                amount_requested=Decimal("20000"),
                budget_currency="USD",
                title="",
                summary="",
                objectives="",
                locality="",
                beneficiaries_description="",
                sdg_targets=[],
            )
            for number in range(applications)
        ],
    )
    ids = list(db.session.scalars(db.select(Application.id).where(Application.call_id == call.id)))
    db.session.execute(
        insert(Review),
        [
            dict(
                application_id=application_id,
                evaluator_id=evaluator.id,
                state="submitted",
                recommendation="fund",
                overall_comment="",
            )
            for application_id in ids
            for evaluator in chance.sample(evaluators, reviews)
        ],
    )
    review_ids = list(
        db.session.scalars(
            db.select(Review.id).join(Application).where(Application.call_id == call.id)
        )
    )
    db.session.execute(
        insert(Score),
        [
            dict(
                review_id=review_id,
                criterion_id=criterion.id,
                score=chance.randint(0, 5),
                comment="",
            )
            for review_id in review_ids
            for criterion in call.criteria
        ],
    )
    db.session.commit()
    return call


def drafters(world, call: Call, count: int, per_person: int = 10) -> None:
    """``count`` complete drafts in ``call``, each of its own association; a person
    (``drafter-N@example.org``, applicant) is the member of ``per_person`` of them, so a
    surge of a thousand drafts needs a hundred logins, not a thousand (PostgreSQL)."""
    from tests.fixtures.programme import make_application

    template = make_application(world, call, state="draft")
    db.session.commit()
    people = -(-count // per_person)
    clone(
        "users",
        world.applicant.id,
        people,
        {
            "email": "'drafter-' || g || '@example.org'",
            "fs_uniquifier": "md5('drafter' || g)",
            "fs_webauthn_user_handle": "md5('drafter passkeys' || g)",
        },
    )
    # Draft g belongs to the gth association after the applicant's own, whose member is
    # drafter 1 + (g - 1) / per_person.
    numbered = (
        "(SELECT id, row_number() OVER (ORDER BY id) g FROM associations "
        "WHERE id <> :association ORDER BY id LIMIT :count)"
    )
    person = "'drafter-' || (1 + (a.g - 1) / :per_person) || '@example.org'"
    statements = [
        """INSERT INTO user_roles (user_id, role_id)
           SELECT u.id, r.role_id FROM users u, user_roles r
           WHERE r.user_id = :applicant AND u.email LIKE 'drafter-%'""",
        f"""INSERT INTO memberships (user_id, association_id, joined_at)
           SELECT u.id, a.id, now() FROM {numbered} a JOIN users u ON u.email = {person}""",
    ]
    parameters = {
        "applicant": world.applicant.id,
        "association": world.association.id,
        "count": count,
        "per_person": per_person,
    }
    for statement in statements:
        db.session.execute(
            text(statement), {k: v for k, v in parameters.items() if f":{k}" in statement}
        )
    clone(
        "applications",
        template.id,
        count,
        {
            "reference": f"'{call.code}-D' || g",
            "association_id": "(SELECT a.id FROM "
            + numbered.replace(":association", str(world.association.id)).replace(
                ":count", str(count)
            )
            + " a WHERE a.g = g.g)",
            "created_by_id": "(SELECT id FROM users WHERE email = 'drafter-' || "
            f"(1 + (g - 1) / {per_person}) || '@example.org')",
        },
    )
    for table, columns in (
        ("budget_lines", "position, category, description, quantity, unit_cost"),
        ("cofinancing", "source, description, amount"),
    ):
        db.session.execute(
            text(
                f"INSERT INTO {table} (application_id, {columns}) "
                f"SELECT a.id, {', '.join('t.' + c.strip() for c in columns.split(','))} "
                f"FROM applications a, {table} t "
                f"WHERE a.reference LIKE :pattern AND t.application_id = :template"
            ),
            {"pattern": f"{call.code}-D%", "template": template.id},
        )
    db.session.commit()
