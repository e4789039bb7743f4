"""``python -m bench.record_floor``: each appender writes every event, whole, and is measured."""

from __future__ import annotations

import json
from pathlib import Path

from bench.record_floor import PARTS, measure

from kunren.record.eventlog import EventLog


def test_every_appender_writes_each_event_whole_and_gets_a_ratio_per_round(
    tmp_path: Path,
) -> None:
    ratios = measure(rounds=2, count=7, folder=tmp_path)

    assert list(ratios) == [*PARTS, "EventLog.append"]
    assert all(len(each) == 2 and all(r > 0 for r in each) for each in ratios.values())
    for n in range(len(PARTS)):
        lines = (tmp_path / f"a{n}.jsonl").read_bytes().splitlines()
        assert [json.loads(line)["type"] for line in lines] == ["milestone"] * 14
    assert [e.seq for e in EventLog(tmp_path / "drill").read()] == list(range(1, 15))
    assert len((tmp_path / "bare.jsonl").read_bytes().splitlines()) == 14
