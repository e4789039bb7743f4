"""Who the conductor of a drill is: ``drills/<id>/conductor.pid``, and how to trust it.

A bare pid is not an identity: pids wrap in minutes on a busy host, so a pid file left by a
conductor killed with SIGKILL soon names some unrelated process. ``kill(pid, 0)`` on it made
``kunren revert`` refuse ("still running") and ``kunren abort`` SIGTERM a stranger. The file
therefore holds the pid, the process start time from /proc and the drill id, and nothing
trusts or signals the pid until all three still match: the process with that pid started at
that moment, and the file names this drill.

A conductor that ends because its record refused a write (a full disk) cannot record
``drill.aborted``, so the record alone looks like a crash, which ``kunren resume`` would carry
on. It therefore renames its pid file to ``record.lost`` as it leaves: a rename needs no new
data on disk, and a crashed conductor (SIGKILL) leaves ``conductor.pid`` instead, so the two
ends stay apart. ``kunren resume`` refuses such a drill; ``kunren revert`` records its end.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from kunren.errors import KunrenError
from kunren.runtime import procfs

PID_FILE = "conductor.pid"
RECORD_LOST_FILE = "record.lost"  # the conductor left because the record refused a write


@dataclass(frozen=True)
class ConductorIdentity:
    """One conductor process: its pid, its start time (ticks since boot), its drill."""

    pid: int
    start: int
    drill: str

    def to_text(self) -> str:
        return json.dumps({"pid": self.pid, "start": self.start, "drill": self.drill}) + "\n"


def this_process(drill_id: str) -> ConductorIdentity:
    """The identity of the running process as the conductor of ``drill_id``."""
    pid = os.getpid()
    start = procfs.start_time(pid)
    if start is None:  # /proc not mounted: nothing could check the file, say so now
        raise KunrenError(f"cannot read /proc/{pid}/stat: kunren needs /proc to run a drill")
    return ConductorIdentity(pid=pid, start=start, drill=drill_id)


def write_identity(drill_dir: Path, identity: ConductorIdentity) -> None:
    """Write the pid file atomically (a reader never sees half of it)."""
    path = drill_dir / PID_FILE
    partial = path.with_name(f".{PID_FILE}.{identity.pid}")
    partial.write_text(identity.to_text(), encoding="utf-8")
    os.replace(partial, path)


def remove_identity(drill_dir: Path, identity: ConductorIdentity) -> None:
    """Remove the pid file if it is still ours (a later conductor may have replaced it)."""
    if read_identity(drill_dir) == identity:
        with contextlib.suppress(FileNotFoundError):
            (drill_dir / PID_FILE).unlink()


def mark_record_lost(drill_dir: Path, identity: ConductorIdentity) -> bool:
    """Leave ``record.lost`` in place of our pid file (see the module docstring); False when
    the pid file is not ours or the rename failed (the pid file is then removed as usual)."""
    if read_identity(drill_dir) == identity:
        try:
            os.replace(drill_dir / PID_FILE, drill_dir / RECORD_LOST_FILE)
        except OSError:
            remove_identity(drill_dir, identity)
            return False
        return True
    return False


def record_was_lost(drill_dir: Path) -> bool:
    """True when the drill's conductor stopped it because the record could not be written."""
    return (drill_dir / RECORD_LOST_FILE).exists()


def read_identity(drill_dir: Path) -> ConductorIdentity | None:
    """What the pid file says, or None when there is none or it cannot be an identity
    (an old bare-pid file carries no start time, so it can never be trusted)."""
    try:
        data = json.loads((drill_dir / PID_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    pid, start, drill = data.get("pid"), data.get("start"), data.get("drill")
    if not isinstance(pid, int) or not isinstance(start, int) or not isinstance(drill, str):
        return None
    if isinstance(pid, bool) or pid <= 1:
        return None
    return ConductorIdentity(pid=pid, start=start, drill=drill)


def live_conductor(drill_dir: Path, drill_id: str | None = None) -> ConductorIdentity | None:
    """The conductor still running this drill, checked: same pid, same start time, same
    drill (``drill_id``, by default the folder's name). None for a stale or foreign file."""
    identity = read_identity(drill_dir)
    if identity is None or identity.drill != (drill_id or drill_dir.resolve().name):
        return None
    if procfs.alive(identity.pid, identity.start) is None:
        return None
    return identity


def signal_conductor(identity: ConductorIdentity, signum: int = signal.SIGTERM) -> bool:
    """Send ``signum`` to the conductor if it is still exactly that process; False if gone.

    The start time is checked again right before the signal, so a conductor that ended (and
    whose pid was reused) between the caller's check and now is not signalled.
    """
    if procfs.alive(identity.pid, identity.start) is None:
        return False
    try:
        os.kill(identity.pid, signum)
    except ProcessLookupError:
        return False
    return True
