"""A recorder that survives its disk: a write that fails is remembered, never a crash.

Safety comes before the record. When ``events.jsonl`` cannot be written (ENOSPC, EIO, EFBIG,
or a tail another writer left unreadable), the conductor must still undo every fault it knows
from memory, and say afterwards what it did and what the record is missing. So the first
failed write is kept as a ``RecordWriteError`` and raised to the caller (an act whose intent
is not on disk must not happen: the write-ahead rule), the owner is told once (the conductor
aborts), and from then on nothing more is tried: later events are stamped and kept in
``unrecorded``, so a half-written line is never followed by more lines, and the user is told
exactly which events are missing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from kunren.errors import EventLogError, RecordWriteError
from kunren.record.eventlog import EventLog, write_error
from kunren.record.events import Event
from kunren.record.recorder import Recorder
from kunren.runtime.clock import Clock

E = TypeVar("E", bound=Event)


class GuardedRecorder(Recorder):
    """A ``Recorder`` whose failed writes become one ``RecordWriteError`` and a list of losses."""

    def __init__(
        self,
        log: EventLog,
        clock: Clock,
        on_record: Callable[[Event], None] | None = None,
        on_lost: Callable[[RecordWriteError], None] | None = None,
    ) -> None:
        super().__init__(log, clock, on_record)
        self.on_lost = on_lost
        self.lost: RecordWriteError | None = None
        self.unrecorded: list[Event] = []

    def record(self, event: E, at: float | None = None) -> E:
        """Append ``event``; raises ``RecordWriteError`` (and keeps the event) if it cannot."""
        if self.lost is not None:
            self.unrecorded.append(self.stamp(event, at))
            raise self.lost
        stamped = self.stamp(event, at)
        try:
            written = cast(E, self.log.append(stamped))  # append keeps the class
        except (OSError, EventLogError) as exc:
            self.unrecorded.append(stamped)
            self.lost = _lost(self.log, exc)
            if self.on_lost is not None:
                self.on_lost(self.lost)
            raise self.lost from exc
        if self.on_record is not None:  # outside the try: a console that fails is not the disk
            self.on_record(written)
        return written

    def try_record(self, event: Event, at: float | None = None) -> bool:
        """Record if the record can still be written; False (the event kept aside) if not.

        For what must happen whether or not it can be recorded: a revert, a service stopped.
        """
        try:
            self.record(event, at)
        except RecordWriteError:
            return False
        return True

    def unrecorded_lines(self) -> list[str]:
        """Each event the record is missing, in words (``fault.reverted freeze``)."""
        return [describe(event) for event in self.unrecorded]


def describe(event: Event) -> str:
    """``type subject`` for an event: enough to tell the user what the record lacks."""
    for name in ("fault", "probe", "name", "runbook", "text"):
        value = getattr(event, name, None)
        if isinstance(value, str) and value:
            return f"{event.type} {value}" if len(value) <= 60 else f"{event.type} {value[:57]}…"
    return event.type


def _lost(log: EventLog, exc: OSError | EventLogError) -> RecordWriteError:
    if isinstance(exc, OSError):  # the log translates its own; this is for a foreign one
        return write_error(log.path, exc)
    if isinstance(exc, RecordWriteError):
        return RecordWriteError(exc.message, exc.errno)
    return RecordWriteError(f"cannot write the record: {exc.message}")
