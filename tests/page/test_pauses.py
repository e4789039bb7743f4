"""The page server's collector freezer: survivors frozen while served, everything thawed after.

Real collections of the test process: objects are made, frozen, dropped and reclaimed, and
``gc.get_freeze_count`` and weak references say what the collector did. Each wait polls its
condition with a deadline.
"""

from __future__ import annotations

import asyncio
import gc
import time
import weakref
from collections.abc import Callable
from pathlib import Path

import pytest

from kunren.page import pauses
from kunren.page.pauses import Freezer
from tests.page.conftest import make_drill, stop_drill

DEADLINE_S = 10.0


class Node:
    """A container that can be in a reference cycle (only the collector frees those)."""

    def __init__(self) -> None:
        self.me: Node | None = None


async def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, "not within the deadline"
        await asyncio.sleep(0.01)


def test_survivors_are_frozen_while_started_and_unfrozen_when_stopped() -> None:
    def walked(nodes: list[Node]) -> int:
        """How many of ``nodes`` a collection would walk (the frozen are not in any
        generation ``gc.get_objects`` lists)."""
        ids = {id(o) for o in gc.get_objects()}
        return sum(id(n) in ids for n in nodes)

    async def scenario() -> tuple[int, int, int]:
        freezer = Freezer(every=0.02)
        kept = [Node() for _ in range(1000)]
        before = walked(kept)
        freezer.start()
        await _until(lambda: freezer.freezes >= 2)
        while_served = walked(kept)
        await freezer.stop()
        return before, while_served, walked(kept)

    before, while_served, after = asyncio.run(scenario())
    assert (before, while_served, after) == (1000, 0, 1000)
    assert gc.get_freeze_count() == 0  # nothing is left frozen once the server stopped


def test_cyclic_garbage_frozen_before_it_died_is_reclaimed_at_the_thaw() -> None:
    async def scenario() -> tuple[bool, bool]:
        node = Node()
        node.me = node  # a cycle: its reference count never reaches zero
        dead = weakref.ref(node)
        freezer = Freezer(every=0.02, thaw=3600)
        freezer.start()
        await _until(lambda: freezer.freezes >= 1)  # frozen while alive
        del node
        gc.collect(1)
        kept_frozen = dead() is not None  # garbage now, but out of the young collections
        freezer.thaw = 0.0  # the next round thaws and collects everything once
        await _until(lambda: freezer.thaws >= 1)
        reclaimed = dead() is None
        await freezer.stop()
        return kept_frozen, reclaimed

    kept_frozen, reclaimed = asyncio.run(scenario())
    assert kept_frozen
    assert reclaimed


def test_a_served_page_freezes_and_its_stop_thaws(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pauses, "FREEZE_SECONDS", 0.02)
    drill = make_drill(tmp_path)
    try:
        deadline = time.monotonic() + DEADLINE_S
        while gc.get_freeze_count() == 0:
            assert time.monotonic() < deadline, "the served page froze nothing"
            time.sleep(0.01)
    finally:
        stop_drill(drill)
    assert gc.get_freeze_count() == 0
