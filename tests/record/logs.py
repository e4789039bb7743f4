"""What the record's tests share: a new log holding its first event, and a bounded wait."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from kunren.record.eventlog import EventLog
from kunren.record.events import DrillStarted
from kunren.runtime.clock import monotonic


def new_log(tmp_path: Path) -> EventLog:
    """A drill folder under ``tmp_path`` whose log holds ``drill.started`` (seq 1)."""
    log = EventLog.create(tmp_path / "drill", "version: 1\n")
    log.append(DrillStarted(drill="d1", scenario_id="s", duration=60.0))
    return log


def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll ``condition()`` until true (threads run asynchronously), failing after ``timeout``."""
    deadline = monotonic() + timeout
    while not condition():
        assert monotonic() < deadline, "the condition never held"
        threading.Event().wait(0.001)
