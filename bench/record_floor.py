"""What a single writer's append costs beyond the disk, part by part: the record's floor.

A diagnostic, not a benchmark (``python -m bench.record_floor [--rounds 8] [--events 400]``).
In alternating rounds in one scratch folder, each against the same bare write+fsync loop as
``bench.record``, it runs appenders that add the record's parts one at a time:

- ``floor``: what the record's guarantees need in any Python appender (serialise the pydantic
  event, an exclusive ``flock``, the log's size by ``lseek``, ``write``, unlock, ``fsync``);
- ``+ stamped copy``: the copy of the event with its seq that an append returns;
- ``+ commit queue``: the same through ``kunren.record.commitqueue`` as the record uses it (a
  writer that finds nobody writing leads its own write, ``run_one``; else it queues);
- ``+ shared page``: the tail record and the fsync under the write lock of ``syncpage``;
- ``EventLog.append``: the record itself.

Printed: each appender's rate over the bare loop's per round, and the median. The gap between
``floor`` and ``EventLog.append`` is what group commit's machinery costs a writer alone.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import scratch
from bench.record import _bare, _event
from kunren.record.commitqueue import Batch, CommitQueue
from kunren.record.eventlog import EventLog
from kunren.record.events import Event
from kunren.record.lines import with_seq
from kunren.record.syncpage import SyncPage

PARTS = ("floor", "+ stamped copy", "+ commit queue", "+ shared page")


class _Appender:
    """The floor, with some of the record's parts added (``PARTS`` after the first)."""

    def __init__(self, folder: Path, name: str, parts: set[str]) -> None:
        self.parts = parts
        self.lock = os.open(folder / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        self.log = os.open(folder / f"{name}.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        self.inode = os.fstat(self.log).st_ino
        self.page = SyncPage(folder / f"{name}.sync")
        self.queue = CommitQueue()
        self.seq = 0

    def _commit(self, batches: list[Batch]) -> None:
        bodies = [e.__pydantic_serializer__.to_json(e) + b"\n" for b in batches for e in b.events]
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        try:
            size = os.lseek(self.log, 0, os.SEEK_END)
            paged, alone = "+ shared page" in self.parts, False
            if paged:
                self.page.tail(self.inode)
            data = b"".join(bodies)
            os.write(self.log, data)
            self.seq += len(bodies)
            end = size + len(data)
            if paged:
                self.page.set_tail(self.inode, end, self.seq)
                alone = self.page.fsync_alone(self.log, self.inode, end)
        finally:
            fcntl.flock(self.lock, fcntl.LOCK_UN)
        if not alone:
            os.fsync(self.log)
        copy = "+ stamped copy" in self.parts
        for batch in batches:
            batch.written = [with_seq(e, self.seq) for e in batch.events] if copy else batch.events

    def append(self, event: Event) -> None:
        if "+ commit queue" in self.parts:
            self.queue.run_one(event, self._alone, self._commit)
        else:
            self._alone(event)

    def _alone(self, event: Event) -> Event:
        batch = Batch([event])
        self._commit([batch])
        return batch.written[0]

    def close(self) -> None:
        self.page.close()
        os.close(self.lock)
        os.close(self.log)


def measure(rounds: int, count: int, folder: Path | None = None) -> dict[str, list[float]]:
    """Each appender's rate over the bare loop's, per round (rounds alternate their order),
    in ``folder`` (kept) or a scratch folder (removed)."""
    if folder is None:
        with scratch("record-floor-") as made:
            return measure(rounds, count, made)
    events: list[Event] = [_event(n) for n in range(count)]
    lines = [(e.model_dump_json() + "\n").encode() for e in events]
    ratios: dict[str, list[float]] = {}
    appenders = {
        part: _Appender(folder, f"a{n}", set(PARTS[: n + 1])) for n, part in enumerate(PARTS)
    }
    log = EventLog.create(folder / "drill", "version: 1\n")
    runs: dict[str, Callable[[Event], object]] = {
        part: appender.append for part, appender in appenders.items()
    }
    runs["EventLog.append"] = log.append
    try:
        for n in range(rounds):
            order = list(runs) if n % 2 else list(runs)[::-1]
            bare = _bare(folder / "bare.jsonl", lines)
            for name in order:
                start = time.perf_counter()
                for event in events:
                    runs[name](event)
                ratios.setdefault(name, []).append(bare / (time.perf_counter() - start))
    finally:
        log.close()
        for appender in appenders.values():
            appender.close()
    return {name: ratios[name] for name in runs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.record_floor", description=__doc__)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--events", type=int, default=400)
    args = parser.parse_args(argv)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{args.events} fsync'd appends per appender per round; rate over the bare loop's:")
    for name, ratios in measure(args.rounds, args.events).items():
        each = " ".join(f"{r:.2f}" for r in ratios)
        print(f"  {name:16s} median {statistics.median(ratios):.2f}   rounds: {each}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
