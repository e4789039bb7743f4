"""Group commit inside one process: threads that append while another writes share its write.

The participant page server is one process taking marks from hundreds of people at once (from
threads, ``asyncio.to_thread``). Each append waiting its turn for the lock and the disk would
pay a whole fsync; instead, the thread that finds nobody writing becomes the leader, takes
every batch queued so far and commits them together (one lock, one write, one fsync), while
threads arriving meanwhile queue theirs and sleep. When it is done, the leader hands the lead
to the first batch queued behind it (so the next write starts at once) and wakes its followers,
each with its own events or its own copy of the error: nobody returns before the commit that
holds its events is on disk, and nobody is told "written" for a commit that failed.

Each waiter sleeps on a lock of its own, released by the leader, so waking N followers costs N
releases and no follower waits for another's wake-up.

A thread that finds nobody writing and nothing queued needs no batch at all: ``run_one`` makes
it the leader of its own write and then passes the lead to whoever queued meanwhile (the
single writer's path, the common case outside the page server).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from kunren.errors import EventLogError
from kunren.record.events import Event


@dataclass(slots=True, eq=False)
class Batch:
    """One caller's events in the queue, and what became of them."""

    events: list[Event]
    written: list[Event] = field(default_factory=list)
    error: BaseException | None = None
    done: bool = False  # written or failed: the caller may return
    lead: bool = False  # handed the lead by the previous leader
    gate: threading.Lock | None = None  # a follower sleeps on it until the leader releases it


Commit = Callable[[list[Batch]], None]  # sets written or error on every batch it was given


class CommitQueue:
    """Batches waiting for this process's writer, and who writes them."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()  # guards _queue and _leading, held only briefly
        self._queue: list[Batch] = []
        self._leading = False

    def run(self, events: list[Event], commit: Commit) -> list[Event]:
        """Commit ``events`` (with whatever else is queued); their stamped copies once on disk."""
        batch = Batch(events)
        with self._mutex:
            self._queue.append(batch)
            follow = self._leading
            if follow:  # released by the leader that settles it or hands it the lead
                batch.gate = gate = threading.Lock()
                gate.acquire()
            self._leading = True
        if follow:
            self._wait(batch)
        if not batch.done:
            self._lead(batch, commit)
        if batch.error is not None:
            raise batch.error
        return batch.written

    def run_one(self, event: Event, alone: Callable[[Event], Event], commit: Commit) -> Event:
        """Commit one event: by ``alone(event)`` at once if nobody leads, else queued (``run``).

        A thread that finds nobody writing (then nothing is queued) leads a write of its own,
        with no batch; whatever ``alone`` does, the lead passes on to the first batch queued
        meanwhile.
        """
        with self._mutex:
            leads = not self._leading
            self._leading = True
        if not leads:
            return self.run([event], commit)[0]
        try:
            return alone(event)
        finally:
            self._hand_on()

    def queued(self) -> int:
        """How many batches wait for a leader to take them (for tests and the curious)."""
        with self._mutex:
            return len(self._queue)

    def _wait(self, batch: Batch) -> None:
        assert batch.gate is not None
        try:
            batch.gate.acquire()
        except BaseException:  # interrupted while queued: leave the queue, pass on the lead
            with self._mutex:
                if batch in self._queue:
                    self._queue.remove(batch)
                lead = batch.lead
            if lead:
                self._hand_on()
            raise

    def _lead(self, mine: Batch, commit: Commit) -> None:
        with self._mutex:
            batches, self._queue = self._queue, []
        try:
            commit(batches)
        except BaseException as exc:
            for each in batches:
                if each.error is None and not each.written:
                    each.error = exc
            raise
        finally:
            self._hand_on()
            for each in batches:
                each.done = True
                if each is not mine:
                    if each.error is not None:
                        each.error = _own_copy(each.error)
                    assert each.gate is not None  # queued while a leader wrote: a follower
                    each.gate.release()

    def _hand_on(self) -> None:
        """Give the lead to the first batch queued, or leave it free."""
        with self._mutex:
            successor = self._queue[0] if self._queue else None
            if successor is None:
                self._leading = False
            else:
                successor.lead = True
        if successor is not None:
            assert successor.gate is not None
            successor.gate.release()


def _own_copy(error: BaseException) -> BaseException:
    """Each follower raises its own exception object (a traceback is per raise)."""
    if not isinstance(error, Exception):  # the leader was interrupted: not the disk's doing
        return EventLogError("the append was interrupted before it was written")
    mine = copy.copy(error)
    mine.__cause__ = error.__cause__
    return mine
