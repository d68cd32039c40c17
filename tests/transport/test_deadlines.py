"""One timer for every connection's coarse deadline: fires within a slot, never early."""

from __future__ import annotations

import pytest
from twisted.internet.task import Clock

from mockorigin.transport.deadlines import SLOTS_PER_SECOND, Deadlines


class Item:
    def __init__(self, deadlines: Deadlines, at: float):
        self.deadlines, self.at, self.deadline_slot, self.fired_at = deadlines, at, None, None

    def deadline_reached(self, now: float) -> None:
        if self.at > now:
            self.deadlines.watch(self, self.at)
        else:
            self.fired_at = now


@pytest.mark.parametrize("at", [0.0, 0.05, 1.0, 75.0, 75.03, 599.99])
def test_fires_at_the_deadline_or_within_one_slot_after_never_before(at):
    clock = Clock()
    deadlines = Deadlines(clock)
    item = Item(deadlines, at)
    deadlines.watch(item, at)
    clock.advance(max(at - 0.001, 0.0))
    if at >= 0.001:
        assert item.fired_at is None
    clock.advance(0.001 + 1 / SLOTS_PER_SECOND)
    assert item.fired_at is not None and at <= item.fired_at + 1e-6 <= at + 1 / SLOTS_PER_SECOND + 1e-6


def test_ten_thousand_deadlines_share_one_delayed_call():
    clock = Clock()
    deadlines = Deadlines(clock)
    items = [Item(deadlines, 10 + i / 1000) for i in range(10_000)]
    for item in items:
        deadlines.watch(item, item.at)
    assert len(clock.getDelayedCalls()) == 1 and len(deadlines) == 10_000
    clock.pump([1] * 21)
    assert all(item.fired_at is not None for item in items) and clock.getDelayedCalls() == []


def test_a_deadline_moved_later_is_filed_again_when_its_old_slot_comes():
    clock = Clock()
    deadlines = Deadlines(clock)
    item = Item(deadlines, 1.0)
    deadlines.watch(item, 1.0)
    item.at = 5.0
    deadlines.watch(item, 5.0)  # later: nothing moves now
    assert item.deadline_slot == 1 * SLOTS_PER_SECOND
    clock.advance(1.0)
    assert item.fired_at is None and item.deadline_slot == 5 * SLOTS_PER_SECOND
    clock.advance(4.0)
    assert item.fired_at == 5.0


def test_a_deadline_moved_earlier_moves_the_timer():
    clock = Clock()
    deadlines = Deadlines(clock)
    item = Item(deadlines, 5.0)
    deadlines.watch(item, 5.0)
    item.at = 1.0
    deadlines.watch(item, 1.0)
    clock.advance(1.0)
    assert item.fired_at == 1.0


def test_forgetting_the_last_item_leaves_no_timer():
    clock = Clock()
    deadlines = Deadlines(clock)
    first, second = Item(deadlines, 1.0), Item(deadlines, 2.0)
    deadlines.watch(first, 1.0)
    deadlines.watch(second, 2.0)
    deadlines.forget(first)
    assert len(clock.getDelayedCalls()) == 1
    deadlines.forget(second)
    assert clock.getDelayedCalls() == [] and len(deadlines) == 0


def test_a_failing_action_does_not_cost_the_others_their_deadline():
    clock = Clock()
    deadlines = Deadlines(clock)

    class Broken(Item):
        def deadline_reached(self, now: float) -> None:
            raise RuntimeError("boom")

    items = [Broken(deadlines, 1.0), Item(deadlines, 1.0), Broken(deadlines, 1.0), Item(deadlines, 1.0)]
    for item in items:
        deadlines.watch(item, 1.0)
    clock.advance(1.0)
    assert [item.fired_at for item in items if type(item) is Item] == [1.0, 1.0]
