"""Series cost: the end-of-run report as the drills folder grows, with and without the cache.

``kunren run`` ends with the retro report of the drill it ran, which shows the trend of the
whole series, so it scores every earlier drill of it. Earlier drills do not change: their
scorecards are kept in the drills folder's ``.scorecards.json`` and not read again. Measured
here: the report of the latest drill of a series of 10, 40 and 160 drills (1,500 events each,
``bench.synth``), once with no index (every drill read: the first run after an upgrade) and
then with it (every run after); the cost per earlier drill of each, and the warm report of the
largest series against the report of the same drill alone (its own folder, no series). Rounds
of the largest size interleave (alone, warm, warm, alone, …) until the ratio settles.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from bench.common import Row, at_most, scratch, settle
from bench.synth import write_series
from kunren.reports import write_report
from kunren.reports.series_cache import INDEX_FILE

NAME = "series: end-of-run report, 160 earlier drills"
SIZES = (10, 40, 160)
EVENTS = 1_500


def _report(drill: Path, root: Path, out: Path) -> float:
    start = time.perf_counter()
    write_report([drill], fmt="html", out=out, drills_root=root)
    return time.perf_counter() - start


def run(quick: bool) -> list[Row]:
    sizes = (10, 40) if quick else SIZES
    lines: list[str] = []
    with scratch("series-") as folder:
        out = folder / "report.html"
        alone_root = folder / "alone"
        for size in sizes:
            root = folder / f"series-{size}"
            drills = write_series(root, size + 1, EVENTS, seed=size)
            cold = _report(drills[-1], root, out)
            warm = _report(drills[-1], root, out)
            lines.append(
                f"{size} earlier drills: cold {cold:.2f} s ({cold / size * 1000:.0f} ms per "
                f"drill), warm {warm:.2f} s ({warm / size * 1000:.1f} ms per drill)"
            )
        latest = drills[-1]
        alone_root.mkdir()
        shutil.copytree(latest, alone_root / latest.name)
        alone = alone_root / latest.name
        if not (root / INDEX_FILE).is_file():
            raise RuntimeError("the report wrote no scorecard index")

        def one_round(n: int) -> float:
            order = ("alone", "warm") if n % 2 == 0 else ("warm", "alone")
            took = {}
            for which in order:
                took[which] = (
                    _report(alone, alone_root, out)
                    if which == "alone"
                    else _report(latest, root, out)
                )
            return took["warm"] / took["alone"]

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
