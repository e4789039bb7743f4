"""The virtual clock moves time only once everything waits on it, and moves it cheaply."""

from __future__ import annotations

import asyncio

from kunren.runtime.clock import SETTLE_YIELDS, VirtualClock, _ready_queue


def test_a_chain_of_callbacks_finishes_before_time_moves() -> None:
    clock = VirtualClock()
    seen: list[tuple[str, float]] = []

    async def hops(name: str, count: int) -> None:
        await clock.sleep_until(10.0)
        for _ in range(count):  # work that takes several loop turns but no drill time
            await asyncio.sleep(0)
        seen.append((name, clock.now()))

    async def later() -> None:
        await clock.sleep_until(20.0)
        seen.append(("later", clock.now()))

    async def main() -> None:
        await asyncio.gather(hops("short", 1), hops("long", SETTLE_YIELDS - 2), later())

    asyncio.run(main())
    assert seen == [("short", 10.0), ("long", 10.0), ("later", 20.0)]


def test_one_sleeper_is_woken_at_every_deadline_in_order() -> None:
    clock = VirtualClock()
    woken: list[float] = []

    async def main() -> None:
        for step in range(1, 1001):
            await clock.sleep_until(step * 0.5)
            woken.append(clock.now())

    asyncio.run(main())
    assert woken == [step * 0.5 for step in range(1, 1001)]


def test_asyncios_own_loop_shows_its_ready_callbacks() -> None:
    # Without them the clock still works, but spins SETTLE_YIELDS loop turns at every step.
    async def main() -> bool:
        return _ready_queue(asyncio.get_running_loop()) is not None

    assert asyncio.run(main())
