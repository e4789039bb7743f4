"""Record: fsync'd ``EventLog.append`` per second against a bare write+fsync loop.

Two claims. First, the record's guarantees (an exclusive file lock, reading the tail for the
next ``seq``, an fsync before the append returns) cost little beside the fsync any durable log
pays: one writer reaches at least 80% of a loop that holds one file open and only writes and
fsyncs the same bytes. Second, many writers at once (a company-wide drill with hundreds of people
marking) get faster, not slower: appends waiting on the lock share one fsync (group commit), so
64 writers appending to one record reach at least 3× the single bare loop's events/s. Two
concurrent rows: 64 threads sharing one ``EventLog`` in one process (the participant page
server's case: one process taking marks from hundreds of people) and 64 writer processes (the
conductor, the page and ``kunren mark`` are separate processes). Each prints its events per
fsync, and the same writers' rate with fsync made a no-op (the CPU ceiling: a rate near it is
bound by the CPU, not the disk).

Rounds interleave (baseline, subject, subject, baseline, …) in the same folder until the ratio
settles (``bench.common.settle``), so a noisy neighbour hurts both alike and noise is reported
as noise.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bench.common import PYTHON, Row, Settled, at_least, scratch, settle
from kunren.record.eventlog import EventLog
from kunren.record.events import Milestone

if TYPE_CHECKING:
    from _typeshed import HasFileno

NAME = "record: EventLog appends/s"
NAME_MANY = "record: 64 writer processes, group commit"
NAME_THREADS = "record: 64 writer threads in one process (the page server's case)"
WRITERS = 64

# One writer process: appends ``count`` events each time it reads ``count`` on stdin.
# "COUNT nofsync" appends with fsync made a no-op (the CPU ceiling). It answers with the fsyncs
# its log made so far.
WRITER = """
import os, sys
from kunren.record.eventlog import EventLog
from kunren.record.events import Milestone
log = EventLog(sys.argv[1])
name = sys.argv[2]
real_fsync = os.fsync
print("ready", flush=True)
for line in sys.stdin:
    count, *how = line.split()
    os.fsync = (lambda fd: None) if how == ["nofsync"] else real_fsync
    for n in range(int(count)):
        log.append(Milestone(name="detected", actor=name, role="support",
                             source="participant", note="status page shows red", at=float(n),
                             wall="2026-11-28T14:00:00.000000+09:00"))
    print(f"done {log.fsyncs}", flush=True)
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
    per_round = 100 if quick else 1600
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


class _Processes:
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
        self._fsyncs = [0] * WRITERS
        for proc in self.procs:
            self._expect(proc, "ready")

    @staticmethod
    def _expect(proc: subprocess.Popen[str], word: str) -> str:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if line.split(" ")[0] != word:
            raise RuntimeError(f"a writer said {line!r} instead of {word!r} (exit {proc.poll()})")
        return line

    def burst(self, count: int, *, nofsync: bool = False) -> float:
        start = time.perf_counter()
        for proc in self.procs:
            assert proc.stdin is not None
            proc.stdin.write(f"{count} nofsync\n" if nofsync else f"{count}\n")
            proc.stdin.flush()
        for n, proc in enumerate(self.procs):
            self._fsyncs[n] = int(self._expect(proc, "done").split()[1])
        return time.perf_counter() - start

    def fsyncs(self) -> int:
        return sum(self._fsyncs)

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


class _Threads:
    """``WRITERS`` threads sharing one ``EventLog``, kept alive across rounds."""

    def __init__(self, drill: Path) -> None:
        self.log = EventLog(drill)
        self._count = 0
        self._stopping = False
        self._errors: list[BaseException] = []
        self._go = threading.Barrier(WRITERS + 1)
        self._done = threading.Barrier(WRITERS + 1)
        self._threads = [
            threading.Thread(target=self._write, args=(n,), daemon=True) for n in range(WRITERS)
        ]
        for thread in self._threads:
            thread.start()

    def _write(self, n: int) -> None:
        while True:
            self._go.wait(timeout=300)
            if self._stopping:
                return
            try:
                for _ in range(self._count):
                    self.log.append(_event(n))
            except BaseException as exc:  # reported by burst(), after the barrier
                self._errors.append(exc)
            self._done.wait(timeout=300)

    def burst(self, count: int, *, nofsync: bool = False) -> float:
        self._count = count
        real_fsync = os.fsync
        if nofsync:
            os.fsync = _no_fsync
        try:
            start = time.perf_counter()
            self._go.wait(timeout=120)
            self._done.wait(timeout=120)
            took = time.perf_counter() - start
        finally:
            os.fsync = real_fsync
        if self._errors:
            raise RuntimeError(f"a writer thread failed: {self._errors[0]!r}")
        return took

    def fsyncs(self) -> int:
        return self.log.fsyncs

    def stop(self) -> None:
        self._stopping = True
        with contextlib.suppress(threading.BrokenBarrierError):
            self._go.wait(timeout=10)
        for thread in self._threads:
            thread.join(timeout=10)
        self.log.close()


def _no_fsync(fd: int | HasFileno) -> None:
    """fsync made a no-op, for the CPU ceiling only."""


class _Writers(Protocol):
    def burst(self, count: int, *, nofsync: bool = False) -> float: ...
    def fsyncs(self) -> int: ...
    def stop(self) -> None: ...


@dataclass(frozen=True)
class _Concurrent:
    """What one concurrent row measured."""

    result: Settled
    events: int
    bare_rate: float
    rate: float
    per_fsync: float
    ceiling: float  # events/s of the same writers with fsync a no-op


def _concurrent(
    quick: bool, folder: Path, name: str, start: Callable[[Path], _Writers]
) -> _Concurrent:
    per_writer = 15 if quick else 50
    total = WRITERS * per_writer
    lines = [(_event(n).model_dump_json() + "\n").encode() for n in range(total // 4)]
    log = EventLog.create(folder / name, "version: 1\n")
    writers = start(log.drill_dir)
    sums = {"bare": 0.0, "many": 0.0, "bare_n": 0.0}
    try:

        def one_round(n: int) -> float:
            order = ("bare", "many") if n % 2 == 0 else ("many", "bare")
            rate = {}
            for which in order:
                if which == "bare":
                    took = _bare(folder / f"bare-{name}.jsonl", lines)
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
        fsyncs = writers.fsyncs()
        ceiling = total / writers.burst(per_writer, nofsync=True)
    finally:
        writers.stop()
    events = log.read()  # also checks seq strictly increases and no line is torn
    log.close()
    acknowledged = total * (len(result.ratios) + 1)
    if len(events) != acknowledged:
        raise RuntimeError(f"the log holds {len(events)} events, {acknowledged} were acknowledged")
    measured = total * len(result.ratios)
    return _Concurrent(
        result,
        acknowledged,
        sums["bare_n"] / sums["bare"],
        measured / sums["many"],
        measured / fsyncs if fsyncs else float("inf"),
        ceiling,
    )


def _concurrent_row(name: str, what: str, c: _Concurrent) -> Row:
    return Row(
        name,
        f"{c.rate:,.0f}/s",
        f"{c.bare_rate:,.0f}/s (1 bare loop)",
        c.result.ratio,
        f"{c.result.ratio:.2f}×",
        at_least(3.0, "≥ 3×"),
        [
            f"{what} appending to one record at once, {c.events:,} events acknowledged (each "
            "only once on disk), all in the record, seq strictly increasing",
            f"{c.per_fsync:.1f} events per fsync; with fsync a no-op the same writers reach "
            f"{c.ceiling:,.0f}/s ({c.ceiling / c.bare_rate:.2f}× the bare loop: the CPU ceiling)",
            c.result.describe(lambda r: f"{r:.2f}×"),
        ],
        settled=c.result.settled,
        load=c.result.load,
    )


def run(quick: bool) -> list[Row]:
    with scratch("record-") as folder:
        single, n, bare_s, log_s = _single(quick, folder)
        threads = _concurrent(quick, folder, "threads", _Threads)
        procs = _concurrent(quick, folder, "processes", _Processes)
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
        _concurrent_row(NAME_THREADS, f"{WRITERS} threads sharing one EventLog", threads),
        _concurrent_row(NAME_MANY, f"{WRITERS} writer processes", procs),
    ]
