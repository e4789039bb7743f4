"""The scorecard cache of a drills folder: unchanged drills are not read again, changed ones are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from bench.synth import write_series

from kunren.record.eventlog import EVENTS_FILE, EventLog
from kunren.record.events import Note
from kunren.reports import series_cache
from kunren.reports.records import trend_card, trend_cards
from kunren.reports.series_cache import INDEX_FILE, ScorecardCache, trend_view
from kunren.scorers import trend


@pytest.fixture
def drills(tmp_path: Path) -> list[Path]:
    return write_series(tmp_path / "drills", 3, 300)


def _scored(drills: list[Path]) -> tuple[int, int, list[dict[str, object]]]:
    index = ScorecardCache(drills[0].parent)
    cards = [index.card(path, trend_card) for path in drills]
    index.save()
    return index.hits, index.misses, [card.model_dump(mode="json") for card in cards]


def test_a_second_reading_comes_from_the_index_and_equals_a_fresh_score(
    drills: list[Path],
) -> None:
    assert _scored(drills)[:2] == (0, 3)
    assert (drills[0].parent / INDEX_FILE).is_file()
    hits, misses, cached = _scored(drills)
    assert (hits, misses) == (3, 0)
    assert cached == [trend_view(trend_card(path)).model_dump(mode="json") for path in drills]
    assert [c.model_dump(mode="json") for c in trend_cards(drills)] == cached
    fresh = trend([trend_card(path) for path in drills])
    assert trend(trend_cards(drills)) == fresh  # the trend of cached cards is the same trend


def test_a_drill_whose_record_grew_is_scored_again(drills: list[Path]) -> None:
    _scored(drills)
    EventLog(drills[1]).append(Note(text="added after the drill", actor="facilitator", at=5.0))
    hits, misses, cards = _scored(drills)
    assert (hits, misses) == (2, 1)
    assert cards[1] == trend_view(trend_card(drills[1])).model_dump(mode="json")


def test_same_size_and_mtime_but_other_bytes_is_caught_by_the_hash(drills: list[Path]) -> None:
    _scored(drills)
    record = drills[2] / EVENTS_FILE
    stat = record.stat()
    data = record.read_bytes()
    changed = data.replace(b":00+09:00", b":01+09:00", 1)  # same length, other bytes
    assert changed != data and len(changed) == len(data)
    record.write_bytes(changed)
    os.utime(record, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert _scored(drills)[:2] == (2, 1)


def test_another_scorer_version_or_a_damaged_index_scores_everything_again(
    drills: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    _scored(drills)
    monkeypatch.setattr(series_cache, "scorer_version", lambda: "another-version")
    assert _scored(drills)[:2] == (0, 3)
    (drills[0].parent / INDEX_FILE).write_bytes(b"\x00{not json")
    assert _scored(drills)[:2] == (0, 3)
    assert _scored(drills)[:2] == (3, 0)  # rebuilt


def test_an_unwritable_folder_still_scores(drills: list[Path]) -> None:
    root = drills[0].parent
    (root / INDEX_FILE).mkdir()  # the index cannot be written: a folder stands in its way
    assert _scored(drills)[:2] == (0, 3)
    assert _scored(drills)[:2] == (0, 3)
