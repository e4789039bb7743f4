"""Rehearsal: a 60-minute drill with simulated participants on the virtual clock, in wall time.

A team rehearses a scenario (or forecasts it) without waiting an hour: the virtual clock jumps to
the next step as soon as everything waits on it. The baseline is the hour itself; the target is
at least 3600× faster (under a second). The drill is a full one: 16 simulated people reaching
milestones, injects including "person unavailable", reversible faults that write and remove real
files, probes that look at those files every 15 s, and load stages recorded as planned, every
event fsync'd. Measured twice: the drill in-process (what ``run_virtual`` and a rehearsal cost),
and the whole ``kunren run --clock virtual`` command (interpreter start-up and imports included).

A third row is a long watch: 24 hours of one probe checked every second (86,400 checks, one
fault in the middle, 8 events), in-process. There every check is a step of the clock and
nearly every check finds nothing new, so its cost per check is the probe loop's and the
clock's own overhead; the floor beside it is the bare clock stepping as often.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import time
from pathlib import Path

from bench.common import KUNREN, Row, at_least, fmt_ratio, scratch
from kunren.drills.runner import RunSettings, start_drill
from kunren.record.eventlog import EventLog
from kunren.scenarios.loader import load_scenario

NAME = "rehearsal: 60-min drill, virtual clock"
HOUR = 3600.0
DAY = 86_400.0
DAY_SCENARIO = """\
version: 1
id: probe-day
title: A day of probe checks, one every second
duration: 24h
faults:
  - {id: marker, at: 6h, kind: testing.marker, path: marker.flag, for: 1h}
probes:
  - {id: watch, every: 1s, testing.file: {path: marker.flag}}
"""
DAY_CHECKS = 86_400  # at 0.5 s, 1.5 s, … 86,399.5 s (checks run half a period after the grid)
ROLES = ("sre", "support", "engineer", "commander")
MILESTONES = {
    "sre": ("detected", "acknowledged", "triaged", "mitigated", "resolved"),
    "support": ("detected", "customer_notified"),
    "engineer": ("escalated", "triaged", "mitigated"),
    "commander": ("acknowledged", "resolved"),
}


def scenario_text(people: int = 16, seed: int = 5) -> str:
    """A 60-minute scenario whose every kind of step runs without touching a real system."""
    rng = random.Random(seed)
    lines = [
        "version: 1",
        "id: rehearsal-bench",
        "title: Rehearsal benchmark (60 minutes)",
        "duration: 60m",
        "roles:",
        *(f"  {role}: {{}}" for role in ROLES),
        "faults:",
    ]
    for n in range(8):
        start = 3 + n * 6
        lines.append(
            f"  - {{id: marker-{n}, at: {start}m, kind: testing.marker, "
            f"path: marker-{n}.flag, for: {rng.randint(2, 8)}m}}"
        )
    lines.append("probes:")
    for n in range(4):
        lines.append(
            f"  - {{id: watch-{n}, every: 15s, testing.file: {{path: marker-{n * 2}.flag}}}}"
        )
    lines += [
        "load:",
        "  urls: [/]",
        "  host: http://127.0.0.1:9",
        "  stages:",
        "    - {at: 0m, users: 10, spawn_rate: 5}",
        "    - {at: 20m, users: 200, spawn_rate: 50}",
        "    - {at: 40m, users: 10, spawn_rate: 20}",
        "injects:",
    ]
    for n in range(12):
        lines.append(f'  - {{at: {2 + n * 4}m, kind: announcement, text: "update {n}"}}')
    lines.append("  - {at: 10m, kind: unavailable, who: person-1, for: 20m}")
    lines.append('  - {at: 5m, kind: inquiry, text: "a customer calls", to: support}')
    lines += [
        "objectives:",
        "  detected: {within: 5m}",
        "  customer_notified: {within: 20m, by: support}",
        "  resolved: {within: 45m}",
        "simulate:",
        f"  seed: {seed}",
        "  people:",
    ]
    for n in range(people):
        role = ROLES[n % len(ROLES)]
        marks = []
        for index, milestone in enumerate(MILESTONES[role]):
            lo = 2 + index * 10 + rng.randint(0, 4)
            marks.append(f"{milestone}: {lo}m-{lo + rng.randint(1, 6)}m")
        lines.append(f"    - {{role: {role}, person: person-{n}, {', '.join(marks)}}}")
    return "\n".join(lines) + "\n"


def _in_process(scenario: Path, drills: Path) -> tuple[float, int]:
    loaded = load_scenario(scenario)
    settings = RunSettings(drills_root=drills, clock_kind="virtual")
    start = time.perf_counter()
    log, outcome = asyncio.run(start_drill(loaded, settings))
    elapsed = time.perf_counter() - start
    events = log.read()
    if outcome.status != "ended" or events[-1].at < HOUR:
        raise RuntimeError(f"the rehearsal did not run to its end: {outcome}")
    return elapsed, len(events)


def _command(scenario: Path, drills: Path) -> float:
    args = [*KUNREN, "run", str(scenario), "--clock", "virtual", "--drills", str(drills)]
    args += ["--no-report", "-q"]
    start = time.perf_counter()
    done = subprocess.run(args, cwd=scenario.parent, capture_output=True, timeout=120, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"kunren run --clock virtual exited {done.returncode}: {done.stderr!r}")
    return elapsed


def _probe_day(scenario: Path, drills: Path) -> float:
    loaded = load_scenario(scenario)
    settings = RunSettings(drills_root=drills, clock_kind="virtual")
    start = time.perf_counter()
    log, outcome = asyncio.run(start_drill(loaded, settings))
    elapsed = time.perf_counter() - start
    kinds = [event.type for event in log.read()]
    if outcome.status != "ended" or kinds.count("probe.failed") != 1:
        raise RuntimeError(f"the day of probe checks did not run as planned: {kinds}")
    return elapsed


def _clock_floor(steps: int) -> float:
    """Seconds for a bare VirtualClock to wake one sleeper at ``steps`` deadlines."""
    from kunren.runtime.clock import VirtualClock

    async def main() -> float:
        clock = VirtualClock()
        start = time.perf_counter()
        for step in range(steps):
            await clock.sleep_until(step + 0.5)
        return time.perf_counter() - start

    return asyncio.run(main())


def _fsync_floor(folder: Path, count: int) -> float:
    """Seconds to append ``count`` small events to a fresh EventLog: the record's own cost."""
    from kunren.record.events import Note

    log = EventLog.create(folder / "floor", "version: 1\n")
    start = time.perf_counter()
    for n in range(count):
        log.append(Note(text=f"note {n}", at=float(n), wall="2026-11-28T14:00:00+09:00"))
    return time.perf_counter() - start


def run(quick: bool) -> list[Row]:
    repeats = 3 if quick else 7
    with scratch("rehearsal-") as folder:
        scenario = folder / "rehearsal.yaml"
        scenario.write_text(scenario_text(), encoding="utf-8")
        results = [_in_process(scenario, folder / "drills") for _ in range(repeats)]
        commands = [_command(scenario, folder / "cli-drills") for _ in range(1 if quick else 3)]
        events = results[0][1]
        floor = _fsync_floor(folder, events)
        day = folder / "probe-day.yaml"
        day.write_text(DAY_SCENARIO, encoding="utf-8")
        days = sorted(_probe_day(day, folder / "day-drills") for _ in range(1 if quick else 3))
        clock_floor = _clock_floor(DAY_CHECKS)
    best = sorted(r[0] for r in results)[len(results) // 2]  # the median run
    command = sorted(commands)[len(commands) // 2]
    ratio, command_ratio = HOUR / best, HOUR / command
    day_wall = days[len(days) // 2]
    return [
        Row(
            NAME,
            f"{best:.3f} s",
            "3600 s",
            ratio,
            fmt_ratio(ratio),
            at_least(3600, "≥ 3600×"),
            [
                f"median of {repeats} in-process runs; {events} events recorded (each fsync'd); "
                f"appending {events} events alone takes {floor:.3f} s on this disk"
            ],
        ),
        Row(
            "rehearsal: same, `kunren run --clock virtual`",
            f"{command:.2f} s",
            "3600 s",
            command_ratio,
            fmt_ratio(command_ratio),
            None,
            [
                "whole command incl. interpreter start-up, imports and plugin loading "
                f"(median of {len(commands)})"
            ],
        ),
        Row(
            "rehearsal: 24-h drill, a probe every second",
            f"{day_wall:.2f} s ({day_wall / DAY_CHECKS * 1e6:.1f} µs per check)",
            "86400 s",
            DAY / day_wall,
            fmt_ratio(DAY / day_wall),
            None,
            [
                f"{DAY_CHECKS:,} probe checks, 8 events, in-process (median of {len(days)}); "
                f"the bare virtual clock stepping {DAY_CHECKS:,} times: {clock_floor:.2f} s "
                f"({clock_floor / DAY_CHECKS * 1e6:.1f} µs per step)"
            ],
        ),
    ]
