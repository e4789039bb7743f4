"""``asyncio.run`` for a drill, except that plugin code left running cannot keep the process.

At its end ``asyncio.run`` cancels every task still pending and waits for all of them, however
long. A plugin call that timed out and ignored its cancellation (a bare ``except:`` around an
await, in a retry loop) is such a task: the drill has ended, every fault is reverted and the
record closed, and the command would still never exit. Here the leftovers are cancelled and
given ``SHUTDOWN_GRACE`` real seconds; whatever is still running then is left behind with the
loop. Threads started through ``asyncio.to_thread`` are still waited for, as ``asyncio.run``
does (Python cannot stop a thread): blocking plugin code belongs in a plain ``def`` method,
which the plugin seam runs in a daemon thread of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

SHUTDOWN_GRACE = 5.0  # real seconds leftover tasks get to end once the drill's work is done


def run(main: Coroutine[Any, Any, T], grace: float = SHUTDOWN_GRACE) -> T:
    """Run ``main`` in a new event loop and close the loop; leftovers get ``grace`` seconds."""
    loop = asyncio.new_event_loop()
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(main)
    finally:
        try:
            _leave_behind(loop, _cancel_leftovers(loop, grace))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def _cancel_leftovers(loop: asyncio.AbstractEventLoop, grace: float) -> set[asyncio.Task[Any]]:
    """Cancel what is still pending; returns what did not end within the grace."""
    leftovers = asyncio.all_tasks(loop)
    if not leftovers:
        return set()
    for task in leftovers:
        task.cancel()
    done, pending = loop.run_until_complete(asyncio.wait(leftovers, timeout=grace))
    for task in done:  # retrieved, so asyncio does not log them as never retrieved
        if not task.cancelled():
            task.exception()
    return pending


def _leave_behind(loop: asyncio.AbstractEventLoop, pending: set[asyncio.Task[Any]]) -> None:
    """Tasks left behind are destroyed with the loop: asyncio would log each ("Task was
    destroyed but it is pending!") though the record already says which call was abandoned."""

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if context.get("task") not in pending:
            loop.default_exception_handler(context)

    if pending:
        loop.set_exception_handler(handler)
