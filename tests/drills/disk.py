"""Real write failures for child ``kunren`` processes: RLIMIT_FSIZE, and a small tmpfs as root.

``RLIMIT_FSIZE`` set in the child (with SIGXFSZ ignored, so a write past it fails with EFBIG
instead of killing the process) makes every file it writes stop growing at ``limit`` bytes,
which is what a full disk looks like to the event log. As root, ``tmpfs`` mounts a real file
system that runs out of space (ENOSPC).
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.trials import run_kunren

from kunren.runtime import procfs
from kunren.runtime.clock import monotonic

__all__ = ["can_mount_tmpfs", "fill", "run_limited", "tmpfs", "wait_state"]

run_limited = run_kunren  # `kunren ARGS` to its end, files capped at ``limit`` bytes (None: no cap)


@contextmanager
def tmpfs(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``path`` for the block (check ``can_mount_tmpfs`` first)."""
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def can_mount_tmpfs(scratch: Path) -> bool:
    if os.geteuid() != 0:
        return False
    scratch.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(scratch)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        return False
    subprocess.run(["umount", str(scratch)], check=False)
    return True


def fill(folder: Path) -> None:
    """Write a file into ``folder`` until its file system says no space is left."""
    block = b"\0" * 4096
    with open(folder / "filler", "wb", buffering=0) as out:
        for _ in range(1 << 20):
            try:
                out.write(block)
            except OSError:
                return
    raise AssertionError(f"{folder} never filled up")


def wait_state(pid: int, wanted: Callable[[str | None], bool], timeout: float = 10.0) -> str | None:
    """Poll /proc until the process state satisfies ``wanted`` (signals are asynchronous)."""
    deadline = monotonic() + timeout
    while True:
        info = procfs.read(pid)
        state = info.state if info is not None else None
        if wanted(state) or monotonic() > deadline:
            return state
        threading.Event().wait(0.01)
