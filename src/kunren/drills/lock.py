"""One drill, one conductor: an exclusive ``flock`` on ``drills/<id>/conductor.lock``.

Two ``kunren resume`` started at once both ran the rest of the drill into one record
(injects, milestones and ``drill.ended`` twice). The pid file cannot prevent that: two
processes can both find it stale and both write it. A ``flock`` can: the kernel gives it to
one open file at a time, and drops it when its holder dies, even by SIGKILL, so a crashed
conductor never leaves the drill locked. ``kunren run`` and ``kunren resume`` hold it for the
drill's whole life, ``kunren revert`` while it reverts; a second one is refused before it
writes anything.

The lock is a file of its own, not the event log's ``.events.lock``: that one is taken for
each append by every writer (``kunren mark``, the page) and must stay short.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from kunren.drills.identity import live_conductor, read_identity
from kunren.errors import UsageError

LOCK_FILE = "conductor.lock"


class DrillBusyError(UsageError):
    """Another kunren process is running (or reverting) this drill right now."""


class DrillLock:
    """The drill's conductor lock, held from ``acquire()`` to ``release()`` (or the ``with``)."""

    def __init__(self, drill_dir: Path) -> None:
        self.drill_dir = drill_dir
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> DrillLock:
        """Take the lock without waiting; DrillBusyError (exit 2) when another holds it."""
        if self._fd is not None:
            return self
        path = self.drill_dir / LOCK_FILE
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise UsageError(f"{path}: cannot open the drill's lock: {exc.strerror}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DrillBusyError(self._busy_message()) from None
        self._fd = fd
        return self

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> DrillLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def _busy_message(self) -> str:
        name = self.drill_dir.resolve().name
        running = live_conductor(self.drill_dir)
        if running is not None:
            who = f"its conductor (pid {running.pid}) is running it"
        elif read_identity(self.drill_dir) is not None:
            who = "another kunren process holds it (a conductor starting or finishing)"
        else:
            who = "another kunren process (run, resume or revert) holds it"
        return (
            f"drill {name} is busy: {who}; nothing was done. "
            f"Use `kunren abort {name}` to stop it, or wait for it to finish"
        )
