"""Record: fsync'd ``EventLog.append`` per second against a bare write+fsync loop.

The claim is that the record's guarantees (an exclusive file lock, reading the tail for the next
``seq``, one fsync per event) cost little beside the fsync any durable log pays. The baseline
holds one file open and only writes and fsyncs the same bytes. Both run in alternating rounds in
the same folder, so a noisy neighbour hurts both alike. Target: at least 80% of the baseline.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench.common import Row, at_least, scratch
from kunren.record.eventlog import EventLog
from kunren.record.events import Milestone

NAME = "record: EventLog appends/s"


def _event(n: int) -> Milestone:
    return Milestone(
        name="detected",
        actor=f"participant-{n:04d}",
        role="support",
        source="participant",
        note="status page shows red",
        at=float(n),
        wall="2026-11-28T14:00:00.000000+09:00",
    )


def _bare(path: Path, lines: list[bytes]) -> float:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        start = time.perf_counter()
        for line in lines:
            os.write(fd, line)
            os.fsync(fd)
        return time.perf_counter() - start
    finally:
        os.close(fd)


def _eventlog(log: EventLog, events: list[Milestone]) -> float:
    start = time.perf_counter()
    for event in events:
        log.append(event)
    return time.perf_counter() - start


def run(quick: bool) -> list[Row]:
    rounds, per_round = (4, 100) if quick else (6, 400)
    events = [_event(n) for n in range(per_round)]
    lines = [(e.model_dump_json() + "\n").encode() for e in events]
    bare_s = log_s = 0.0
    with scratch("record-") as folder:
        log = EventLog.create(folder / "drill", "version: 1\n")
        for _ in range(rounds):
            bare_s += _bare(folder / "bare.jsonl", lines)
            log_s += _eventlog(log, events)
        written = len(log.read())
    n = rounds * per_round
    if written != n:
        raise RuntimeError(f"the log holds {written} events, {n} were appended")
    bare_rate, log_rate = n / bare_s, n / log_s
    ratio = log_rate / bare_rate
    return [
        Row(
            NAME,
            f"{log_rate:,.0f}/s",
            f"{bare_rate:,.0f}/s",
            ratio,
            f"{ratio:.0%}",
            at_least(0.80, "≥ 80%"),
            [
                f"{n} appends each, {rounds} alternating rounds; "
                f"fsync per event: EventLog {log_s / n * 1000:.2f} ms, "
                f"bare write+fsync {bare_s / n * 1000:.2f} ms"
            ],
        )
    ]
