"""``python -m bench [--quick] [--only NAME…] [--json FILE]``: run the benchmarks, print one table.

Each benchmark runs in turn (they would disturb each other's timings if run together), under a
time limit; one that fails or overruns shows as ``error`` with the reason and the others still
run. The exit code is 0 when every row passed or is informational, 1 when a row missed its
target or could not run, 3 when nothing missed but some ratio stayed unsettled (the machine's
noise was wider than the ratio's distance from its target, so neither pass nor miss is true).
SIGTERM or SIGHUP (a closed terminal) stops the run: every process a benchmark started is
stopped and its scratch folder removed, and the exit code is 128 + the signal's number.
"""

from __future__ import annotations

import argparse
import importlib
import json
import signal
import sys
import time
import traceback
from dataclasses import asdict
from types import FrameType

from bench.common import Row, error_row, load_average, machine, render_table

# name -> module; each module has ``run(quick: bool) -> list[Row]``
BENCHMARKS = {
    "record": "bench.record",
    "startup": "bench.startup",
    "rehearsal": "bench.rehearsal",
    "history": "bench.history",
    "series": "bench.series",
    "timing": "bench.timing",
    "load": "bench.load",
    "page": "bench.page",
    "campaign": "bench.campaign",
    "hangup": "bench.hangup",
}
LIMIT = {True: 180, False: 900}  # seconds per benchmark, quick / full


class Overrun(Exception):
    pass


class Stopped(BaseException):
    """SIGTERM or SIGHUP: unwind through every ``finally``, so what the benchmarks started
    (a shop, Locust, writer processes, each in its own session) is stopped with them."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Overrun("time limit reached")


def _stop(signum: int, frame: FrameType | None) -> None:
    for each in (signal.SIGTERM, signal.SIGHUP):  # the cleanup itself is not interrupted
        signal.signal(each, signal.SIG_IGN)
    raise Stopped(signum)


def run_one(name: str, quick: bool) -> tuple[list[Row], float]:
    start = time.perf_counter()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(LIMIT[quick])
    try:
        module = importlib.import_module(BENCHMARKS[name])
        rows: list[Row] = module.run(quick)
    except Exception as exc:  # a benchmark that breaks must not hide the others' numbers
        detail = "".join(traceback.format_exception_only(exc)).strip()
        print(traceback.format_exc(), file=sys.stderr)
        rows = [error_row(name, detail)]
    finally:
        signal.alarm(0)
    return rows, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller runs (about a minute)")
    parser.add_argument(
        "--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these benchmarks"
    )
    parser.add_argument("--json", dest="json_path", help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    names = args.only or list(BENCHMARKS)
    for each in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(each, _stop)
    try:
        return _run(names, args.quick, args.json_path)
    except Stopped as stopped:
        print(f"\nstopped by {stopped}: what the benchmarks started is stopped", flush=True)
        return 128 + stopped.signum


def _run(names: list[str], quick: bool, json_path: str | None) -> int:
    about = machine()
    load_start = load_average()
    print("\n".join(about), flush=True)
    print(f"load average at start: {load_start}", flush=True)
    print(f"mode: {'quick' if quick else 'full'}\n", flush=True)
    rows: list[Row] = []
    for name in names:
        print(f"running {name} …", end=" ", flush=True)
        got, took = run_one(name, quick)
        print(f"{took:.1f}s", flush=True)
        rows += got
    print()
    print(render_table(rows))
    print()
    for row in rows:
        for line in row.details:
            print(f"- {row.name}: {line}")
    load_end = load_average()
    print(f"\nload average at start: {load_start}; at end: {load_end}")
    if json_path:
        payload = {
            "machine": about,
            "load_average_start": load_start,
            "load_average_end": load_end,
            "mode": "quick" if quick else "full",
            "rows": [{**asdict(row), "verdict": row.verdict} for row in rows],
        }
        with open(json_path, "w", encoding="utf-8") as out:
            json.dump(payload, out, indent=2, ensure_ascii=False)
    verdicts = {row.verdict for row in rows}
    if verdicts & {"MISS", "error"}:
        return 1
    return 3 if "unsettled" in verdicts else 0


if __name__ == "__main__":
    sys.exit(main())
