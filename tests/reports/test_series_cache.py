"""The series index of a drills folder: unchanged drills are not read again, changed ones are.

What it keeps of a drill is its ``DrillSummary`` (the numbers the trend shows, with their
labels), so every test holds it against a fresh score: the trend from the index must be the
trend from the records.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bench.synth import write_series

from kunren.record.eventlog import EVENTS_FILE, EventLog
from kunren.record.events import DrillAborted, DrillStarted, Event, Milestone, Note
from kunren.reports import series_cache
from kunren.reports.records import series_cards, trend_card, trend_summaries
from kunren.reports.series_cache import INDEX_FILE, IndexFile, SeriesIndex
from kunren.scorers import trend
from kunren.scorers.trend import DrillSummary, summarize, trend_of
from tests.fixtures.timelines.records import SCENARIO
from tests.scorers.helpers import record


@pytest.fixture
def drills(tmp_path: Path) -> list[Path]:
    return write_series(tmp_path / "drills", 3, 300)


def _read(drills: list[Path]) -> tuple[SeriesIndex, list[DrillSummary]]:
    index = SeriesIndex(drills[0].parent)
    summaries = [index.summary(path, trend_card) for path in drills]
    index.save()
    return index, summaries


def _counts(drills: list[Path]) -> tuple[int, int, int]:
    index, _ = _read(drills)
    return index.hits, index.misses, index.hashed


def _fresh(drills: list[Path]) -> list[DrillSummary]:
    return [summarize(trend_card(path)) for path in drills]


def test_a_second_reading_comes_from_the_index_and_equals_a_fresh_score(
    drills: list[Path],
) -> None:
    assert _counts(drills) == (0, 3, 0)
    assert (drills[0].parent / INDEX_FILE).is_file()
    index, summaries = _read(drills)
    assert (index.hits, index.misses, index.hashed) == (3, 0, 0)
    assert summaries == _fresh(drills)
    assert trend_summaries(drills) == summaries
    fresh = trend([trend_card(path) for path in drills])
    assert trend_of(summaries) == fresh  # the trend from the index is the same trend


def test_a_drill_whose_record_grew_is_scored_again(drills: list[Path]) -> None:
    _read(drills)
    EventLog(drills[1]).append(Note(text="added after the drill", actor="facilitator", at=5.0))
    assert _counts(drills) == (2, 1, 0)  # another size: scored again without hashing
    assert _read(drills)[1] == _fresh(drills)
    assert _counts(drills) == (3, 0, 0)


def test_same_size_and_mtime_but_other_bytes_is_caught(drills: list[Path]) -> None:
    _read(drills)
    record_path = drills[2] / EVENTS_FILE
    stat = record_path.stat()
    data = record_path.read_bytes()
    changed = data.replace(b":00+09:00", b":01+09:00", 1)  # same length, other bytes
    assert changed != data and len(changed) == len(data)
    record_path.write_bytes(changed)
    os.utime(record_path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the old mtime put back
    assert _counts(drills) == (2, 1, 1)  # its ctime moved: hashed, other bytes, scored again
    assert _read(drills)[1] == _fresh(drills)


def test_a_touched_or_copied_drill_is_hashed_once_and_not_scored_again(
    drills: list[Path], tmp_path: Path
) -> None:
    _read(drills)
    record_path = drills[0] / EVENTS_FILE
    os.utime(record_path, ns=(1_000_000_000, 1_000_000_000))  # same bytes, another mtime
    assert _counts(drills) == (3, 0, 1)
    assert _counts(drills) == (3, 0, 0)  # the new stat was kept with the same hash
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-a", str(drills[0].parent), str(copy)], check=True)
    copied = [copy / path.name for path in drills]  # new inodes and ctimes, same bytes
    index, summaries = _read(copied)
    assert (index.hits, index.misses) == (3, 0) and index.hashed >= 3
    assert summaries == _fresh(drills)


def test_another_scorer_version_or_a_damaged_or_foreign_index_scores_everything_again(
    drills: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    index_file = drills[0].parent / INDEX_FILE
    _read(drills)
    monkeypatch.setattr(series_cache, "scorer_version", lambda: "another-version")
    assert _counts(drills)[:2] == (0, 3)
    for foreign in (
        b"\x00{not json",
        b"[1, 2, 3]",
        b'{"scorer": "another-version", "drills": {}}',  # no format: an older kunren's
        b'{"format": 2, "scorer": "another-version", "drills": {"x": {"files": 7}}}',
        index_file.read_bytes()[:-20],  # cut short
    ):
        index_file.write_bytes(foreign)
        assert _counts(drills)[:2] == (0, 3)
        IndexFile.model_validate_json(index_file.read_bytes())  # rebuilt whole
        assert _counts(drills)[:2] == (3, 0)


def test_an_unwritable_folder_still_scores(drills: list[Path]) -> None:
    root = drills[0].parent
    (root / INDEX_FILE).mkdir()  # the index cannot be written: a folder stands in its way
    assert _counts(drills)[:2] == (0, 3)
    assert _counts(drills)[:2] == (0, 3)
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".")) == [INDEX_FILE]


def test_the_series_of_each_drill_comes_from_the_index_and_gone_drills_are_dropped(
    drills: list[Path],
) -> None:
    root = drills[0].parent
    other = root / "other-series"
    log = EventLog.create(other, SCENARIO.read_text("utf-8"))
    log.append(DrillStarted(drill="other-series", scenario_id="other", duration=3600.0))
    latest = trend_card(drills[-1])
    first = series_cards([latest], root)
    assert [d.drill for d in first.drills] == [p.name for p in drills]
    entries = IndexFile.model_validate_json((root / INDEX_FILE).read_bytes()).drills
    assert entries["other-series"].series == "other" and entries["other-series"].summary is None
    for path in (drills[0], other):
        subprocess.run(["rm", "-r", str(path)], check=True)
    again = series_cards([latest], root)
    assert [d.drill for d in again.drills] == [p.name for p in drills[1:]]
    entries = IndexFile.model_validate_json((root / INDEX_FILE).read_bytes()).drills
    assert sorted(entries) == sorted(p.name for p in drills[1:])


def _write(root: Path, name: str, events: list[Event]) -> Path:
    log = EventLog.create(root / name, SCENARIO.read_text("utf-8"))
    log.append_many([e.model_copy(update={"seq": 0}) for e in events])
    return root / name


def _kinds_of_drill(root: Path) -> list[Path]:
    """One series of every kind a trend must label: tabletop, virtual clock with simulated
    people, scaled ×40, imported, and one stopped before T0."""

    def mark(at: float, source: str = "participant") -> Milestone:
        return Milestone(at=at, name="detected", actor="erin", role="sre", source=source)

    def drill(
        name: str,
        month: int,
        body: list[Event],
        clock: str = "real",
        speed: float = 1.0,
        source: str = "conductor",
    ) -> Path:
        head = DrillStarted(
            wall=f"2024-{month:02d}-17T18:00:00+09:00",
            drill=name,
            scenario_id="web-outage",
            duration=3600.0,
            clock=clock,
            speed=speed,
            source=source,
        )
        return _write(root, name, [head, *body[1:]])

    return [
        drill("tabletop", 1, record(mark(600), fault_at=None)),
        drill("rehearsal", 2, record(mark(540, "simulated")), clock="virtual", speed=0.0),
        drill("scaled", 3, record(mark(300, "simulated")), clock="scaled", speed=40.0),
        drill("imported", 4, record(mark(200)), source="import"),
        drill("stopped", 5, [*record(end=None, fault_at=None), DrillAborted(at=5, reason="x")]),
        drill("live", 6, record(mark(120))),
    ]


def test_the_trend_from_the_index_keeps_every_label_of_every_drill(tmp_path: Path) -> None:
    from kunren.cli.score_cmds import trend_table

    root = tmp_path / "drills"
    folders = _kinds_of_drill(root)
    latest = trend_card(folders[-1])
    fresh = trend([trend_card(path) for path in folders])
    cold = series_cards([latest], root).trend()
    assert not SeriesIndex(root).hits and (root / INDEX_FILE).is_file()
    warm = series_cards([latest], root).trend()
    assert cold == warm == fresh
    table = trend_table(warm)
    for label in (
        "tabletop (tabletop, real time)",
        "rehearsal (live, virtual clock, simulated people)",
        "scaled (live, scaled ×40, simulated people)",
        "imported (imported)",
        "live (live, real time)",
        "left out (stopped before T0): stopped",
    ):
        assert label in table
    assert [p.source for p in warm.lines[0].points] == [
        "participant",
        "simulated",
        "simulated",
        "participant",
        "participant",
    ]


def test_concurrent_runs_never_leave_a_partial_index(drills: list[Path]) -> None:
    root = drills[0].parent
    _read(drills)
    # Each writer re-stamps a touched record and rewrites the whole index, over and over.
    writer = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from kunren.reports.records import trend_summaries\n"
        "drills = [Path(p) for p in sys.argv[2:]]\n"
        "for n in range(int(sys.argv[1])):\n"
        "    os.utime(drills[n % len(drills)] / 'events.jsonl', ns=(n * 10**9, n * 10**9))\n"
        "    trend_summaries(drills)\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", writer, "40", *map(str, drills)]) for _ in range(3)
    ]
    reads = 0
    try:
        deadline = time.monotonic() + 60
        while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
            IndexFile.model_validate_json((root / INDEX_FILE).read_bytes())  # whole, always
            reads += 1
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
    assert [p.returncode for p in procs] == [0, 0, 0]
    assert reads > 0
    assert not [p for p in root.iterdir() if p.name.startswith(".scorecards-")]  # no leftovers
    assert _read(drills)[1] == _fresh(drills)


def test_a_drill_alone_in_its_folder_leaves_no_index(drills: list[Path]) -> None:
    root = drills[0].parent
    for path in drills[:-1]:
        subprocess.run(["rm", "-r", str(path)], check=True)
    series = series_cards([trend_card(drills[-1])], root)
    assert [d.drill for d in series.drills] == [drills[-1].name]
    assert sorted(p.name for p in root.iterdir()) == [drills[-1].name]
