"""Where the 64 writer processes' time goes: per second of a run, fsyncs and what lies between.

A diagnostic, not a benchmark (``python -m bench.record_trace [--writers 64] [--rounds 8]``).
The same 64 writer processes as ``bench.record`` append to one record in bursts, interleaved
with the same bare write+fsync loop; each writer times every fsync it makes and every append it
finishes (``CLOCK_MONOTONIC``, shared by every process). Printed per second of the run: the
fsyncs, events per fsync, the median fsync latency, and the median gap from one fsync's end to
the next one's start (fsyncs of one record never overlap: they are made under its sync lock),
and per round the bare loop's rate beside the writers' and the log's size, to tell whether the
ratio moves with the writers, the baseline, or the file.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.common import PYTHON, scratch
from bench.record import _bare, _event
from kunren.record.eventlog import EventLog

WRITER = """
import json, os, sys, time
from kunren.record.eventlog import EventLog
from kunren.record.events import Milestone
log = EventLog(sys.argv[1])
name = sys.argv[2]
real_fsync = os.fsync
now = time.monotonic_ns
fsyncs, acks = [], []
stat = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
def delay():  # ns this thread spent runnable but waiting for a core, so far
    return int(os.pread(stat, 100, 0).split()[1])
def timed_fsync(fd):
    waited = delay()
    start = now()
    try:
        real_fsync(fd)
    finally:
        end = now()
        fsyncs.append((start, end, delay() - waited))
os.fsync = timed_fsync
print("ready", flush=True)
for line in sys.stdin:
    if line.strip() == "dump":
        print(json.dumps({"fsyncs": fsyncs, "acks": acks}), flush=True)
        continue
    for n in range(int(line)):
        log.append(Milestone(name="detected", actor=name, role="support",
                             source="participant", note="status page shows red", at=float(n),
                             wall="2026-11-28T14:00:00.000000+09:00"))
        acks.append(now())
    print("done", flush=True)
"""


@dataclass(frozen=True)
class Round:
    bare_rate: float
    many_rate: float
    log_size: int
    started_ns: int


def _run(writers: int, rounds: int, per_writer: int, folder: Path) -> None:
    log = EventLog.create(folder / "drill", "version: 1\n")
    count = writers * per_writer // 4
    lines = [(_event(n).model_dump_json() + "\n").encode() for n in range(count)]
    procs = [
        subprocess.Popen(
            [PYTHON, "-c", WRITER, str(log.drill_dir), f"w{n:02d}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(writers)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            proc.stdout.readline()
        done: list[Round] = []
        for n in range(rounds):
            bare_took = 0.0
            if n % 2 == 0:
                bare_took = _bare(folder / "bare.jsonl", lines)
            started = time.monotonic_ns()
            for proc in procs:
                assert proc.stdin is not None
                proc.stdin.write(f"{per_writer}\n")
                proc.stdin.flush()
            for proc in procs:
                assert proc.stdout is not None
                proc.stdout.readline()
            many_took = (time.monotonic_ns() - started) / 1e9
            if n % 2 == 1:
                bare_took = _bare(folder / "bare.jsonl", lines)
            size = (log.drill_dir / "events.jsonl").stat().st_size
            done.append(
                Round(len(lines) / bare_took, writers * per_writer / many_took, size, started)
            )
        fsyncs: list[tuple[int, int, int]] = []
        acks: list[int] = []
        for proc in procs:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.write("dump\n")
            proc.stdin.flush()
            got = json.loads(proc.stdout.readline())
            fsyncs += [(a, b, c) for a, b, c in got["fsyncs"]]
            acks += got["acks"]
    finally:
        for proc in procs:
            if proc.stdin is not None:
                proc.stdin.close()
        for proc in procs:
            proc.wait(20)
            if proc.stdout is not None:
                proc.stdout.close()
    _report(done, sorted(fsyncs), sorted(acks))


def _report(rounds: list[Round], fsyncs: list[tuple[int, int, int]], acks: list[int]) -> None:
    origin = rounds[0].started_ns
    print("round  bare/s   writers/s  ratio  log bytes")
    for n, r in enumerate(rounds):
        ratio = r.many_rate / r.bare_rate
        print(f"{n:5d}  {r.bare_rate:7,.0f}  {r.many_rate:9,.0f}  {ratio:5.2f}  {r.log_size:,}")
    # Per 250 ms of the writers' own time (bursts only), so the bare loop's seconds drop out.
    slot_ns = 250_000_000
    slots: dict[int, list[tuple[int, int, int]]] = {}
    for start, end, waited in fsyncs:
        slots.setdefault((start - origin) // slot_ns, []).append((start, end, waited))
    acked: dict[int, int] = {}
    for at in acks:
        key = (at - origin) // slot_ns
        acked[key] = acked.get(key, 0) + 1
    print("\n   t(s)  fsyncs  events  ev/fsync  fsync p50 ms  of it queued", end="")
    print("  gap p50 ms  gap p90 ms  busy%")
    previous_end: int | None = None
    for key in sorted(slots):
        group = slots[key]
        latency = [(e - s) / 1e6 for s, e, _ in group]
        queued = [w / 1e6 for _, _, w in group]
        gaps = []
        for start, end, _ in group:
            if previous_end is not None and start >= previous_end:
                gaps.append((start - previous_end) / 1e6)
            previous_end = end
        busy = sum(latency) / (slot_ns / 1e6)
        events = acked.get(key, 0)
        gap50 = statistics.median(gaps) if gaps else 0.0
        gap90 = statistics.quantiles(gaps, n=10)[-1] if len(gaps) > 1 else gap50
        print(
            f"{key * slot_ns / 1e9:7.2f}  {len(group):6d}  {events:6d}  "
            f"{events / len(group):8.1f}  {statistics.median(latency):12.3f}  "
            f"{statistics.median(queued):12.3f}  "
            f"{gap50:10.3f}  {gap90:10.3f}  {busy:5.0%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--writers", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--per-writer", type=int, default=50)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()}")
    with scratch("record-trace-") as folder:
        _run(args.writers, args.rounds, args.per_writer, folder)
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
