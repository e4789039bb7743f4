"""Joining a drill from outside the conductor: ``kunren mark``/``note``/``amend``/``notify``.

Such a command has no running clock of its own, so it reconstructs the drill time from the
record: the last ``drill.started`` or ``drill.resumed`` event anchors (drill time, wall time)
and the drill's speed (the one ``kunren resume --speed`` gave, if any), and "now" is that
anchor plus the wall time passed since, times speed.
A drill on the virtual clock has no "now" a person can share: those commands need ``--at``.

``entry_clock`` is the one rule every such command stamps by, so a mark and a notice given
the same ``--at`` get the same drill time *and* the same wall time. It also holds the drill's
end: once a drill has ended, input is refused unless the person says it is a late entry
(``--late``), which is then recorded as late, never silently dropped by the scorer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from kunren.durations import format_clock
from kunren.errors import UsageError
from kunren.record.eventlog import EventLog
from kunren.record.events import DrillAborted, DrillEnded, DrillResumed, DrillStarted, Event
from kunren.runtime.clock import Clock, VirtualClock, wall_now


class AttachedClock:
    """A clock derived from the record; ``now()`` follows the running drill's time.

    ``limit`` holds drill time at the drill's end: a revert after a crash an hour later is
    stamped at the end of the drill, not at a drill time the drill never had.
    """

    def __init__(
        self, anchor_at: float, anchor_wall: datetime, speed: float, limit: float | None = None
    ) -> None:
        self.speed = speed
        self._anchor_at = anchor_at
        self._anchor_wall = anchor_wall
        self._limit = limit

    def now(self) -> float:
        now = self._anchor_at + (wall_now() - self._anchor_wall).total_seconds() * self.speed
        return now if self._limit is None else min(now, self._limit)

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


def first_start(events: Sequence[Event]) -> DrillStarted | None:
    """The record's ``drill.started``, or None when it was never written."""
    return next((e for e in events if isinstance(e, DrillStarted)), None)


def drill_started(events: Sequence[Event]) -> DrillStarted:
    started = first_start(events)
    if started is None:
        raise UsageError("this drill has no drill.started event")
    return started


def drill_end(events: Sequence[Event]) -> DrillEnded | DrillAborted | None:
    """The event that ended the drill, if the record has one."""
    return next((e for e in events if isinstance(e, DrillEnded | DrillAborted)), None)


def attached_clock(events: Sequence[Event], limit: float | None = None) -> AttachedClock | None:
    """The drill's clock as seen from outside, or None when it cannot be derived (virtual)."""
    started = drill_started(events)
    if started.clock == "virtual":
        return None
    anchor: Event = started
    speed = started.speed
    for event in events:
        if isinstance(event, DrillResumed):
            anchor = event
            speed = event.speed if event.speed is not None else speed  # resume --speed
    return AttachedClock(anchor.at, datetime.fromisoformat(anchor.wall), speed, limit)


def end_time(events: Sequence[Event]) -> float:
    """Where the drill stops (or will): its end event, else its scheduled duration."""
    ended = drill_end(events)
    return ended.at if ended is not None else drill_started(events).duration


def recovery_clock(events: Sequence[Event]) -> Clock:
    """A clock for recording recovery events (revert after a crash): the drill's own time,
    never past its end; on the virtual clock, the last event's time. A record whose start was
    never written (its first fsync failed) gives drill time 0."""
    if first_start(events) is None:
        return VirtualClock(start=0.0)
    limit = end_time(events)
    attached = attached_clock(events, limit=limit)
    if attached is not None:
        return attached
    last = events[-1].at if events else 0.0
    return VirtualClock(start=min(last, limit))


def wall_at(events: Sequence[Event], at: float) -> datetime:
    """The wall time of drill time ``at``: from the last start or resume before it."""
    started = drill_started(events)
    anchor: Event = started
    for event in events:
        if isinstance(event, DrillResumed) and event.at <= at:
            anchor = event
    speed = started.speed if started.clock != "virtual" and started.speed > 0 else 1.0
    return datetime.fromisoformat(anchor.wall) + timedelta(seconds=(at - anchor.at) / speed)


@dataclass(frozen=True)
class Entry:
    """How to stamp one entry from outside the conductor: its clock, and whether it is late."""

    clock: Clock
    late: bool


def entry_clock(
    events: Sequence[Event],
    at: float | None,
    *,
    late: bool = False,
    need_time: bool = True,
    what: str = "this entry",
    late_allowed: bool = True,
) -> Entry:
    """The clock an entry recorded now (or at drill time ``at``) is stamped with.

    ``need_time``: the entry means "it happened then" (a mark, a notice), so a drill without a
    shareable now (virtual clock, or ended) needs ``--at``; a note or an amendment does not.
    ``late_allowed``: False for what cannot be a retro entry (sending a notice).
    Raises UsageError, before anything is written, when the entry cannot be placed honestly.
    """
    started = drill_started(events)
    ended = drill_end(events)
    limit = end_time(events)
    attached = attached_clock(events)
    over = ended is not None or (attached is not None and attached.now() > started.duration)
    if at is not None and at > limit:
        raise UsageError(
            f"--at {format_clock(at)} is after the drill's end at {format_clock(limit)}; "
            "nothing was recorded"
        )
    if over and not late:
        ended_at = f"drill {started.drill} {_ended_words(ended)} at {format_clock(limit)}"
        if not late_allowed:
            raise UsageError(f"{ended_at}: {what} would come after its end; nothing was done")
        if at is None and need_time:
            hint = "give the drill time it happened and say it is late: --at TIME --late"
        else:
            hint = "add --late to record it as a late entry"
        raise UsageError(
            f"{ended_at}: {what} would be recorded after its end, so nothing was recorded; {hint}"
        )
    if late and not over:
        raise UsageError("--late is for a drill that has ended; this one is still running")
    if over and need_time and at is None:
        raise UsageError(f"--late needs --at: the drill time {what} happened")
    if at is None and over:
        at = limit  # a late note or amendment: stamped at the drill's end, marked late
    if at is not None:
        return Entry(VirtualClock(start=at, wall_start=wall_at(events, at)), over)
    if attached is not None:
        return Entry(attached, False)
    if need_time:
        raise UsageError("this drill runs on the virtual clock: give the drill time with --at")
    last = min(events[-1].at if events else 0.0, limit)
    return Entry(VirtualClock(start=last, wall_start=wall_at(events, last)), False)


def _ended_words(ended: DrillEnded | DrillAborted | None) -> str:
    match ended:
        case DrillEnded():
            return f"ended (#{ended.seq})"
        case DrillAborted():
            return f"was aborted (#{ended.seq})"
        case None:
            return "ran out of time (no conductor recorded its end)"


def find_drill(drill: str | Path, drills_root: Path | None = None) -> Path:
    """A drill given as a folder path, or as a drill id inside ``drills_root`` (./drills)."""
    path = Path(drill)
    if (path / "events.jsonl").is_file():
        return path
    if drills_root is not None and (drills_root / str(drill) / "events.jsonl").is_file():
        return drills_root / str(drill)
    if path.is_dir():
        raise UsageError(f"{drill}: not a drill folder (no events.jsonl)")
    if drills_root is None:
        raise UsageError(f"{drill}: no such drill folder")
    raise UsageError(
        f"{drill}: no such drill (not a folder, and no drill of that id in {drills_root}/)"
    )


def open_drill(drill: str | Path, drills_root: Path | None = None) -> EventLog:
    """The event log of a drill named by folder or by id (see ``find_drill``)."""
    return EventLog(find_drill(drill, drills_root))
