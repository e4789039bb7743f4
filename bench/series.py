"""Series cost: the end-of-run report as the drills folder grows, with and without the index.

``kunren run`` ends with the retro report of the drill it ran, which shows the trend of the
whole series, so it needs every earlier drill of it. Earlier drills do not change: the few
numbers the trend shows of each are kept in the drills folder's ``.scorecards.json`` and
their files only stat'ed. Measured here: the report of the latest drill of a series of 10, 40
and 160 drills (1,500 events each, ``bench.synth``) beside the same drill's report alone (its
own folder, no series); once with no index (every drill read: the first run after an upgrade),
then with it (every run after), then after every earlier record was touched (each hashed
once, none scored again); and ``kunren trend`` of the series. The cost per earlier drill is
the difference from the drill alone, divided by their number. Rounds of the largest size
interleave (alone, warm, warm, alone, …; three pairs a round) until the ratio settles.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from bench.common import Row, at_most, scratch, settle
from bench.synth import SERIES, write_series
from kunren.record.eventlog import EVENTS_FILE
from kunren.reports import write_report
from kunren.reports.records import series_folders, trend_summaries
from kunren.reports.series_cache import INDEX_FILE
from kunren.scorers.trend import trend_of

NAME = "series: end-of-run report, 160 earlier drills"
SIZES = (10, 40, 160)
EVENTS = 1_500
PAIRS = 3  # alone/warm pairs per settling round


def _report(drill: Path, root: Path, out: Path) -> float:
    start = time.perf_counter()
    write_report([drill], fmt="html", out=out, drills_root=root)
    return time.perf_counter() - start


def _trend(root: Path) -> float:
    """What ``kunren trend SERIES`` does, in-process: find the series, summarise, compare."""
    start = time.perf_counter()
    trend_of(trend_summaries(series_folders(root, SERIES)))
    return time.perf_counter() - start


def _median(times: list[float]) -> float:
    return sorted(times)[len(times) // 2]


def _touch_records(drills: list[Path]) -> None:
    for drill in drills:
        record = drill / EVENTS_FILE
        stat = record.stat()
        os.utime(record, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


def run(quick: bool) -> list[Row]:
    sizes = (10, 40) if quick else SIZES
    lines: list[str] = []
    with scratch("series-") as folder:
        out = folder / "report.html"
        for size in sizes:
            root = folder / f"series-{size}"
            drills = write_series(root, size + 1, EVENTS, seed=size)
            latest = drills[-1]
            alone_root = folder / f"alone-{size}"
            alone_root.mkdir()
            shutil.copytree(latest, alone_root / latest.name)
            alone = alone_root / latest.name
            _report(alone, alone_root, out)  # its own index, and the template compiled
            cold = _report(latest, root, out)
            warm = _median([_report(latest, root, out) for _ in range(3)])
            base = _median([_report(alone, alone_root, out) for _ in range(3)])
            _touch_records(drills[:-1])
            touched = _report(latest, root, out)

            def per_drill(took: float, size: int = size, base: float = base) -> str:
                return f"{(took - base) / size * 1000:+.2f} ms per earlier drill"

            lines.append(
                f"{size} earlier drills: the drill alone {base:.3f} s; cold {cold:.2f} s "
                f"({per_drill(cold)}); warm {warm:.3f} s ({per_drill(warm)}); after touching "
                f"every earlier record (each hashed, none scored) {touched:.3f} s "
                f"({per_drill(touched)})"
            )
        if not (root / INDEX_FILE).is_file():
            raise RuntimeError("the report wrote no scorecard index")
        trend = _median([_trend(root) for _ in range(3)])
        lines.append(f"`kunren trend` of the {size + 1} drills (warm, in-process): {trend:.3f} s")

        def one_round(n: int) -> float:
            # a round is three pairs (a report is ~0.1 s: one pair is mostly noise), in
            # alternating order, and its ratio is that of the medians
            took: dict[str, list[float]] = {"alone": [], "warm": []}
            for pair in range(PAIRS):
                order = ("alone", "warm") if (n + pair) % 2 == 0 else ("warm", "alone")
                for which in order:
                    took[which].append(
                        _report(alone, alone_root, out)
                        if which == "alone"
                        else _report(latest, root, out)
                    )
            return _median(took["warm"]) / _median(took["alone"])

        target = at_most(1.5, "≤ 1.5×")
        result = settle(
            one_round,
            target,
            min_rounds=3,
            max_rounds=6 if quick else 10,
            max_seconds=30 if quick else 90,
        )
    largest = sizes[-1]
    return [
        Row(
            NAME if largest == 160 else f"series: end-of-run report, {largest} earlier drills",
            f"ratio {result.ratio:.2f}×",
            "the drill alone",
            result.ratio,
            f"{result.ratio:.2f}×",
            target,
            [*lines, result.describe(lambda r: f"{r:.2f}×")],
            settled=result.settled,
            load=result.load,
        )
    ]
