"""The page's own writes to the record: off the event loop, and one event per mark.

An fsync takes milliseconds, and the loop that would wait for it serves every open page (and,
in a drill, runs the conductor): a thousand people pressing in the same minute would queue
behind each other's fsyncs with the loop stopped. So each append runs in a worker thread and
the loop goes on; ``EventLog`` is safe from several threads and lets appends that meet share
one fsync (group commit), so marks pressed together are written together.

Two things the loop used to give for free are kept on purpose. A mark is acknowledged only
once it is on disk: the answer waits for the thread. And two posts of one mark still make one
event: while a write is under way, a second one with the same ``once`` key (the same person
pressing the same milestone from two tabs, a retried post) waits for it and is answered with
its event, instead of checking the record before the first has reached it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from concurrent.futures import ThreadPoolExecutor

from kunren.page.control import DrillControl
from kunren.page.state import DrillView
from kunren.record.events import Event


class PageStopping(Exception):
    """A write asked for after the server began to stop: refused, nothing recorded."""


# Appends that may wait together (and, with group commit, share one fsync). Marks arrive in
# bursts (fifty people joining in the same second, each pressing at once): with 8 threads the
# ninth mark of a burst waited in the pool for a thread while the first eight's fsync ran, and
# a burst took several fsyncs in a row (`bench page`, 2026-12-02: marks p99 166 ms in the
# server with 8, 79 ms with 64). Idle threads cost only their stacks' address space.
WRITERS = 64


class Writes:
    """Appends through ``control.record`` in worker threads, refreshing ``view`` after each.

    The threads are the page's own, not the loop's default executor: a burst of a thousand
    marks must never queue in front of the conductor's own work there (a revert, a probe).
    """

    def __init__(self, control: DrillControl, view: DrillView) -> None:
        self.control = control
        self.view = view
        self._threads = ThreadPoolExecutor(WRITERS, thread_name_prefix="kunren-page-write")
        self.closed = False
        self._writing: dict[Hashable, asyncio.Task[Event]] = {}

    async def record(self, event: Event, once: Hashable | None = None) -> tuple[Event, bool]:
        """Append ``event`` and return it once it is on disk (fsync'd), with True; or, when a
        write with the same ``once`` key is already under way, that write's event and False.

        The view is refreshed on the loop afterwards, which tells the open pages. The write
        runs to its end even if the request that asked for it goes away: a click that
        reached the disk is shown, never lost.
        """
        if self.closed:
            raise PageStopping()
        if once is not None:
            running = self._writing.get(once)
            if running is not None:
                return await asyncio.shield(running), False
        task = asyncio.ensure_future(self._write(event))
        if once is not None:
            key = once
            self._writing[key] = task
            task.add_done_callback(lambda _: self._writing.pop(key, None))
        return await asyncio.shield(task), True

    async def _write(self, event: Event) -> Event:
        # The task's first step runs a loop turn after ``record`` checked: the server may have
        # begun to stop in between (a full disk stopping the drill), and its threads are gone.
        if self.closed:
            raise PageStopping()
        loop = asyncio.get_running_loop()
        written = await loop.run_in_executor(self._threads, self._append, event)
        self.view.refresh()
        return written

    def close(self) -> None:
        """No new writes; those under way finish (the server is stopping)."""
        self.closed = True
        self._threads.shutdown(wait=False)

    def _append(self, event: Event) -> Event:
        # EventLog is safe from several threads: appends that meet share one fsync
        return self.control.record(event)
