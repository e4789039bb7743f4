"""Waiting for something unless the drill is being stopped: the stop signal wins at once.

A stop signal (SIGTERM, SIGHUP, Ctrl-C) only sets the conductor's abort event; a phase that
waits on something slow (a service's ready URL, Locust's workers connecting) must notice it
while it waits, not after: a SIGTERM during a 23-second ready wait was ignored until the
service was ready.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def unless_set(work: Awaitable[T], stop: asyncio.Event | None) -> T | None:
    """``await work``, or None as soon as ``stop`` is set (the work is then cancelled, and
    its own cleanup runs before this returns)."""
    task = asyncio.ensure_future(work)
    if stop is None:
        return await task
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopped = stopper in done
    for pending in (task, stopper):
        if pending not in done:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending
    return None if stopped else task.result()
