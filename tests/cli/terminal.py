"""A real ``kunren`` command in a pseudo-terminal, and the screen it draws.

The live console only draws its status line when its output is a terminal, so these tests
give it one (``os.openpty``) and replay what it wrote: a line ends at a newline, and the
console's erase-line control (carriage return, ``ESC [2K``) wipes the line being drawn. What
is left unterminated at the bottom is the status line as a person sees it now.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kunren.runtime.clock import monotonic
from kunren.testing import KUNREN

CONTROL = re.compile(r"(\r\x1b\[2K|\n)")


@dataclass(frozen=True)
class Screen:
    lines: list[str]  # finished lines, top to bottom
    status: str  # the line being drawn at the bottom


def replay(text: str) -> Screen:
    lines: list[str] = []
    current = ""
    for part in CONTROL.split(text.replace("\r\n", "\n")):
        if part == "\n":
            lines.append(current)
            current = ""
        elif part == "\r\x1b[2K":
            current = ""
        else:
            current += part
    return Screen(lines, current)


class Terminal:
    """``kunren ARGS`` with a pseudo-terminal as its stdin, stdout and stderr."""

    def __init__(self, args: list[str], cwd: Path) -> None:
        master, slave = os.openpty()
        env = {**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1", "TERM": "xterm"}
        self.proc = subprocess.Popen(
            [*KUNREN, *args], cwd=cwd, stdin=slave, stdout=slave, stderr=slave, env=env
        )
        os.close(slave)
        self._master = master
        self._data = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._master, 4096)
            except OSError:  # EIO: the command closed the terminal
                return
            if not chunk:
                return
            with self._lock:
                self._data += chunk

    @property
    def text(self) -> str:
        with self._lock:
            return self._data.decode("utf-8", errors="replace")

    def screen(self) -> Screen:
        return replay(self.text)

    def wait_for(self, condition: Callable[[Screen], bool], timeout: float = 30.0) -> Screen:
        """Poll the screen until ``condition`` holds; AssertionError with the output if not."""
        deadline = monotonic() + timeout
        while monotonic() < deadline:
            screen = self.screen()
            if condition(screen):
                return screen
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            threading.Event().wait(0.02)
        screen = self.screen()
        if not condition(screen):
            raise AssertionError("not on screen; it shows:\n" + "\n".join(screen.lines))
        return screen

    def finish(self, timeout: float = 60.0) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self._reader.join(5)
            if self._master >= 0:
                os.close(self._master)
                self._master = -1
