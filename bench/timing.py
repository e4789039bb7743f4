"""Timing: how late a drill's scheduled steps fire while Locust drives the demo shop flat out.

A drill is only as good as its clock: an inject meant for 12:00 must not land at 12:03 because
the machine is busy generating load. The drill here is a real one on the real clock: the conductor
starts the demo shop as a service, Locust (``bench/locustfiles/fullspeed.py``, users that never
wait) saturates it, an HTTP probe checks the shop every second, and an inject is scheduled every
``interval`` seconds. Lateness of a step is the drill clock at the moment the conductor fires it
minus its scheduled time (and, as a detail, at the moment its event is on disk).

The baseline is a bare asyncio sleep loop in its own process, run during the same seconds on
the same loaded machine, waking half an interval out of phase with the drill so the two do not
compete for the same instant. Target: the drill's p99 lateness within 1.5× the bare loop's.
Each round is one such drill with its own bare loop; rounds repeat until their ratios settle
(``bench.common.settle``), and the table shows the median round's ratio.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from pathlib import Path

from bench.common import (
    PYTHON,
    REPO,
    Child,
    Row,
    at_most,
    free_port,
    percentile,
    scratch,
    settle,
    summary_ms,
)
from kunren.drills.conductor import Conductor, ConductorOptions, Observer
from kunren.drills.schedule import InjectStep, Step
from kunren.record.events import DrillStarted, Event, Inject, LoadStats
from kunren.record.folders import create_drill
from kunren.runtime.clock import RealClock
from kunren.scenarios.loader import LoadedScenario, load_scenario

NAME = "timing: step lateness p99 under load"
LOCUSTFILE = REPO / "bench" / "locustfiles" / "fullspeed.py"
USERS = 40

BARE_LOOP = """
import asyncio, json, sys, time
first, interval, count = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
async def main():
    late = []
    for i in range(count):
        target = first + i * interval
        delay = target - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        late.append(time.monotonic() - target)
    print(json.dumps(late))
asyncio.run(main())
"""


class TimedConductor(Conductor):
    """The real conductor, noting the drill clock each time it fires a step."""

    fired: list[tuple[Step, float]]

    async def _fire(self, step: Step) -> None:
        self.fired.append((step, self.clock.now()))
        await super()._fire(step)


def scenario_text(port: int, duration: float, warmup: float, interval: float) -> str:
    steps = int((duration - warmup - 1.0) / interval)
    lines = [
        "version: 1",
        "id: timing-bench",
        "title: Timing benchmark",
        f"duration: {duration:g}s",
        "services:",
        f'  shop: {{command: [python, -m, kunren.demo.shop, --port, "{port}"], '
        f"ready: http://127.0.0.1:{port}/health}}",
        "load:",
        f"  locustfile: {LOCUSTFILE}",
        f"  host: http://127.0.0.1:{port}",
        "  stats_every: 2s",
        "  stages:",
        f"    - {{at: 0s, users: {USERS}, spawn_rate: {USERS}}}",
        "probes:",
        f"  - {{id: shop, every: 1s, http: {{url: http://127.0.0.1:{port}/health, "
        "expect_status: 200, timeout: 2s}}",
        "injects:",
    ]
    for n in range(steps):
        at = warmup + n * interval
        lines.append(f'  - {{at: {at:.3f}s, kind: announcement, text: "step {n}"}}')
    return "\n".join(lines) + "\n"


class _Rounds:
    """What every round measured, pooled for the details under the table."""

    def __init__(self) -> None:
        self.fired: list[float] = []
        self.bare: list[float] = []
        self.recorded: list[float] = []
        self.on_probe: list[float] = []
        self.off_probe: list[float] = []
        self.rps: list[float] = []
        self.stats = 0


def run(quick: bool) -> list[Row]:
    duration, warmup, interval = (12.0, 3.0, 0.2) if quick else (30.0, 5.0, 0.2)
    pooled = _Rounds()
    target = at_most(1.5, "≤ 1.5×")
    result = settle(
        lambda n: _round(duration, warmup, interval, pooled),
        target,
        min_rounds=2 if quick else 3,
        max_rounds=2 if quick else 8,
        max_seconds=30 if quick else 330,
    )
    drill_p99, bare_p99 = _p99(pooled.fired), _p99(pooled.bare)
    return [
        Row(
            NAME,
            f"{drill_p99 * 1000:.2f} ms",
            f"{bare_p99 * 1000:.2f} ms",
            result.ratio,
            f"{result.ratio:.2f}×",
            target,
            [
                f"all rounds pooled: drill steps fired: {summary_ms(pooled.fired)}",
                f"bare asyncio loop: {summary_ms(pooled.bare)}",
                f"drill steps as recorded (the event's at): {summary_ms(pooled.recorded)}",
                f"drill steps due with a probe check: {summary_ms(pooled.on_probe)}; "
                f"the others: {summary_ms(pooled.off_probe)}",
                f"meanwhile Locust ({USERS} users, no think time) drove the shop at "
                f"{statistics.mean(pooled.rps):,.0f} req/s on average ({pooled.stats} "
                f"load.stats intervals); one step every {interval * 1000:.0f} ms for "
                f"{duration - warmup - 1:g} s per round",
                result.describe(lambda r: f"{r:.2f}×"),
            ],
            settled=result.settled,
            load=result.load,
        )
    ]


def _round(duration: float, warmup: float, interval: float, pooled: _Rounds) -> float:
    """One drill with its bare loop beside it: the ratio of their p99 lateness."""
    with scratch("timing-") as folder:
        port = free_port()
        scenario = folder / "timing.yaml"
        scenario.write_text(scenario_text(port, duration, warmup, interval), encoding="utf-8")
        loaded = load_scenario(scenario)
        count = len(loaded.scenario.injects)
        bare: list[Child] = []

        def start_bare_loop(event: Event, conductor: Conductor) -> None:
            # Drill time 0 is set once services and load are ready (the clock is re-zeroed
            # then), so the baseline's schedule is fixed from the drill.started event.
            if isinstance(event, DrillStarted) and not bare:
                zero = time.monotonic() - conductor.clock.now()
                first = zero + warmup + interval / 2
                args = [PYTHON, "-c", BARE_LOOP, repr(first), repr(interval), str(count)]
                bare.append(Child(args, log=folder / "bare.json"))

        try:
            conductor, events = _run_drill(loaded, folder, start_bare_loop)
            if not bare:
                raise RuntimeError("the drill never started")
            bare[0].wait(timeout=duration + 30)
        finally:
            for child in bare:
                child.stop()
        bare_late = json.loads((folder / "bare.json").read_text())
    steps = [(s.at, at - s.at) for s, at in conductor.fired if isinstance(s, InjectStep)]
    fired = [late for _, late in steps]
    # the probe checks every whole second: which steps were due at the same instant as a check
    on_probe = [late for at, late in steps if abs(at - round(at)) < 1e-6]
    off_probe = [late for at, late in steps if abs(at - round(at)) >= 1e-6]
    planned = {f"step {n}": loaded.scenario.injects[n].at for n in range(count)}
    recorded = [e.at - planned[e.text] for e in events if isinstance(e, Inject)]
    stats = [e for e in events if isinstance(e, LoadStats) and e.rps > 0]
    if len(fired) != count or len(recorded) != count:
        raise RuntimeError(f"{len(fired)} of {count} steps fired, {len(recorded)} recorded")
    if not stats:
        raise RuntimeError("Locust generated no load during the drill")
    pooled.fired += fired
    pooled.bare += bare_late
    pooled.recorded += recorded
    pooled.on_probe += on_probe
    pooled.off_probe += off_probe
    pooled.rps.append(statistics.mean(e.rps for e in stats))
    pooled.stats += len(stats)
    return _p99(fired) / _p99(bare_late)


def _p99(values: list[float]) -> float:
    return percentile(values, 0.99)


def _run_drill(
    loaded: LoadedScenario, folder: Path, observer: Observer
) -> tuple[TimedConductor, list[Event]]:
    clock = RealClock()
    log = create_drill(loaded, folder / "drills", clock.wall())
    options = ConductorOptions(drill_id=log.drill_dir.name, clock_kind="real", speed=1.0)
    conductor = TimedConductor(loaded, log, clock, options, observer)
    conductor.fired = []
    outcome = asyncio.run(conductor.run())
    if outcome.status != "ended":
        raise RuntimeError(f"the timing drill did not end normally: {outcome.reason}")
    return conductor, log.read()
