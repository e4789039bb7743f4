"""Stamping events with the drill clock before they go into the log.

Everything that records during a drill (the conductor, the participant page, the notice flow)
goes through a ``Recorder``: it sets ``at`` (drill time) and ``wall`` from the one drill clock
and appends through the ``EventLog``, which assigns ``seq`` and fsyncs.
"""

from __future__ import annotations

from typing import TypeVar, cast

from kunren.drills.clock import Clock
from kunren.drills.eventlog import EventLog
from kunren.drills.events import Event

E = TypeVar("E", bound=Event)


class Recorder:
    def __init__(self, log: EventLog, clock: Clock) -> None:
        self.log = log
        self.clock = clock

    def stamp(self, event: E, at: float | None = None) -> E:
        drill_time = self.clock.now() if at is None else at
        stamped = event.model_copy(
            update={"at": round(drill_time, 3), "wall": self.clock.wall().isoformat()}
        )
        return cast(E, stamped)

    def record(self, event: E, at: float | None = None) -> E:
        """Append ``event`` stamped now (or at drill time ``at``); returns it with its seq."""
        return cast(E, self.log.append(self.stamp(event, at)))  # append keeps the class
