"""Helpers for tests that run the real `kunren` command in a child process."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from kunren.drills.clock import monotonic

KUNREN = [sys.executable, "-m", "kunren"]
ACK = re.compile(r"^\[[0-9:]+\] #(\d+)\s")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Child:
    """A running kunren command whose output lines are collected as they arrive."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        self.proc = subprocess.Popen(
            [*KUNREN, *args],
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, condition: Callable[[list[str]], bool], timeout: float = 30.0) -> None:
        deadline = monotonic() + timeout
        while monotonic() < deadline:
            if condition(list(self.lines)):
                return
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            threading.Event().wait(0.01)
        if not condition(list(self.lines)):
            raise AssertionError("condition not met; output:\n" + "\n".join(self.lines))

    def acknowledged(self) -> list[int]:
        return [int(m.group(1)) for line in self.lines if (m := ACK.match(line))]

    def kill(self, sig: int = signal.SIGKILL) -> None:
        self.proc.send_signal(sig)

    def finish(self, timeout: float = 60.0) -> int:
        try:
            code = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(5)
        return code


def run(args: list[str], cwd: Path, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KUNREN, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
