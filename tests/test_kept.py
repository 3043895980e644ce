"""The keeper of computed results: served while fresh, computed again when older than
their maximum age or when their key changes, the least recently read dropped first, and
computed once when many threads ask at the same moment."""

from __future__ import annotations

import threading

import pytest

from grants.kept import Keeper


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_result_is_served_until_it_is_older_than_its_maximum_age():
    clock, calls = Clock(), []
    keeper: Keeper[int] = Keeper(4, clock=clock)

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert keeper.get("k", compute, max_age=60).value == 1
    clock.now += 60
    assert keeper.get("k", compute, max_age=60).value == 1
    clock.now += 1
    assert keeper.get("k", compute, max_age=60).value == 2
    assert keeper.get("k", compute, max_age=0).value == 3, "0: always computed"
    assert keeper.get("other", compute).value == 4
    clock.now += 10**6
    assert keeper.get("other", compute).value == 4, "no maximum age: kept until dropped"


def test_the_least_recently_read_is_dropped_first():
    keeper: Keeper[str] = Keeper(2)
    keeper.get("a", lambda: "a1")
    keeper.get("b", lambda: "b1")
    keeper.get("a", lambda: "a2")  # read: "b" is now the oldest
    keeper.get("c", lambda: "c1")
    assert keeper.get("a", lambda: "a3").value == "a1"
    assert keeper.get("b", lambda: "b2").value == "b2"


def test_threads_asking_at_once_share_one_computation():
    keeper: Keeper[str] = Keeper(4)
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow() -> str:
        calls.append(1)
        started.set()
        release.wait(10)
        return "figures"

    results: list[str] = []
    first = threading.Thread(target=lambda: results.append(keeper.get("k", slow, 60).value))
    first.start()
    assert started.wait(10)
    others = [
        threading.Thread(target=lambda: results.append(keeper.get("k", slow, 60).value))
        for _ in range(5)
    ]
    for thread in others:
        thread.start()
    release.set()
    for thread in [first, *others]:
        thread.join(10)
    assert results == ["figures"] * 6 and len(calls) == 1


def test_a_failed_computation_is_not_kept():
    keeper: Keeper[int] = Keeper(4)

    def broken() -> int:
        raise RuntimeError("database away")

    with pytest.raises(RuntimeError):
        keeper.get("k", broken, 60)
    assert keeper.get("k", lambda: 7, 60).value == 7
