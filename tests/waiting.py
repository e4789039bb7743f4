"""Waiting in tests for what happens asynchronously (threads, processes, signals, servers):
polled against a deadline in real time, never a fixed sleep."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from kunren.runtime.clock import monotonic

T = TypeVar("T")


def until(
    condition: Callable[[], bool],
    timeout: float = 30.0,
    what: str = "the condition",
    every: float = 0.001,
) -> None:
    """Poll ``condition()`` every ``every`` seconds until true; fail after ``timeout``."""
    poll(lambda: True if condition() else None, timeout, what, every)


def poll(check: Callable[[], T | None], timeout: float, what: str, every: float = 0.1) -> T:
    """``check()`` until it returns something (not None), which is returned; fail after
    ``timeout``."""
    deadline = monotonic() + timeout
    while True:
        found = check()
        if found is not None:
            return found
        if monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        threading.Event().wait(every)
