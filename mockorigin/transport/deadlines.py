"""Coarse deadlines for many connections, kept by one timer.

The idle, head, body, linger and hang-cut limits are safety nets measured in
seconds: they need not fire to the millisecond. Each connection's deadline goes
into a tenth-of-a-second slot and a single ``DelayedCall`` wakes for the earliest
slot. A waiting connection then costs a set entry instead of a ``DelayedCall``
(about 0.45 KiB), and moving a deadline later, which every keep-alive request
does, costs nothing: the sweep finds it early and files it again.

Script timings (``wait``, ``every``, ``drip``, ``hang: {for}``) are the product
and keep their own exact timers; they never come here.
"""

from __future__ import annotations

import math
from typing import Protocol

from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

log = Logger()

SLOTS_PER_SECOND = 10
_EPSILON = 1e-6  # float noise: a deadline at 75.0 is due at 75.0, not one slot later


class Watched(Protocol):
    deadline_slot: int | None

    def deadline_reached(self, now: float) -> None:
        """Act if the deadline has passed; otherwise ``watch`` again."""


class Deadlines:
    def __init__(self, clock: IReactorTime):
        self.clock = clock
        self._slots: dict[int, set[Watched]] = {}
        self._call = None
        self._call_slot: int | None = None

    def __len__(self) -> int:
        return sum(map(len, self._slots.values()))

    def watch(self, item: Watched, at: float) -> None:
        """Make sure ``item`` is looked at no later than one slot after ``at``."""
        slot = math.ceil(at * SLOTS_PER_SECOND - _EPSILON)
        current = item.deadline_slot
        if current is not None:
            if current <= slot:
                return  # it will be looked at sooner, and filed again then
            self.forget(item)
        members = self._slots.get(slot)
        if members is None:
            members = self._slots[slot] = set()
        members.add(item)
        item.deadline_slot = slot
        if self._call_slot is None or slot < self._call_slot:
            self._schedule(slot)

    def forget(self, item: Watched) -> None:
        slot = item.deadline_slot
        if slot is None:
            return
        item.deadline_slot = None
        members = self._slots.get(slot)
        if members is not None:
            members.discard(item)
            if not members:
                del self._slots[slot]
        if not self._slots and self._call is not None:
            self._call.cancel()  # no timer outlives the last deadline
            self._call = self._call_slot = None

    def _schedule(self, slot: int) -> None:
        if self._call is not None:
            self._call.cancel()
        self._call_slot = slot
        self._call = self.clock.callLater(max(0.0, slot / SLOTS_PER_SECOND - self.clock.seconds()), self._sweep)

    def _sweep(self) -> None:
        self._call = self._call_slot = None
        now = self.clock.seconds()
        last_due = math.floor(now * SLOTS_PER_SECOND + _EPSILON)
        for slot in sorted(s for s in self._slots if s <= last_due):
            for item in self._slots.pop(slot, ()):
                item.deadline_slot = None
                try:
                    item.deadline_reached(now)
                except Exception:  # one connection's failure must not cost the others their deadlines
                    log.failure("a deadline action failed")
        if self._slots:
            earliest = min(self._slots)
            if self._call_slot is None or earliest < self._call_slot:
                self._schedule(earliest)
