"""Stopping a running conductor from another process (``kunren abort``).

The conductor reverts everything when it gets SIGTERM; the caller waits until it has finished
(its pid file is gone), so "aborted" is only said once the faults are undone. Kept here, not in
the CLI, so every caller signals and waits the same way.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from kunren.drills.recovery import conductor_alive
from kunren.errors import KunrenError
from kunren.runtime.clock import blocking_sleep, monotonic

POLL_EVERY = 0.1  # real seconds between looks at the conductor


def stop_conductor(drill_dir: Path, wait_seconds: float) -> int | None:
    """SIGTERM the conductor running ``drill_dir`` and wait while it reverts.

    Returns its pid once it has finished, or None when no conductor runs the drill (then the
    caller reverts from the record). Raises KunrenError if it is still running after
    ``wait_seconds``.
    """
    pid = conductor_alive(drill_dir)
    if pid is None:
        return None
    os.kill(pid, signal.SIGTERM)
    deadline = monotonic() + wait_seconds
    while monotonic() < deadline and conductor_alive(drill_dir) == pid:
        blocking_sleep(POLL_EVERY)
    if conductor_alive(drill_dir) == pid:
        raise KunrenError(f"the conductor (pid {pid}) has not finished after {wait_seconds:g}s")
    return pid
