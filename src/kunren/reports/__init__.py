"""The retro report: one drill's Scorecard with the trend of its series, as HTML, Markdown or JSON.

``write_report(drill_dirs)`` reads each drill folder (scenario snapshot and events), scores the
latest one, finds the earlier drills of its series for the trend, renders and writes the file.
``render(card)`` is the pure part, for callers that already hold a Scorecard.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from kunren.errors import KunrenError, UsageError
from kunren.reports.records import (
    DrillData,
    find_series,
    read_drill,
    score_drill,
    series_cards,
)
from kunren.reports.render import FORMATS, render
from kunren.reports.texts import LANGS
from kunren.scorers import Scorecard, load_scorers
from kunren.scorers.score import TimelineWanted
from kunren.scorers.trend import started_key

DEFAULT_REPORTS = Path("reports")


def build_scorecard(
    drill_dirs: Sequence[Path],
    drills_root: Path | None = None,
    plugins_dir: Path | None = None,
    *,
    timeline: TimelineWanted = True,
) -> Scorecard:
    """The Scorecard of the latest of ``drill_dirs``, with the trend of its series attached.

    ``timeline="marks"``: the timeline as slim marks (``Scorecard.entries()``), which is all
    the HTML report reads; its ``timeline`` is then empty.
    """
    if not drill_dirs:
        raise UsageError("give at least one drill folder")
    plugins = load_scorers(plugins_dir)
    if len(drill_dirs) == 1:  # the usual case (a report, the end of a run): scored once
        card = score_drill(drill_dirs[0], plugins, timeline=timeline)
        known = [card]
    else:  # which is latest is known once they are scored; only the trend needs the others
        known = [score_drill(path, timeline=False) for path in drill_dirs]
        latest = max(range(len(known)), key=lambda i: started_key(known[i]))
        card = score_drill(drill_dirs[latest], plugins, timeline=timeline)
        known[latest] = card  # plugins add only their own sections: the trend reads none
    series = series_cards(known, drills_root, until=card)
    return card.model_copy(update={"trend": series.trend()})


def write_report(
    drill_dirs: Sequence[Path],
    fmt: str = "html",
    out: Path | None = None,
    lang: str = "en",
    drills_root: Path | None = None,
    plugins_dir: Path | None = None,
) -> Path:
    """Render the report of the latest of ``drill_dirs`` to ``out`` and return its path.

    ``out`` defaults to ``reports/<drill-id>.<html|md|json>``; earlier drills of the series are
    looked for in ``drills_root`` (default: each drill's parent folder).
    """
    if fmt not in FORMATS:
        raise UsageError(f"unknown report format {fmt!r}; one of: {', '.join(FORMATS)}")
    if lang not in LANGS:
        raise UsageError(f"unknown language {lang!r}; one of: {', '.join(LANGS)}")
    # the HTML and Markdown reports read only marks: a long record's million entry models
    # never exist; the JSON report is the Scorecard, timeline and all
    timeline: TimelineWanted = True if fmt == "json" else "marks"
    card = build_scorecard(drill_dirs, drills_root, plugins_dir, timeline=timeline)
    text = render(card, fmt, lang)
    target = out if out is not None else DEFAULT_REPORTS / f"{card.drill}.{FORMATS[fmt]}"
    _write_atomically(target, text)
    return target


def _write_atomically(path: Path, text: str) -> None:
    """A reader never sees half a report: write beside it, then rename over."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise KunrenError(f"{path}: cannot write the report: {exc.strerror}") from exc


__all__ = [
    "DrillData",
    "build_scorecard",
    "find_series",
    "read_drill",
    "render",
    "score_drill",
    "series_cards",
    "write_report",
]
