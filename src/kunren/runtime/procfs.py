"""Reading /proc: which processes run, since when, with which command line.

Process faults are reverted from a JSON handle, possibly by a new kunren process long after
the fault fired. A bare pid is not enough to find the same process again (pids are reused),
so every pid kunren acts on is recorded with its start time from ``/proc/PID/stat``, and a
revert only signals a pid whose start time still matches.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class ProcInfo:
    """One running process, identified by pid and start time (clock ticks since boot)."""

    pid: int
    start: int
    ppid: int
    state: str
    command: str
    pgid: int = 0  # process group: services run in their own, signalled as one
    sid: int = 0

    @property
    def label(self) -> str:
        command = " ".join(self.command.split())  # one line, even for `python -c` scripts
        command = command if len(command) <= 80 else command[:77] + "..."
        return f"pid {self.pid} ({command})" if command else f"pid {self.pid}"


def read(pid: int) -> ProcInfo | None:
    """The process ``pid`` as /proc shows it now, or None when it does not exist."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
        raw = (PROC / str(pid) / "cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    except OSError:
        return None
    # The command name in field 2 may hold spaces and parentheses: split after the last ')'.
    fields = stat[stat.rfind(")") + 2 :].split()
    if len(fields) < 20:
        return None
    command = " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part)
    return ProcInfo(
        pid=pid,
        start=int(fields[19]),
        ppid=int(fields[1]),
        state=fields[0],
        command=command,
        pgid=int(fields[2]),
        sid=int(fields[3]),
    )


def alive(pid: int, start: int | None = None) -> ProcInfo | None:
    """The process if it still runs (not a zombie) and, given ``start``, is the same one."""
    info = read(pid)
    if info is None or info.state in ("Z", "X"):
        return None
    if start is not None and info.start != start:
        return None
    return info


def ancestors(pid: int) -> set[int]:
    """``pid`` and every parent up to init: processes kunren must never signal itself."""
    seen: set[int] = set()
    current = pid
    for _ in range(4096):
        if current <= 0 or current in seen:
            break
        seen.add(current)
        info = read(current)
        if info is None:
            break
        current = info.ppid
    return seen


def group(pgid: int) -> list[ProcInfo]:
    """Live members of process group ``pgid``, by pid.

    Linux never hands out a pid that is still some live process's group id, so while any
    member lives, every process in group ``pgid`` descends from the one that made it.
    """
    return sorted((info for info in running() if info.pgid == pgid), key=lambda i: i.pid)


def start_time(pid: int) -> int | None:
    """The start time of ``pid`` (clock ticks since boot), or None when it does not run."""
    info = alive(pid)
    return info.start if info is not None else None


def running() -> Iterator[ProcInfo]:
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            info = alive(int(entry.name))
            if info is not None:
                yield info


def matching(pattern: str) -> list[ProcInfo]:
    """Live processes whose command line matches ``pattern`` (re.search), never ourselves,
    our parents, or kernel threads (which have no command line)."""
    regex = re.compile(pattern)
    excluded = ancestors(os.getpid())
    return sorted(
        (
            info
            for info in running()
            if info.command and info.pid not in excluded and regex.search(info.command)
        ),
        key=lambda info: info.pid,
    )
