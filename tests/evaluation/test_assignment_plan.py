"""The pure assignment planner: rules never broken, maximal coverage, even loads, reasons.

No database and no Flask: these tests build ``Target``/``Candidate`` values directly and check
the proposal against small independent oracles written here (a max-flow, a search for an
improving chain of reassignments, and brute force over tiny instances).
"""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter, deque
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grants.services.assignment_plan import Candidate, Proposal, Target, propose

FR, EN, ES, AR = "fr", "en", "es", "ar"


def cand(
    id: int, *langs: str, max_load: int | None = None, members: Sequence[int] = ()
) -> Candidate:
    return Candidate(id, frozenset(langs), max_load, frozenset(members))


# -- independent oracles ---------------------------------------------------------------------


class Call:
    """One planning input plus rule checks written independently of the planner."""

    def __init__(
        self,
        targets: Sequence[Target],
        candidates: Sequence[Candidate],
        per_application: int = 3,
        existing: Sequence[tuple[int, int]] = (),
        conflicts: Sequence[tuple[int, int]] = (),
        default_max_load: int | None = None,
    ) -> None:
        self.targets = list(targets)
        self.candidates = list(candidates)
        self.per_application = per_application
        self.existing = list(existing)
        self.conflicts = set(conflicts)
        self.default_max_load = default_max_load
        self.by_id = {c.id: c for c in self.candidates}
        self.existing_set = set(self.existing)

    def run(self) -> Proposal:
        return propose(
            self.targets,
            self.candidates,
            self.per_application,
            existing=self.existing,
            conflicts=self.conflicts,
            default_max_load=self.default_max_load,
        )

    def limit(self, c: Candidate) -> int | None:
        return c.max_load if c.max_load is not None else self.default_max_load

    def allowed(self, t: Target, c: Candidate) -> bool:
        """Language, membership and conflict rules (load aside); existing pairs excluded."""
        return (
            t.language in c.languages
            and t.association_id not in c.association_ids
            and (c.id, t.association_id) not in self.conflicts
            and (t.id, c.id) not in self.existing_set
        )

    def demand(self, t: Target) -> int:
        return max(0, self.per_application - sum(1 for a, _ in self.existing_set if a == t.id))

    def room(self, c: Candidate) -> int | None:
        """New assignments c may take; None = unlimited."""
        limit = self.limit(c)
        if limit is None:
            return None
        return max(0, limit - sum(1 for _, e in self.existing_set if e == c.id))

    def check_rules(self, p: Proposal) -> None:
        """Every rule holds for every pair; loads and shortfalls are consistent."""
        targets = {t.id: t for t in self.targets}
        assert list(p.pairs) == sorted(set(p.pairs)), "pairs sorted, no duplicates"
        assert not set(p.pairs) & self.existing_set, "existing pairs are never proposed again"
        for app_id, evaluator_id in p.pairs:
            t, c = targets[app_id], self.by_id[evaluator_id]
            assert t.language in c.languages, (app_id, evaluator_id, "language")
            assert t.association_id not in c.association_ids, (app_id, evaluator_id, "member")
            assert (c.id, t.association_id) not in self.conflicts, (app_id, evaluator_id)
        new = Counter(e for _, e in p.pairs)
        old = Counter(e for _, e in self.existing_set)
        assert p.loads == {c.id: old[c.id] + new[c.id] for c in self.candidates}
        for c in self.candidates:
            limit = self.limit(c)
            if new[c.id] and limit is not None:
                assert p.loads[c.id] <= limit, (c.id, p.loads[c.id], limit)
        for t in self.targets:
            assert sum(1 for a, _ in p.pairs if a == t.id) <= self.demand(t), t.id
        cover = self.coverage(p)
        assert set(p.shortfalls) == {
            t.id for t in self.targets if cover[t.id] < self.per_application
        }
        for app_id, sentence in p.shortfalls.items():
            assert sentence.startswith(f"{cover[app_id]} of {self.per_application} evaluators: ")

    def coverage(self, p: Proposal) -> dict[int, int]:
        pairs = self.existing_set | set(p.pairs)
        return {t.id: sum(1 for a, _ in pairs if a == t.id) for t in self.targets}

    def max_new_pairs(self) -> int:
        """Largest number of new pairs any valid proposal can have (augmenting-path max flow)."""
        room = {c.id: self.room(c) for c in self.candidates}
        holder: dict[int, list[int]] = {c.id: [] for c in self.candidates}  # evaluator -> apps
        eligible = {
            t.id: [c.id for c in self.candidates if self.allowed(t, c)] for t in self.targets
        }
        assigned: dict[int, set[int]] = {t.id: set() for t in self.targets}

        def augment(app: int, seen: set[int]) -> bool:
            for e in eligible[app]:
                if e in seen or e in assigned[app]:
                    continue
                seen.add(e)
                if room[e] is None or len(holder[e]) < room[e]:
                    holder[e].append(app)
                    assigned[app].add(e)
                    return True
                for other in list(holder[e]):
                    # Move `other` away from e to free a slot (e must not already hold `app`).
                    holder[e].remove(other)
                    assigned[other].discard(e)
                    if augment(other, seen):
                        holder[e].append(app)
                        assigned[app].add(e)
                        return True
                    holder[e].append(other)
                    assigned[other].add(e)
            return False

        total = 0
        for t in self.targets:
            for _ in range(self.demand(t)):
                if not augment(t.id, set()):
                    break
                total += 1
        return total

    def improving_chain(self, p: Proposal) -> tuple[int, int] | None:
        """An evaluator pair (u, v) such that the rules allow u to hand v one unit of load.

        "Hand" means a chain of reassignments of *new* pairs: an application a1 held by u goes
        to w1 (eligible for a1, not already on it), an application a2 held by w1 goes to w2, ...
        ending at v, where v is below its max load. Every application keeps its coverage,
        intermediate evaluators keep their load, u loses one and v gains one. A pair is
        *improving* when load(u) >= load(v) + 2. Returns one such pair, or None.
        """
        targets = {t.id: t for t in self.targets}
        holds: dict[int, set[int]] = {c.id: set() for c in self.candidates}
        on_app: dict[int, set[int]] = {t.id: set() for t in self.targets}
        for a, e in self.existing_set | set(p.pairs):
            if a in on_app:
                on_app[a].add(e)
        for a, e in p.pairs:
            holds[e].add(a)

        def has_room(c: Candidate) -> bool:
            limit = self.limit(c)
            return limit is None or p.loads[c.id] < limit

        for u in self.candidates:
            seen = {u.id}
            queue = deque([u.id])
            while queue:
                w = queue.popleft()
                for a in holds[w]:
                    for c in self.candidates:
                        if c.id in seen or c.id in on_app[a] or not self.allowed(targets[a], c):
                            continue
                        seen.add(c.id)
                        queue.append(c.id)
                        if has_room(c) and p.loads[u.id] >= p.loads[c.id] + 2:
                            return u.id, c.id
        return None


# -- hand cases ------------------------------------------------------------------------------


def test_members_and_declared_conflicts_are_never_assigned() -> None:
    call = Call(
        [Target(100, association_id=7, language=FR)],
        [cand(1, FR, members=[7]), cand(2, FR), cand(3, FR), cand(4, FR)],
        conflicts=[(2, 7), (3, 8)],
    )
    p = call.run()
    call.check_rules(p)
    assert p.pairs == ((100, 3), (100, 4))
    assert p.shortfalls == {
        100: "2 of 3 evaluators: no other evaluator reads French without membership of the "
        "association or a conflict (1 is a member of the association, 1 declared a conflict)."
    }


def test_language_mismatch_names_the_language() -> None:
    call = Call(
        [Target(1, 1, AR), Target(2, 1, FR)],
        [cand(10, FR, AR), cand(11, FR), cand(12, FR, EN)],
        per_application=2,
    )
    p = call.run()
    call.check_rules(p)
    assert [pair for pair in p.pairs if pair[0] == 1] == [(1, 10)]
    assert p.shortfalls == {
        1: "1 of 2 evaluators: no other evaluator reads Arabic (2 do not read Arabic)."
    }


def test_max_load_and_default_max_load_are_respected() -> None:
    targets = [Target(i, i, EN) for i in range(1, 7)]
    call = Call(
        targets,
        [cand(1, EN, max_load=1), cand(2, EN), cand(3, EN, max_load=4)],
        per_application=2,
        default_max_load=3,
    )
    p = call.run()
    call.check_rules(p)
    assert p.loads == {1: 1, 2: 3, 3: 4}
    assert len(p.shortfalls) == 4  # 12 slots wanted, 8 available: four applications get 1 of 2
    for sentence in p.shortfalls.values():
        assert sentence == (
            "1 of 2 evaluators: no other evaluator reads English without a full load "
            "(2 are at maximum load)."
        )


def test_existing_assignments_count_and_are_not_duplicated() -> None:
    targets = [Target(1, 1, FR), Target(2, 2, FR), Target(3, 3, FR)]
    evaluators = [cand(10, FR), cand(11, FR), cand(12, FR, max_load=2)]
    call = Call(targets, evaluators, per_application=2, existing=[(1, 10), (1, 11), (2, 12)])
    p = call.run()
    call.check_rules(p)
    assert all(a != 1 for a, _ in p.pairs)  # already covered
    assert (2, 12) not in p.pairs
    assert call.coverage(p) == {1: 2, 2: 2, 3: 2}
    assert sorted(p.loads.values()) == [2, 2, 2]
    assert p.shortfalls == {}


def test_existing_loads_steer_new_work_to_lighter_evaluators() -> None:
    targets = [Target(i, 0, EN) for i in range(1, 7)]
    existing = [(100 + k, 1) for k in range(4)]  # evaluator 1 already carries 4 elsewhere
    call = Call(targets, [cand(1, EN), cand(2, EN), cand(3, EN)], 1, existing)
    p = call.run()
    call.check_rules(p)
    assert p.loads == {1: 4, 2: 3, 3: 3}


def test_load_shortfall_is_explained_and_spread_fairly() -> None:
    targets = [Target(i, 0, ES) for i in range(1, 5)]
    call = Call(targets, [cand(1, ES, max_load=3), cand(2, ES, max_load=3), cand(3, FR)], 2)
    p = call.run()
    call.check_rules(p)
    # 6 slots for 8 wanted: two applications get 1 of 2 (never one with 0 and others full).
    assert sorted(call.coverage(p).values()) == [1, 1, 2, 2]
    for sentence in p.shortfalls.values():
        assert sentence == (
            "1 of 2 evaluators: no other evaluator reads Spanish without a full load "
            "(1 does not read Spanish, 1 is at maximum load)."
        )


def test_chain_of_reassignments_reaches_full_coverage() -> None:
    # Evaluator 1 reads both languages but takes one application, 2 reads French and takes two,
    # 3 reads English but takes none. The seed gives evaluator 1 a French application (lowest
    # id); covering the English one then needs the chain "1 takes it, 2 takes 1's French one".
    call = Call(
        [Target(1, 0, FR), Target(2, 0, FR), Target(3, 0, EN)],
        [cand(1, FR, EN, max_load=1), cand(2, FR, max_load=2), cand(3, EN, max_load=0)],
        per_application=1,
    )
    p = call.run()
    call.check_rules(p)
    assert p.pairs == ((1, 2), (2, 2), (3, 1))


def test_empty_pool_and_small_pool_sentences() -> None:
    assert propose([Target(1, 0, FR)], []).shortfalls == {
        1: "0 of 3 evaluators: there are no evaluators in the pool."
    }
    p = propose([Target(1, 0, FR)], [cand(5, FR), cand(6, FR)])
    assert p.pairs == ((1, 5), (1, 6))
    assert p.shortfalls == {1: "2 of 3 evaluators: there are only 2 evaluators in the pool."}


def test_invalid_input_is_rejected() -> None:
    with pytest.raises(ValueError):
        propose([Target(1, 0, FR), Target(1, 0, EN)], [cand(1, FR)])
    with pytest.raises(ValueError):
        propose([Target(1, 0, FR)], [cand(1, FR), cand(1, EN)])
    with pytest.raises(ValueError):
        propose([Target(1, 0, FR)], [cand(1, FR)], per_application=-1)


# -- a generated call --------------------------------------------------------------------------


def generated_call(seed: int = 20240601) -> tuple[Call, list[int]]:
    """200 applications, 15 evaluators, realistic languages, memberships, conflicts, max loads."""
    rng = random.Random(seed)
    targets = [
        Target(1000 + k, rng.randrange(1, 81), rng.choices([FR, EN, ES, AR], [50, 25, 15, 10])[0])
        for k in range(200)
    ]
    while True:
        candidates = []
        for i in range(1, 16):
            langs = {
                lang for lang, p in ((FR, 0.7), (EN, 0.6), (ES, 0.3), (AR, 0.3)) if rng.random() < p
            }
            langs.add(rng.choice([FR, EN]))  # everyone reads one of the two large pools
            members = rng.sample(range(1, 81), rng.choice([0, 0, 1, 2]))
            max_load = {3: 25, 7: 30, 11: 32}.get(i)  # three evaluators with a low personal cap
            candidates.append(Candidate(i, frozenset(langs), max_load, frozenset(members)))
        if all(sum(lang in c.languages for c in candidates) >= 4 for lang in (FR, EN, ES, AR)):
            break
    conflicts = [(rng.randrange(1, 16), rng.randrange(1, 81)) for _ in range(12)]
    # A small Arabic-speaking association (99) that all but two Arabic readers know personally.
    small = next(k for k, t in enumerate(targets) if t.language == AR)
    targets[small] = Target(targets[small].id, 99, AR)
    arabic = sorted(c.id for c in candidates if AR in c.languages)
    conflicts += [(i, 99) for i in arabic[2:]]
    others = [t for k, t in enumerate(targets) if k != small]
    existing = [(t.id, rng.randrange(1, 16)) for t in rng.sample(others, 20)]
    return Call(targets, candidates, 3, existing, conflicts, default_max_load=60), arabic


def test_generated_call_keeps_rules_covers_fully_and_balances() -> None:
    call, arabic = generated_call()
    started = time.perf_counter()
    p = call.run()
    elapsed = time.perf_counter() - started
    call.check_rules(p)

    # Coverage: the proposal has as many new pairs as any valid proposal can (max-flow), and in
    # this call loads never bind coverage: each application gets min(3, evaluators allowed by
    # language/membership/conflict), so every application that can be covered is covered.
    assert len(p.pairs) == call.max_new_pairs()
    cover = call.coverage(p)
    for t in call.targets:
        allowed_total = sum(
            1
            for c in call.candidates
            if t.language in c.languages
            and t.association_id not in c.association_ids
            and (c.id, t.association_id) not in call.conflicts
        )
        assert cover[t.id] == min(3, allowed_total), t
    [(short_id, sentence)] = p.shortfalls.items()
    assert short_id == next(t.id for t in call.targets if t.association_id == 99)
    assert sentence == (
        "2 of 3 evaluators: no other evaluator reads Arabic without a conflict "
        f"({15 - len(arabic)} do not read Arabic, {len(arabic) - 2} declared a conflict)."
    )

    # Balance "where the constraints allow", precisely: there is no pair of evaluators (u, v)
    # with load(u) >= load(v) + 2, v below its max load, such that a chain of reassignments of
    # proposed pairs, each respecting language, membership, conflict and max load, moves one
    # unit of load from u to v while every application keeps its coverage (existing pairs are
    # fixed). This is exactly the condition under which the loads cannot be made more even.
    assert call.improving_chain(p) is None

    # What that leaves visible in the loads: an evaluator can be held below the others only by
    # their max load or by already sitting on every application they are allowed to take (here
    # evaluator 13 reads only English and is on every English application). Among all the
    # others any two can trade through the large French/English pools, so their loads (counting
    # existing pairs) differ by at most one.
    on = {
        c.id: {a for a, e in call.existing_set | set(p.pairs) if e == c.id} for c in call.candidates
    }
    at_max = {c.id: p.loads[c.id] for c in call.candidates if p.loads[c.id] >= call.limit(c)}
    on_all_allowed = {
        c.id
        for c in call.candidates
        if all(t.id in on[c.id] for t in call.targets if call.allowed(t, c) or t.id in on[c.id])
    }
    assert at_max == {3: 25, 7: 30, 11: 32}
    assert on_all_allowed == {13}
    free = [
        p.loads[c.id] for c in call.candidates if c.id not in at_max and c.id not in on_all_allowed
    ]
    assert len(free) == 11 and max(free) - min(free) <= 1
    loads = sorted(p.loads.values())
    print(
        f"\ngenerated call: {len(p.pairs)} new pairs, {len(p.shortfalls)} shortfalls, "
        f"loads {loads[0]}..{loads[-1]} (others than 3, 7, 11, 13: {min(free)}..{max(free)}), "
        f"{elapsed * 1000:.1f} ms"
    )


def test_large_call_runs_and_keeps_rules() -> None:
    """2,000 applications x 3 x 60 evaluators (timing printed, not asserted)."""
    rng = random.Random(7)
    targets = [
        Target(k, rng.randrange(400), rng.choices([FR, EN, ES, AR], [50, 25, 15, 10])[0])
        for k in range(2000)
    ]
    candidates = [
        Candidate(
            i,
            frozenset({rng.choice([FR, EN])} | {x for x in (ES, AR) if rng.random() < 0.3}),
            rng.choice([None, None, 80, 120]),
            frozenset(rng.sample(range(400), 2)),
        )
        for i in range(60)
    ]
    call = Call(
        targets,
        candidates,
        3,
        conflicts=[(rng.randrange(60), rng.randrange(400)) for _ in range(50)],
    )
    started = time.perf_counter()
    p = call.run()
    elapsed = time.perf_counter() - started
    call.check_rules(p)
    loads = sorted(p.loads.values())
    print(f"\nlarge call: {len(p.pairs)} pairs, loads {loads[0]}..{loads[-1]}, {elapsed:.3f} s")


# -- properties over small random instances ------------------------------------------------


@st.composite
def small_calls(
    draw: st.DrawFn, max_apps: int = 6, max_evaluators: int = 5, max_n: int = 3
) -> Call:
    langs = st.sampled_from([FR, EN, AR])
    n_apps = draw(st.integers(0, max_apps))
    n_evaluators = draw(st.integers(0, max_evaluators))
    targets = [Target(10 + k, draw(st.integers(1, 3)), draw(langs)) for k in range(n_apps)]
    candidates = [
        Candidate(
            i,
            frozenset(draw(st.sets(langs, max_size=3))),
            draw(st.none() | st.integers(0, 4)),
            frozenset(draw(st.sets(st.integers(1, 3), max_size=1))),
        )
        for i in range(1, n_evaluators + 1)
    ]
    all_pairs = [(t.id, c.id) for t in targets for c in candidates]
    existing = draw(st.lists(st.sampled_from(all_pairs), max_size=3)) if all_pairs else []
    conflicts = draw(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 3)), max_size=3))
    return Call(
        targets,
        candidates,
        draw(st.integers(0, max_n)),
        existing,
        conflicts,
        draw(st.none() | st.integers(0, 4)),
    )


@settings(max_examples=300, deadline=None)
@given(small_calls(), st.randoms(use_true_random=False))
def test_rules_hold_and_output_is_deterministic(call: Call, rnd: random.Random) -> None:
    p = call.run()
    call.check_rules(p)  # every rule, no duplicates, coverage <= per_application, loads
    assert call.run() == p
    shuffled = Call(
        rnd.sample(call.targets, len(call.targets)),
        rnd.sample(call.candidates, len(call.candidates)),
        call.per_application,
        rnd.sample(call.existing, len(call.existing)),
        list(call.conflicts),
        call.default_max_load,
    )
    assert shuffled.run() == p  # input order does not matter either


def brute_force(call: Call) -> tuple[int, int, int, int]:
    """(max new pairs, then min sum of squared loads, min load spread, min sum of squared
    application coverage) over every valid proposal with the maximum number of new pairs."""
    options = []
    for t in call.targets:
        allowed = [c.id for c in call.candidates if call.allowed(t, c)]
        options.append(
            [s for k in range(call.demand(t) + 1) for s in itertools.combinations(allowed, k)]
        )
    old_load = Counter(e for _, e in call.existing_set)
    old_cover = Counter(a for a, _ in call.existing_set)
    best: tuple[int, int, int, int] | None = None
    for choice in itertools.product(*options):
        new = Counter(e for chosen in choice for e in chosen)
        if any(call.room(c) is not None and new[c.id] > call.room(c) for c in call.candidates):
            continue
        loads = [old_load[c.id] + new[c.id] for c in call.candidates]
        cover = [old_cover[t.id] + len(ch) for t, ch in zip(call.targets, choice, strict=True)]
        key = (
            -sum(new.values()),
            sum(x * x for x in loads),
            max(loads, default=0) - min(loads, default=0),
            sum(x * x for x in cover),
        )
        if best is None:
            best = key
        elif key[0] < best[0]:
            best = key
        elif key[0] == best[0]:
            best = (best[0], min(best[1], key[1]), min(best[2], key[2]), min(best[3], key[3]))
    assert best is not None
    return -best[0], best[1], best[2], best[3]


@settings(max_examples=200, deadline=None)
@given(small_calls(max_apps=4, max_evaluators=4, max_n=2))
def test_matches_brute_force_optimum(call: Call) -> None:
    """Maximal coverage, then loads as even as any valid proposal allows, shortfalls spread."""
    p = call.run()
    call.check_rules(p)
    most, squares, spread, cover_squares = brute_force(call)
    loads = [p.loads[c.id] for c in call.candidates]
    assert len(p.pairs) == most
    assert sum(x * x for x in loads) == squares
    assert max(loads, default=0) - min(loads, default=0) == spread
    assert sum(x * x for x in call.coverage(p).values()) == cover_squares
    assert call.improving_chain(p) is None
