"""Reading drill folders for scoring: the scenario snapshot, the events, and the series around them.

This is the I/O side of scoring (``score()`` itself is pure). A drill folder holds
``events.jsonl`` and the ``scenario.yaml`` snapshot taken when it started, so a drill is always
scored against the scenario it actually ran, even after the file in ``scenarios/`` changed.
A series is every drill whose ``drill.started`` names the same scenario id, in start order.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kunren.errors import KunrenError, UsageError
from kunren.record.eventlog import EVENTS_FILE, EventLog
from kunren.record.events import DrillStarted, Event, parse_event
from kunren.record.folders import load_snapshot
from kunren.record.stream import amendments_in, iter_events
from kunren.reports.series_cache import SeriesIndex
from kunren.scenarios.models import Scenario
from kunren.scorers import Scorecard, Scorer, Trend, score
from kunren.scorers.score import TimelineWanted
from kunren.scorers.trend import DrillSummary, started_key, summarize, trend_of


@dataclass(frozen=True)
class DrillData:
    path: Path
    scenario: Scenario
    events: list[Event]


def is_drill(path: Path) -> bool:
    return (path / EVENTS_FILE).is_file()


def read_drill(drill_dir: Path) -> DrillData:
    """A drill folder's scenario snapshot and events; KunrenError naming what is wrong."""
    _check_drill(drill_dir)
    loaded = load_snapshot(drill_dir)
    return DrillData(path=drill_dir, scenario=loaded.scenario, events=EventLog(drill_dir).read())


def _check_drill(drill_dir: Path) -> None:
    if not drill_dir.is_dir():
        raise UsageError(f"{drill_dir}: no such drill folder")
    if not is_drill(drill_dir):
        raise UsageError(f"{drill_dir}: not a drill folder (no {EVENTS_FILE})")


def score_drill(
    drill_dir: Path, plugins: Sequence[type[Scorer]] = (), *, timeline: TimelineWanted = True
) -> Scorecard:
    """The Scorecard of one drill folder; its id is the folder name.

    The record is read line by line as it is scored, never held whole (a company-wide drill
    has a million events); a line that is not an event stops it with the same error as
    ``read_drill``.
    """
    _check_drill(drill_dir)
    scenario = load_snapshot(drill_dir).scenario
    path = drill_dir / EVENTS_FILE
    card = score(
        scenario, iter_events(path), plugins, timeline=timeline, amendments=amendments_in(path)
    )
    return card.model_copy(update={"drill": drill_dir.name, "record": str(path)})


def trend_card(drill_dir: Path) -> Scorecard:
    """A drill scored for the trend only: its timeline is never shown, so not built."""
    return score_drill(drill_dir, timeline=False)


def trend_summaries(drill_dirs: Sequence[Path]) -> list[DrillSummary]:
    """What the trend reads of each drill (once each), through its folder's index."""
    indexes: dict[Path, SeriesIndex] = {}
    summaries: dict[Path, DrillSummary] = {}
    for path in drill_dirs:
        index = indexes.get(path.parent)
        if index is None:
            index = indexes[path.parent] = SeriesIndex(path.parent)
        where = index.root_resolved / path.name
        if where not in summaries:
            summaries[where] = index.summary(path, trend_card)
    for index in indexes.values():
        index.save()
    return list(summaries.values())


def series_folders(drills_root: Path, series: str) -> list[Path]:
    """``find_series`` through the folder's index: for commands that are given a series."""
    index = SeriesIndex(drills_root)
    found = find_series(drills_root, series, index)
    index.save()
    return found


def series_of(drill_dir: Path) -> str | None:
    """The scenario id in a drill's first event, reading only that line."""
    try:
        with open(drill_dir / EVENTS_FILE, "rb") as log:
            first = log.readline()
        event = parse_event(first)
    except (OSError, ValueError):
        return None
    return event.scenario_id if isinstance(event, DrillStarted) else None


def find_series(drills_root: Path, series: str, index: SeriesIndex | None = None) -> list[Path]:
    """Every drill folder under ``drills_root`` of ``series``, in name order.

    With ``index`` (the folder's own), each drill's series comes from it while its record is
    unchanged, and entries of drill folders that are gone are dropped from it.
    """
    try:
        children = sorted(entry.name for entry in os.scandir(drills_root) if entry.is_dir())
    except OSError:
        return []
    found = []
    for name in children:
        child = drills_root / name
        named = index.series(child, series_of) if index is not None else _series_if_drill(child)
        if named == series:
            found.append(child)
    if index is not None:
        index.forget_missing(set(children))
    return found


def _series_if_drill(drill_dir: Path) -> str | None:
    return series_of(drill_dir) if is_drill(drill_dir) else None


@dataclass(frozen=True)
class Series:
    drills: list[DrillSummary]  # oldest first
    notices: list[str]

    def trend(self) -> Trend:
        return trend_of(self.drills, self.notices)


def drill_dir_of(card: Scorecard) -> Path:
    if card.record is None:
        raise UsageError(f"drill {card.drill}: scorecard does not say where its record is")
    return Path(card.record).parent


def series_cards(
    known: Sequence[Scorecard], drills_root: Path | None, until: Scorecard | None = None
) -> Series:
    """``known`` and the other drills of their series in ``drills_root``, oldest first.

    ``drills_root`` defaults to the folders ``known`` drills are in. With ``until``, only
    drills started no later than it count: a report speaks as of its own drill. A damaged
    drill found by the search is skipped with a notice; one named by the user is an error.
    The other drills come from the folder's index (``SeriesIndex``): only the few numbers
    the trend shows, and only drills whose files changed are read again.
    """
    if not known:
        raise UsageError("no drills given")
    series = {card.series for card in known}
    if len(series) > 1:
        raise UsageError(
            f"drills of different series cannot be compared: {', '.join(sorted(series))}"
        )
    drills = {_where(drill_dir_of(card)): summarize(card) for card in known}
    roots = [drills_root] if drills_root is not None else [drill_dir_of(c).parent for c in known]
    notices: list[str] = []
    for root in dict.fromkeys(roots):
        index = SeriesIndex(root)
        for path in find_series(root, next(iter(series)), index):
            where = index.root_resolved / path.name
            if where in drills:
                continue
            try:
                drills[where] = index.summary(path, trend_card)
            except KunrenError as exc:
                notices.append(f"skipped {path}: {exc.message.splitlines()[0]}")
        index.save()
    ordered = sorted(drills.values(), key=started_key)
    if until is not None:
        limit = started_key(until)
        ordered = [drill for drill in ordered if started_key(drill) <= limit]
    return Series(drills=ordered, notices=notices)


def _where(drill_dir: Path) -> Path:
    """A drill folder's place: its folder resolved, then its own name (as a search finds it)."""
    return drill_dir.parent.resolve() / drill_dir.name
