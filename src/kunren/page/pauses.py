"""Short garbage-collection pauses while a page is served: survivors are frozen every second.

A page server holds a few hundred container objects per person (its connections, session,
open stream, the record's events), and CPython's full collection walks every one of them
while every request waits: with 1,000 people joining and marking (`bench page`, issue 17,
2026-12-02) the conductor held ~160,000 of them and made 5 full collections of 46 to 171 ms
in 50 seconds, the largest pauses of the run; a request that arrived during one waited it out.

So while a server runs, ``Freezer`` collects the young generations every ``FREEZE_SECONDS`` and
then freezes what survived (``gc.freeze``): a later full collection walks only what was made
since the last freeze, so its pause stays a few milliseconds however many people are on the page
(the same run with it: no full collection at all, the longest pause a 12 ms collection of the
young generations). What becomes cyclic garbage after it was frozen is not reclaimed by those
collections (objects freed by their reference count, most of them, still are at once); to keep
that bounded, every ``THAW_SECONDS`` everything is unfrozen and collected once (one full pause,
as before the freezer, every ten minutes instead of every few seconds), and when the last server
stops, everything is unfrozen for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time

FREEZE_SECONDS = 1.0  # with 5 s, two full collections of ~50 ms were left in that run; 1 s: none
THAW_SECONDS = 600.0

_running: set[Freezer] = set()  # one process may serve the page and the alert intake


class Freezer:
    """Freezes what survives every ``every`` seconds while started; thaws every ``thaw``."""

    def __init__(self, every: float | None = None, thaw: float | None = None) -> None:
        self.every = FREEZE_SECONDS if every is None else every
        self.thaw = THAW_SECONDS if thaw is None else thaw
        self.freezes = 0
        self.thaws = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin in the running loop (idempotent)."""
        if self._task is None:
            _running.add(self)
            self._task = asyncio.create_task(self._run(), name="kunren-gc-freezer")

    async def stop(self) -> None:
        """Stop freezing; when no other server's freezer runs, unfreeze everything."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        _running.discard(self)
        if not _running:
            gc.unfreeze()

    async def _run(self) -> None:
        thawed = time.monotonic()
        while True:
            await asyncio.sleep(self.every)
            if time.monotonic() - thawed >= self.thaw:
                gc.unfreeze()  # cyclic garbage among the frozen: reclaimed once, here
                gc.collect()
                thawed = time.monotonic()
                self.thaws += 1
            else:
                gc.collect(1)  # the young generations: short, and what is frozen is not garbage
            gc.freeze()
            self.freezes += 1
