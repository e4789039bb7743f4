"""Scale of history: score a series of large drills and render its HTML report, against parsing.

The retro report of a drill shows the trend of its whole series, so it scores every earlier
drill too. The claim is that this stays cheap as history grows: scoring all 40 drills of
20,000 events and rendering the report takes at most 3× what merely parsing the same JSONL into
events takes. The baseline is kunren's own typed parse of every record (``EventLog.read``: what
any reader of the record pays); a plain ``json.loads`` of each line is shown beside it.
The records come from ``bench.synth`` (seeded, valid events); generating them is not timed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from bench.common import Row, at_most, scratch
from bench.synth import write_series
from kunren.record.eventlog import EVENTS_FILE, EventLog
from kunren.reports import write_report

NAME = "history: score+HTML of 40 drills"


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
    start = time.perf_counter()
    write_report([drills[-1]], fmt="html", out=out, drills_root=root)
    return time.perf_counter() - start


def run(quick: bool) -> list[Row]:
    count, per_drill = (40, 1_500) if quick else (40, 20_000)
    with scratch("history-") as folder:
        root = folder / "drills"
        drills = write_series(root, count, per_drill)
        out = folder / "report.html"
        parse_a, events = _parse(drills)
        report_s = _report(drills, root, out)
        parse_b, _ = _parse(drills)
        json_s = _json_only(drills)
        html = out.read_text(encoding="utf-8")
    if events != count * per_drill:
        raise RuntimeError(f"parsed {events} events, expected {count * per_drill}")
    if "<svg" not in html or len(html) < 1000:
        raise RuntimeError("the report is not a full HTML report with its charts")
    parse_s = (parse_a + parse_b) / 2
    ratio = report_s / parse_s
    return [
        Row(
            NAME if per_drill == 20_000 else f"history: score+HTML of {count}×{per_drill:,}",
            f"{report_s:.2f} s",
            f"{parse_s:.2f} s",
            ratio,
            f"{ratio:.2f}×",
            at_most(3.0, "≤ 3×"),
            [
                f"{count} drills × {per_drill:,} events = {events:,} events; "
                f"typed parse {parse_s:.2f} s ({events / parse_s:,.0f} events/s), "
                f"json.loads only {json_s:.2f} s; report {len(html) / 1024:,.0f} KiB "
                f"({report_s / json_s:.1f}× json.loads)"
            ],
        )
    ]
