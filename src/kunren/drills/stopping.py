"""Stopping a running conductor from another process (``kunren abort``).

The conductor reverts everything when it gets SIGTERM; the caller waits until it has finished
(its pid file is gone), so "aborted" is only said once the faults are undone. The reason and
who asked travel beside the signal (``abort-request.json``), so ``drill.aborted`` records them.
Nothing is signalled before it is checked to be that drill's conductor (pid, start time, drill
id: ``kunren.drills.identity``). Kept here, not in the CLI, so every caller signals and waits
the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from kunren.drills.abort_request import AbortRequest, write_request
from kunren.drills.identity import live_conductor, signal_conductor
from kunren.errors import KunrenError
from kunren.runtime.clock import blocking_sleep, monotonic

POLL_EVERY = 0.1  # real seconds between looks at the conductor

Stopped = Literal["stopped", "already finished"]


def stop_conductor(drill_dir: Path, request: AbortRequest, wait_seconds: float) -> Stopped | None:
    """Ask the conductor running ``drill_dir`` to abort (``request``: why, who) and wait while
    it reverts.

    Returns "stopped" once it has finished, "already finished" when it ended the drill before
    the signal reached it, or None when no conductor runs the drill (then the caller reverts
    from the record). Raises KunrenError if it is still running after ``wait_seconds``.
    """
    conductor = live_conductor(drill_dir)
    if conductor is None:
        return None
    write_request(drill_dir, request)
    # signal_conductor checks pid and start time again: never a process that merely
    # inherited the pid since.
    if not signal_conductor(conductor):
        return "already finished"
    deadline = monotonic() + wait_seconds
    while monotonic() < deadline and live_conductor(drill_dir) == conductor:
        blocking_sleep(POLL_EVERY)
    if live_conductor(drill_dir) == conductor:
        raise KunrenError(
            f"the conductor (pid {conductor.pid}) has not finished after {wait_seconds:g}s"
        )
    return "stopped"
