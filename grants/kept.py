"""Results kept in this process: computed once, served many times.

A dashboard's aggregates over 100,000 applications take most of a second; read by a
dozen officers at once they would take the database with them. A ``Keeper`` holds a
few computed results, each under a key that says what it depends on, and for how long
it may be served (``max_age``, or until its key changes). While one thread computes a
missing result, the others asking for the same key wait for it rather than computing
it again. Each worker keeps its own: nothing is shared, nothing can go stale beyond
``max_age``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from grants.orm import utcnow

T = TypeVar("T")


@dataclass(frozen=True)
class Kept(Generic[T]):
    value: T
    #: When it was computed: pages say "as of" this moment.
    as_of: datetime
    #: The keeper's clock then (seconds), for its age.
    computed_at: float


class Keeper(Generic[T]):
    """At most ``size`` results, the least recently read dropped first."""

    def __init__(self, size: int, clock: Callable[[], float] = time.time):
        self.size = size
        self._clock = clock
        self._kept: OrderedDict[Hashable, Kept[T]] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T], max_age: float | None = None) -> Kept[T]:
        """The result kept under ``key``, computed now when there is none or it is older
        than ``max_age`` seconds (``None``: kept until dropped; ``0``: always computed)."""
        found = self._fresh(key, max_age)
        if found is not None:
            return found
        with self._lock:
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            found = self._fresh(key, max_age)  # another thread may have computed it
            if found is not None:
                return found
            try:
                kept = Kept(compute(), utcnow(), self._clock())
            except BaseException:
                with self._lock:
                    self._computing.pop(key, None)
                raise
            with self._lock:
                if max_age != 0:
                    self._kept[key] = kept
                    self._kept.move_to_end(key)
                    while len(self._kept) > self.size:
                        self._kept.popitem(last=False)
                self._computing.pop(key, None)
            return kept

    def _fresh(self, key: Hashable, max_age: float | None) -> Kept[T] | None:
        if max_age == 0:
            return None
        with self._lock:
            kept = self._kept.get(key)
            if kept is None:
                return None
            if max_age is not None and self._clock() - kept.computed_at > max_age:
                del self._kept[key]
                return None
            self._kept.move_to_end(key)
            return kept

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
