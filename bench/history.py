"""Scale of history: score a series of large drills and render its HTML report, against parsing.

The retro report of a drill shows the trend of its whole series, so it scores every earlier
drill too. The claim is that this stays cheap as history grows: scoring all 40 drills of
20,000 events and rendering the report takes at most 3× what merely parsing the same JSONL into
events takes. The baseline is kunren's own typed parse of every record (``EventLog.read``: what
any reader of the record pays); rounds interleave (parse, report, report, parse, …) until the
ratio settles. The records come from ``bench.synth`` (seeded, valid events); generating them is
not timed.

A second row is one big drill at growing sizes (1k, 10k, 100k events, 1M in a full run): the
report's cost per event against a plain ``json.loads`` of each line, the slope of the cost on a
log-log scale (1.0 is linear), the peak memory beside the record's size and the size of the
HTML file (a browser must open it: its timeline table is bounded), each size measured
in a fresh child process so one size's memory does not hide in the next (the report runs first
there, so the peak is the report's alone). Both are single-threaded and CPU-bound, so the ratio
is of CPU time (``time.process_time``), which a busy neighbour disturbs far less than wall
time; wall times are shown beside it.
"""

from __future__ import annotations

import json
import math
import subprocess
import time
from pathlib import Path

from bench.common import PYTHON, Row, at_most, scratch, settle
from bench.synth import write_series
from kunren.record.eventlog import EVENTS_FILE, EventLog
from kunren.reports import write_report
from kunren.reports.series_cache import INDEX_FILE

NAME = "history: score+HTML of 40 drills"

# One size in a fresh process: the full HTML report, then json.loads of every line; peak RSS.
# The peak is the process's VmHWM: ru_maxrss is carried over from the parent by fork and exec
# (it starts at the bench's own peak, which hid the report's in quick runs).
CURVE = """
import json, resource, sys, time
from pathlib import Path
from kunren.reports import write_report
def peak_kib():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
drill, out = Path(sys.argv[1]), Path(sys.argv[2])
before = peak_kib()
start, cpu = time.perf_counter(), time.process_time()
write_report([drill], fmt="html", out=out, drills_root=drill.parent)
report_s, report_cpu = time.perf_counter() - start, time.process_time() - cpu
peak = peak_kib()  # before json.loads adds its own
start, cpu = time.perf_counter(), time.process_time()
with open(drill / "events.jsonl", "rb") as log:
    rows = [json.loads(line) for line in log]
json_s, json_cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({"json": json_s, "report": report_s, "json_cpu": json_cpu,
                  "report_cpu": report_cpu, "peak_kib": peak, "before_kib": before}))
"""


def _parse(drills: list[Path]) -> tuple[float, int]:
    start = time.perf_counter()
    count = sum(len(EventLog(d).read()) for d in drills)
    return time.perf_counter() - start, count


def _json_only(drills: list[Path]) -> float:
    start = time.perf_counter()
    for drill in drills:
        with open(drill / EVENTS_FILE, "rb") as log:
            for line in log:
                json.loads(line)
    return time.perf_counter() - start


def _report(drills: list[Path], root: Path, out: Path) -> float:
    # every drill scored: the scorecard cache would answer for the 39 earlier ones after the
    # first round (what that saves is the series benchmark's subject, not this one's)
    (root / INDEX_FILE).unlink(missing_ok=True)
    start = time.perf_counter()
    write_report([drills[-1]], fmt="html", out=out, drills_root=root)
    return time.perf_counter() - start


def _series(quick: bool, folder: Path) -> Row:
    count, per_drill = (40, 1_500) if quick else (40, 20_000)
    root = folder / "drills"
    drills = write_series(root, count, per_drill)
    out = folder / "report.html"
    parse_times: list[float] = []
    report_times: list[float] = []
    counted: list[int] = []

    def one_round(n: int) -> float:
        order = ("parse", "report") if n % 2 == 0 else ("report", "parse")
        took = {}
        for which in order:
            if which == "parse":
                took[which], events = _parse(drills)
                counted.append(events)
                parse_times.append(took[which])
            else:
                took[which] = _report(drills, root, out)
                report_times.append(took[which])
        return took["report"] / took["parse"]

    target = at_most(3.0, "≤ 3×")
    result = settle(
        one_round,
        target,
        min_rounds=2 if quick else 3,
        max_rounds=4 if quick else 6,
        max_seconds=60 if quick else 300,
    )
    json_s = _json_only(drills)
    html = out.read_text(encoding="utf-8")
    if any(c != count * per_drill for c in counted):
        raise RuntimeError(f"parsed {counted} events, expected {count * per_drill} each round")
    if "<svg" not in html or len(html) < 1000:
        raise RuntimeError("the report is not a full HTML report with its charts")
    report_s, parse_s = min(report_times), min(parse_times)
    return Row(
        NAME if per_drill == 20_000 else f"history: score+HTML of {count}×{per_drill:,}",
        f"{report_s:.2f} s",
        f"{parse_s:.2f} s",
        result.ratio,
        f"{result.ratio:.2f}×",
        target,
        [
            f"{count} drills × {per_drill:,} events = {count * per_drill:,} events; "
            f"fastest typed parse {parse_s:.2f} s, fastest report {report_s:.2f} s, "
            f"json.loads only {json_s:.2f} s; report {len(html) / 1024:,.0f} KiB",
            result.describe(lambda r: f"{r:.2f}×"),
        ],
        settled=result.settled,
        load=result.load,
    )


def _curve(quick: bool, folder: Path) -> Row:
    sizes = (1_000, 10_000, 100_000) if quick else (1_000, 10_000, 100_000, 1_000_000)
    points: list[tuple[int, float, float, float, int]] = []
    walls: list[tuple[float, float]] = []
    html_sizes: list[int] = []
    for size in sizes:
        root = folder / f"big-{size}"
        (drill,) = write_series(root, 1, size, seed=size)
        record = (drill / EVENTS_FILE).stat().st_size
        done = subprocess.run(
            [PYTHON, "-c", CURVE, str(drill), str(folder / f"big-{size}.html")],
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the {size:,}-event report failed: {done.stderr[-600:]}")
        got = json.loads(done.stdout.strip().splitlines()[-1])
        grown = (got["peak_kib"] - got["before_kib"]) * 1024
        points.append((size, got["json_cpu"], got["report_cpu"], grown / record, record))
        walls.append((got["json"], got["report"]))
        html = folder / f"big-{size}.html"
        html_sizes.append(html.stat().st_size)
        html.unlink()
    small, big = points[-2], points[-1]
    slope = math.log(big[2] / small[2]) / math.log(big[0] / small[0])
    size, json_s, report_s, memory, record = big
    ratio = report_s / json_s
    return Row(
        f"history: one drill of {size:,} events",
        f"{report_s:.2f} s CPU",
        f"{json_s:.2f} s CPU (json.loads)",
        ratio,
        f"{ratio:.2f}×",
        at_most(3.0, "≤ 3×"),
        [
            "CPU cost per event (report / json.loads, peak memory grown ÷ record size): "
            + "; ".join(
                f"{n:,}: {r / n * 1e6:.1f} µs / {j / n * 1e6:.1f} µs, {m:.1f}× of "
                f"{rec / 1e6:.1f} MB"
                for n, j, r, m, rec in points
            ),
            f"slope of the report's cost from {small[0]:,} to {size:,} events: {slope:.2f} "
            "(1.00 is linear)",
            f"peak memory grown {memory:.2f}× the record's size (goal < 2×), single run per size",
            "HTML report: "
            + "; ".join(
                f"{n:,}: {h / 1e6:.1f} MB" for (n, *_), h in zip(points, html_sizes, strict=True)
            ),
            "wall time (report / json.loads): "
            + "; ".join(
                f"{n:,}: {w[1]:.2f} s / {w[0]:.2f} s"
                for (n, *_), w in zip(points, walls, strict=True)
            ),
        ],
        holds=memory < 2.0,
        expect="memory < 2× record",
    )


def run(quick: bool) -> list[Row]:
    with scratch("history-") as folder:
        return [_series(quick, folder), _curve(quick, folder)]
