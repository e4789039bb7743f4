"""Helpers for tests that run the real `kunren` command in a child process."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kunren.testing import ACK, KUNREN, free_port
from kunren.testing import KunrenProcess as Child

__all__ = ["ACK", "KUNREN", "Child", "free_port", "run"]


def run(args: list[str], cwd: Path, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KUNREN, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
