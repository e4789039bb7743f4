"""Load: requests/s of a drill-driven Locust stage against raw ``locust --headless``.

kunren does not generate load itself: it drives Locust (a web-API master, a stats extension,
polling every ``stats_every``). The claim is that this costs almost nothing: a drill's stage
reaches at least 95% of the requests/s the same locustfile reaches with plain
``locust --headless`` against the same target, in the same run.

One demo shop serves both. Each round runs raw Locust and a drill whose only stage has the
same users and spawn rate, in ABBA order (raw, drill, drill, raw…) so that noise and drift from
the machine hit both alike. The
rate is the steady state: requests completed from ``warmup`` seconds after the users start to
the end (raw: Locust's own per-second request counts; drill: the ``load.stats`` intervals the
drill recorded).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
from pathlib import Path

from bench.common import (
    PYTHON,
    REPO,
    Child,
    Row,
    at_least,
    free_port,
    http_ok,
    scratch,
    settle,
    wait_for,
)
from kunren.drills.runner import RunSettings, start_drill
from kunren.record.events import LoadStage, LoadStats
from kunren.scenarios.loader import load_scenario

NAME = "load: drill-driven Locust req/s"
LOCUSTFILE = REPO / "bench" / "locustfiles" / "fullspeed.py"
USERS = 40
WARMUP = 3.0
STATS_EVERY = 1.0


def _raw(host: str, seconds: float, folder: Path) -> float:
    report = folder / "raw.json"
    args = [PYTHON, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"]
    args += ["-u", str(USERS), "-r", str(USERS), "-t", f"{seconds:g}s", "--host", host]
    args += ["--only-summary", "--skip-log", "--json-file", str(report.with_suffix(""))]
    done = subprocess.run(args, cwd=folder, capture_output=True, timeout=seconds + 60, check=False)
    if done.returncode not in (0, 1):  # 1: some requests failed; still a rate
        raise RuntimeError(f"raw locust exited {done.returncode}: {done.stderr[-800:]!r}")
    entries = json.loads(report.read_text())
    start = min(e["start_time"] for e in entries)
    per_second: dict[int, int] = {}
    for entry in entries:
        for second, count in entry["num_reqs_per_sec"].items():
            per_second[int(second)] = per_second.get(int(second), 0) + int(count)
    first = int(start + WARMUP) + 1  # whole seconds only, after the warm-up
    last = max(per_second) - 1  # the final second is cut short by the stop
    window = [per_second.get(s, 0) for s in range(first, last + 1)]
    if len(window) < 3:
        raise RuntimeError("raw locust ran too briefly for a steady-state rate")
    return sum(window) / len(window)


def _scenario(host: str, seconds: float) -> str:
    return (
        "version: 1\n"
        "id: load-bench\n"
        "title: Load benchmark\n"
        f"duration: {seconds:g}s\n"
        "load:\n"
        f"  locustfile: {LOCUSTFILE}\n"
        f"  host: {host}\n"
        f"  stats_every: {STATS_EVERY:g}s\n"
        "  stages:\n"
        f"    - {{at: 0s, users: {USERS}, spawn_rate: {USERS}}}\n"
    )


def _drill(host: str, seconds: float, folder: Path) -> tuple[float, int]:
    scenario = folder / "load.yaml"
    scenario.write_text(_scenario(host, seconds), encoding="utf-8")
    loaded = load_scenario(scenario)
    settings = RunSettings(drills_root=folder / "drills", clock_kind="real", speed=1.0)
    log, outcome = asyncio.run(start_drill(loaded, settings))
    if outcome.status != "ended":
        raise RuntimeError(f"the load drill did not end normally: {outcome.reason}")
    events = log.read()
    stage = next(e for e in events if isinstance(e, LoadStage))
    stats = [e for e in events if isinstance(e, LoadStats)]
    # intervals that began after the warm-up and ended before the drill's end (not the stop)
    steady = [
        e for e in stats if e.at - STATS_EVERY >= stage.at + WARMUP - 0.05 and e.at <= seconds
    ]
    if len(steady) < 3:
        raise RuntimeError(f"only {len(steady)} steady load.stats intervals were recorded")
    return statistics.mean(e.rps for e in steady), len(steady)


def run(quick: bool) -> list[Row]:
    seconds = 9.0 if quick else 20.0
    raw_rates: list[float] = []
    drill_rates: list[float] = []
    intervals = [0]
    target = at_least(0.95, "≥ 95%")
    with scratch("load-") as folder:
        port = free_port()
        host = f"http://127.0.0.1:{port}"
        shop = Child(
            [PYTHON, "-m", "kunren.demo.shop", "--port", str(port)], log=folder / "shop.log"
        )

        def one_round(n: int) -> float:
            round_dir = folder / f"round-{n}"
            round_dir.mkdir()
            if n % 2:  # ABBA order: a drift in the machine's load hits both alike
                rate, count = _drill(host, seconds, round_dir)
                raw = _raw(host, seconds, round_dir)
            else:
                raw = _raw(host, seconds, round_dir)
                rate, count = _drill(host, seconds, round_dir)
            raw_rates.append(raw)
            drill_rates.append(rate)
            intervals[0] += count
            return rate / raw

        try:
            wait_for(lambda: http_ok(f"{host}/health"), 30, "the demo shop")
            result = settle(
                one_round,
                target,
                min_rounds=2 if quick else 3,
                max_rounds=2 if quick else 8,
                max_seconds=60 if quick else 360,
            )
        finally:
            shop.stop()
    raw, drill = statistics.mean(raw_rates), statistics.mean(drill_rates)
    return [
        Row(
            NAME,
            f"{drill:,.0f} req/s",
            f"{raw:,.0f} req/s",
            result.ratio,
            f"{result.ratio:.0%}",
            target,
            [
                f"{len(raw_rates)} round(s), ABBA order, of {seconds:g} s, {USERS} users with "
                f"no think time, steady state after {WARMUP:g} s; per round raw "
                + ", ".join(f"{r:,.0f}" for r in raw_rates)
                + " vs drill "
                + ", ".join(f"{r:,.0f}" for r in drill_rates)
                + f" req/s ({intervals[0]} load.stats intervals)",
                result.describe(lambda r: f"{r:.0%}"),
            ],
            settled=result.settled,
            load=result.load,
        )
    ]
