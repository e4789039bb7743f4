"""The drill clock: the only place in kunren that reads or waits for time.

A drill runs on one clock so that faults, probes and people are measured on the same axis.
``now()`` is the drill time in seconds since drill start; ``wall()`` is the matching wall-clock
time, stamped beside it on every event.

- ``RealClock``: drill time passes with real time (a real game day).
- ``ScaledClock(speed)``: drill time passes ``speed`` times faster (rehearsals and the demo).
- ``VirtualClock``: no waiting at all; time jumps to the next deadline as soon as every task
  is waiting on the clock (tests and simulations: a 60-minute drill in well under a second).

``make_clock(kind, …)`` is the one way the rest of kunren makes a clock from a ``ClockKind``
(what ``--clock``/``--speed`` ask for, and what ``drill.started`` records).
"""

from __future__ import annotations

import asyncio
import collections
import heapq
import itertools
import time
from collections.abc import Iterator, Sized
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol, assert_never, get_args

from kunren.errors import UsageError


def wall_now() -> datetime:
    """The current wall-clock time, timezone-aware (local offset)."""
    return datetime.now(UTC).astimezone()


def monotonic() -> float:
    return time.monotonic()


def perf_counter() -> float:
    return time.perf_counter()


def blocking_sleep(seconds: float) -> None:
    """Real sleep for the few non-async places (process grace periods, lock retries)."""
    time.sleep(seconds)


class Clock(Protocol):
    speed: float

    def now(self) -> float:
        """Drill time: seconds since drill start."""

    def wall(self) -> datetime:
        """Wall-clock time matching ``now()``."""

    async def sleep_until(self, drill_time: float) -> None:
        """Wait until drill time reaches ``drill_time``."""

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of drill time."""

    def real_seconds(self, drill_seconds: float) -> float:
        """How many real seconds ``drill_seconds`` of drill time take (0 for virtual)."""

    def rezero(self) -> None:
        """Restart counting from the start time now (after services took their time to start)."""

    @contextmanager
    def busy(self) -> Iterator[None]:
        """Hold drill time still while real work (an injection, a probe) is in flight."""
        yield


class ScaledClock:
    """Drill time = real elapsed time × ``speed``, starting at ``start`` drill seconds."""

    def __init__(self, speed: float = 1.0, start: float = 0.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._start = start
        self._mono0 = time.monotonic()

    def now(self) -> float:
        return self._start + (time.monotonic() - self._mono0) * self.speed

    def rezero(self) -> None:
        self._mono0 = time.monotonic()

    def wall(self) -> datetime:
        return wall_now()

    async def sleep_until(self, drill_time: float) -> None:
        # Re-check after each wake-up: event-loop timers may fire a little early.
        for _ in range(1000):
            remaining = drill_time - self.now()
            if remaining <= 0:
                return
            await asyncio.sleep(remaining / self.speed)

    async def sleep(self, seconds: float) -> None:
        await self.sleep_until(self.now() + seconds)

    def real_seconds(self, drill_seconds: float) -> float:
        return drill_seconds / self.speed

    @contextmanager
    def busy(self) -> Iterator[None]:
        yield


class RealClock(ScaledClock):
    def __init__(self, start: float = 0.0) -> None:
        super().__init__(1.0, start)


SETTLE_YIELDS = 20  # loop turns the virtual clock waits at most for chains of callbacks


class VirtualClock:
    """Simulated time for tests and rehearsals: jumps to the next deadline when all wait.

    Time only moves forward when every task is parked on the clock and nothing holds
    ``busy()``; real I/O done inside ``busy()`` therefore sees drill time stand still.
    """

    speed = float("inf")

    def __init__(self, start: float = 0.0, wall_start: datetime | None = None) -> None:
        self._now = start
        self._origin = start
        self._wall_start = wall_start or wall_now()
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._counter = itertools.count()
        self._busy = 0
        self._driver: asyncio.Task[None] | None = None

    def now(self) -> float:
        return self._now

    def wall(self) -> datetime:
        return self._wall_start + timedelta(seconds=self._now - self._origin)

    def rezero(self) -> None:
        """Virtual time does not pass while nothing waits on it: nothing to do."""

    def advance(self, seconds: float) -> None:
        """Move time forward by hand (synchronous tests)."""
        self._now += seconds

    async def sleep_until(self, drill_time: float) -> None:
        if drill_time <= self._now:
            await asyncio.sleep(0)
            return
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._waiters, (drill_time, next(self._counter), future))
        if self._driver is None or self._driver.done():
            self._driver = loop.create_task(self._drive())
        await future

    async def sleep(self, seconds: float) -> None:
        await self.sleep_until(self._now + seconds)

    def real_seconds(self, drill_seconds: float) -> float:
        return 0.0

    @contextmanager
    def busy(self) -> Iterator[None]:
        self._busy += 1
        try:
            yield
        finally:
            self._busy -= 1

    async def _settle(self) -> None:
        # Let every ready callback run (and chains of them, up to SETTLE_YIELDS long) before
        # time may move. Once the loop has nothing else ready, further yields would only spin
        # it: a probe checked every second for a day is 86,400 steps, and twenty empty loop
        # turns each cost most of a step.
        ready = _ready_queue(asyncio.get_running_loop())
        for _ in range(SETTLE_YIELDS):
            await asyncio.sleep(0)
            if ready is not None and not ready:
                break
        for _ in range(100_000):
            if self._busy == 0:
                return
            await asyncio.sleep(0.001)

    async def _drive(self) -> None:
        # After waking the sleepers that are due, the driver settles before it looks again,
        # so a sleeper that goes straight back to sleep (a probe's loop) finds it still
        # running rather than starting a new driver task for every step.
        while True:
            await self._settle()
            while self._waiters and self._waiters[0][2].done():
                heapq.heappop(self._waiters)  # cancelled sleeper
            if not self._waiters:
                return
            deadline = self._waiters[0][0]
            self._now = max(self._now, deadline)
            while self._waiters and self._waiters[0][0] <= self._now:
                _, _, future = heapq.heappop(self._waiters)
                if not future.done():
                    future.set_result(None)


def _ready_queue(loop: asyncio.AbstractEventLoop) -> Sized | None:
    """The callbacks ``loop`` will run on its next turn, when it shows them (asyncio's own
    loops keep them in ``_ready``); None for a loop that does not, which then gets every yield.
    """
    ready = getattr(loop, "_ready", None)
    return ready if isinstance(ready, collections.deque) else None


def is_virtual(clock: Clock) -> bool:
    """True when no real time passes on ``clock``: nothing real (load, a slow check) can keep
    pace with it, so those parts record what was planned or give up early."""
    return clock.real_seconds(1.0) == 0


ClockKind = Literal["real", "scaled", "virtual"]
CLOCK_KINDS: tuple[ClockKind, ...] = get_args(ClockKind)


def clock_kind(name: str) -> ClockKind:
    """``name`` as a ``ClockKind`` (as recorded in ``drill.started``); UsageError if unknown."""
    for kind in CLOCK_KINDS:
        if kind == name:
            return kind
    raise UsageError(f"unknown clock {name!r} (expected {', '.join(CLOCK_KINDS)})")


def kind_for_speed(speed: float) -> ClockKind:
    """``real`` at speed 1, ``scaled`` at any other."""
    return "real" if speed == 1.0 else "scaled"


def make_clock(
    kind: ClockKind,
    *,
    speed: float = 1.0,
    start: float = 0.0,
    wall_start: datetime | None = None,
) -> Clock:
    """A clock of ``kind`` whose drill time starts at ``start``.

    ``speed`` matters only to a scaled clock, ``wall_start`` (the wall time at ``start``,
    default now) only to a virtual one, since the others follow real time.
    """
    match kind:
        case "virtual":
            return VirtualClock(start=start, wall_start=wall_start)
        case "real":
            return RealClock(start=start)
        case "scaled":
            return ScaledClock(speed=speed, start=start)
        case _:
            assert_never(kind)
