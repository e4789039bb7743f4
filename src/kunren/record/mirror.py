"""A drill's record in memory, kept up to date by reading only what was appended.

The live console, the participant page and ``kunren watch`` all follow a record that other
processes append to. It lives here, in the record layer, so that following a record does not
import the page (``kunren.page``: its options, tokens and server, ~5 ms of a tiny run).
"""

from __future__ import annotations

import bisect
import os
from pathlib import Path

from pydantic import ValidationError

from kunren.errors import EventLogError
from kunren.record.events import Event, parse_event


class LogMirror:
    """The log's events in memory, reading only what was appended since the last look.

    Other writers (``kunren mark`` in another terminal) append to the same file, so the
    file, not our own writes, is what we mirror. A torn last line is left for later.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._events: list[Event] = []

    def since(self, after: int) -> list[Event]:
        """Events with ``seq > after``, after reading what was appended."""
        events = self.refresh()
        return events[bisect.bisect_right(events, after, key=lambda event: event.seq) :]

    def refresh(self) -> list[Event]:
        try:
            size = os.path.getsize(self.path)
        except FileNotFoundError as exc:
            raise EventLogError(f"{self.path}: no event log here") from exc
        if size < self._offset:  # cut by a torn-tail repair: read again from the start
            self._offset, self._events = 0, []
        if size == self._offset:
            return self._events
        with open(self.path, "rb") as log:
            log.seek(self._offset)
            data = log.read(size - self._offset)
        complete = data[: data.rfind(b"\n") + 1]
        for line in complete.splitlines():
            if line.strip():
                try:
                    self._events.append(parse_event(line))
                except ValidationError as exc:
                    last = self._events[-1].seq if self._events else 0
                    raise EventLogError(f"{self.path}: unreadable event after seq {last}") from exc
        self._offset += len(complete)
        return self._events
