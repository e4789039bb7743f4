"""Joining a drill from outside the conductor: ``kunren mark``/``note``/``notify`` in a terminal.

Such a command has no running clock of its own, so it reconstructs the drill time from the
record: the last ``drill.started`` or ``drill.resumed`` event anchors (drill time, wall time)
and the drill's speed (the one ``kunren resume --speed`` gave, if any), and "now" is that
anchor plus the wall time passed since, times speed.
A drill on the virtual clock has no "now" a person can share: those commands need ``--at``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from kunren.errors import UsageError
from kunren.record.eventlog import EventLog
from kunren.record.events import DrillResumed, DrillStarted, Event
from kunren.runtime.clock import wall_now


class AttachedClock:
    """A clock derived from the record; ``now()`` follows the running drill's time."""

    def __init__(self, anchor_at: float, anchor_wall: datetime, speed: float) -> None:
        self.speed = speed
        self._anchor_at = anchor_at
        self._anchor_wall = anchor_wall

    def now(self) -> float:
        return self._anchor_at + (wall_now() - self._anchor_wall).total_seconds() * self.speed

    def wall(self) -> datetime:
        return wall_now()

    async def sleep_until(self, drill_time: float) -> None:
        raise NotImplementedError("an attached clock does not wait")

    async def sleep(self, seconds: float) -> None:
        raise NotImplementedError("an attached clock does not wait")

    def real_seconds(self, drill_seconds: float) -> float:
        return drill_seconds / self.speed

    def rezero(self) -> None:
        """An attached clock follows the record; it cannot be re-zeroed."""

    @contextmanager
    def busy(self) -> Iterator[None]:
        yield


def attached_clock(events: list[Event]) -> AttachedClock | None:
    """The drill's clock as seen from outside, or None when it cannot be derived (virtual)."""
    started = next((e for e in events if isinstance(e, DrillStarted)), None)
    if started is None:
        raise UsageError("this drill has no drill.started event")
    if started.clock == "virtual":
        return None
    anchor: Event = started
    speed = started.speed
    for event in events:
        if isinstance(event, DrillResumed):
            anchor = event
            speed = event.speed if event.speed is not None else speed  # resume --speed
    return AttachedClock(anchor.at, datetime.fromisoformat(anchor.wall), speed)


def open_drill(drill: str | Path, drills_root: Path | None = None) -> EventLog:
    """A drill given as a folder path, or as a drill id inside ``drills_root`` (./drills)."""
    path = Path(drill)
    if not path.is_dir() and drills_root is not None and (drills_root / str(drill)).is_dir():
        path = drills_root / str(drill)
    if not (path / "events.jsonl").is_file():
        raise UsageError(f"{drill}: not a drill folder (no events.jsonl)")
    return EventLog(path)
