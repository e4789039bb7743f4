"""Record: fsync'd ``EventLog.append`` per second against a bare write+fsync loop.

Two claims. First, the record's guarantees (an exclusive file lock, reading the tail for the
next ``seq``, an fsync before the append returns) cost little beside the fsync any durable log
pays: one writer reaches at least 80% of a loop that holds one file open and only writes and
fsyncs the same bytes. Second, many writers at once (a company-wide drill with hundreds of people
marking) get faster, not slower: appends waiting on the lock share one fsync (group commit), so
64 writer processes appending to one record reach at least 3× the single bare loop's events/s.

Rounds interleave (baseline, subject, subject, baseline, …) in the same folder until the ratio
settles (``bench.common.settle``), so a noisy neighbour hurts both alike and noise is reported
as noise.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from bench.common import PYTHON, Row, Settled, at_least, scratch, settle
from kunren.record.eventlog import EventLog
from kunren.record.events import Milestone

NAME = "record: EventLog appends/s"
NAME_MANY = "record: 64 writers, group commit"
WRITERS = 64

# One writer process: appends ``count`` events each time it reads ``count`` on stdin.
WRITER = """
import sys
from kunren.record.eventlog import EventLog
from kunren.record.events import Milestone
log = EventLog(sys.argv[1])
name = sys.argv[2]
print("ready", flush=True)
for line in sys.stdin:
    count = int(line)
    for n in range(count):
        log.append(Milestone(name="detected", actor=name, role="support",
                             source="participant", note="status page shows red", at=float(n),
                             wall="2026-11-28T14:00:00.000000+09:00"))
    print("done", flush=True)
"""


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


def _single(quick: bool, folder: Path) -> tuple[Settled, int, float, float]:
    per_round = 100 if quick else 400
    events = [_event(n) for n in range(per_round)]
    lines = [(e.model_dump_json() + "\n").encode() for e in events]
    log = EventLog.create(folder / "drill", "version: 1\n")
    totals = {"bare": 0.0, "log": 0.0}

    def one_round(n: int) -> float:
        order = ("bare", "log") if n % 2 == 0 else ("log", "bare")
        took = {}
        for which in order:
            if which == "bare":
                took[which] = _bare(folder / "bare.jsonl", lines)
            else:
                took[which] = _eventlog(log, events)
            totals[which] += took[which]
        return took["bare"] / took["log"]  # the rates' ratio: log/s over bare/s

    target = at_least(0.80, "≥ 80%")
    result = settle(
        one_round,
        target,
        min_rounds=3,
        max_rounds=6 if quick else 16,
        max_seconds=30 if quick else 120,
    )
    written = len(log.read())
    log.close()
    n = len(result.ratios) * per_round
    if written != n:
        raise RuntimeError(f"the log holds {written} events, {n} were appended")
    return result, n, totals["bare"], totals["log"]


class _Writers:
    """``WRITERS`` processes kept alive across rounds, each told how many events to append."""

    def __init__(self, drill: Path) -> None:
        self.procs = [
            subprocess.Popen(
                [PYTHON, "-c", WRITER, str(drill), f"writer-{n:02d}"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
            for n in range(WRITERS)
        ]
        for proc in self.procs:
            self._expect(proc, "ready")

    @staticmethod
    def _expect(proc: subprocess.Popen[str], word: str) -> None:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if line != word:
            raise RuntimeError(f"a writer said {line!r} instead of {word!r} (exit {proc.poll()})")

    def burst(self, count: int) -> float:
        start = time.perf_counter()
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write(f"{count}\n")
            proc.stdin.flush()
        for proc in self.procs:
            self._expect(proc, "done")
        return time.perf_counter() - start

    def stop(self) -> None:
        for proc in self.procs:
            if proc.stdin is not None:
                proc.stdin.close()
        deadline = time.monotonic() + 20
        for proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            if proc.stdout is not None:
                proc.stdout.close()


def _many(quick: bool, folder: Path) -> tuple[Settled, int, float, float, float]:
    per_writer = 15 if quick else 50
    total = WRITERS * per_writer
    lines = [(_event(n).model_dump_json() + "\n").encode() for n in range(total // 4)]
    log = EventLog.create(folder / "many", "version: 1\n")
    writers = _Writers(log.drill_dir)
    sums = {"bare": 0.0, "many": 0.0, "bare_n": 0.0}
    try:

        def one_round(n: int) -> float:
            order = ("bare", "many") if n % 2 == 0 else ("many", "bare")
            rate = {}
            for which in order:
                if which == "bare":
                    took = _bare(folder / "bare-many.jsonl", lines)
                    rate[which] = len(lines) / took
                    sums["bare"] += took
                    sums["bare_n"] += len(lines)
                else:
                    took = writers.burst(per_writer)
                    rate[which] = total / took
                    sums["many"] += took
            return rate["many"] / rate["bare"]

        result = settle(
            one_round,
            at_least(3.0, "≥ 3×"),
            min_rounds=3,
            max_rounds=5 if quick else 12,
            max_seconds=40 if quick else 150,
        )
    finally:
        writers.stop()
    events = log.read()  # also checks seq strictly increases and no line is torn
    log.close()
    if len(events) != total * len(result.ratios):
        raise RuntimeError(
            f"the log holds {len(events)} events, {total * len(result.ratios)} were acknowledged"
        )
    fsyncs = _fsync_estimate(sums["many"], len(events))
    return result, len(events), sums["bare_n"] / sums["bare"], len(events) / sums["many"], fsyncs


def _fsync_estimate(seconds: float, events: int) -> float:
    return events / seconds if seconds else 0.0


def run(quick: bool) -> list[Row]:
    with scratch("record-") as folder:
        single, n, bare_s, log_s = _single(quick, folder)
        many, m, bare_rate, many_rate, _ = _many(quick, folder)
    bare_rate_1, log_rate_1 = n / bare_s, n / log_s
    return [
        Row(
            NAME,
            f"{log_rate_1:,.0f}/s",
            f"{bare_rate_1:,.0f}/s",
            single.ratio,
            f"{single.ratio:.0%}",
            at_least(0.80, "≥ 80%"),
            [
                f"{n} appends each; fsync'd append: EventLog {log_s / n * 1000:.2f} ms, "
                f"bare write+fsync {bare_s / n * 1000:.2f} ms",
                single.describe(lambda r: f"{r:.0%}"),
            ],
            settled=single.settled,
            load=single.load,
        ),
        Row(
            NAME_MANY,
            f"{many_rate:,.0f}/s",
            f"{bare_rate:,.0f}/s (1 bare loop)",
            many.ratio,
            f"{many.ratio:.2f}×",
            at_least(3.0, "≥ 3×"),
            [
                f"{WRITERS} writer processes appending to one record at once, {m:,} events "
                "acknowledged (each only once on disk), all in the record, seq strictly "
                "increasing",
                many.describe(lambda r: f"{r:.2f}×"),
            ],
            settled=many.settled,
            load=many.load,
        ),
    ]
