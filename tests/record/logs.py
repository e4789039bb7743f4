"""What the record's tests share: a new log holding its first event."""

from __future__ import annotations

from pathlib import Path

from kunren.record.eventlog import EventLog
from kunren.record.events import DrillStarted


def new_log(tmp_path: Path) -> EventLog:
    """A drill folder under ``tmp_path`` whose log holds ``drill.started`` (seq 1)."""
    log = EventLog.create(tmp_path / "drill", "version: 1\n")
    log.append(DrillStarted(drill="d1", scenario_id="s", duration=60.0))
    return log
