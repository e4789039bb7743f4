"""Stamping events with the drill clock before they go into the log.

Everything that records during a drill (the conductor, the participant page, the notice flow)
goes through a ``Recorder``: it sets ``at`` (drill time) and ``wall`` from the one drill clock
and appends through the ``EventLog``, which assigns ``seq`` and fsyncs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from kunren.record.eventlog import EventLog
from kunren.record.events import Event
from kunren.runtime.clock import Clock

E = TypeVar("E", bound=Event)


class Recorder:
    def __init__(
        self, log: EventLog, clock: Clock, on_record: Callable[[Event], None] | None = None
    ) -> None:
        self.log = log
        self.clock = clock
        self.on_record = on_record  # e.g. the conductor's live console

    def stamp(self, event: E, at: float | None = None) -> E:
        drill_time = self.clock.now() if at is None else at
        stamped = event.model_copy(
            update={"at": round(drill_time, 3), "wall": self.clock.wall().isoformat()}
        )
        return cast(E, stamped)

    def record(self, event: E, at: float | None = None) -> E:
        """Append ``event`` stamped now (or at drill time ``at``); returns it with its seq."""
        written = cast(E, self.log.append(self.stamp(event, at)))  # append keeps the class
        if self.on_record is not None:
            self.on_record(written)
        return written
