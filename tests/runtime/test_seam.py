"""The plugin seam's time limit, in this process: a call that never returns comes out as
``PluginTimedOut`` naming the call, whether it awaits forever or blocks a thread forever, and a
``TimeoutError`` the plugin raises itself is its own failure, not the limit."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import cast

import pytest

from kunren.drills import loop
from kunren.runtime.seam import LIMITS, PluginFailed, PluginRef, PluginTimedOut, call, limit_for

REF = PluginRef("kunren.injectors", "testing.marker")


def plain(method: Callable[..., str]) -> Callable[..., Awaitable[str]]:
    """A plain ``def`` where the plugin base declares ``async def``, as foreign code may."""
    return cast(Callable[..., Awaitable[str]], method)


class Plugin:
    def __init__(self) -> None:
        self.release = threading.Event()

    async def awaits_forever(self) -> str:
        await asyncio.Event().wait()
        return "never"

    def blocks(self) -> str:  # a plain def: run in a daemon thread of its own
        self.release.wait()
        return "released"

    def returns(self, value: str) -> str:
        return value

    async def raises_timeout(self) -> str:
        raise TimeoutError("its own socket timed out")


def test_an_await_that_never_returns_is_cancelled_at_the_limit() -> None:
    with pytest.raises(PluginTimedOut) as raised:
        asyncio.run(call(REF, "inject", Plugin().awaits_forever, limit=0.05))

    assert str(raised.value).endswith(": inject did not return within 0.05s (cancelled)")
    assert str(raised.value).startswith("fault kind testing.marker (")


def test_a_blocking_plain_method_is_abandoned_in_its_thread_at_the_limit() -> None:
    plugin = Plugin()
    try:
        with pytest.raises(PluginTimedOut) as raised:
            asyncio.run(call(REF, "revert", plain(plugin.blocks), limit=0.05))
    finally:
        plugin.release.set()

    assert str(raised.value).endswith(
        ": revert did not return within 0.05s "
        "(its thread cannot be stopped: it was abandoned, still running)"
    )


def test_a_plain_method_that_returns_gives_its_result_through_the_thread() -> None:
    assert asyncio.run(call(REF, "revert", plain(Plugin().returns), "done", limit=5.0)) == "done"


def test_a_timeout_error_the_plugin_raises_is_its_own_failure_not_the_limit() -> None:
    with pytest.raises(PluginFailed) as raised:
        asyncio.run(call(REF, "inject", Plugin().raises_timeout, limit=5.0))

    assert not isinstance(raised.value, PluginTimedOut)
    assert str(raised.value).endswith(": inject raised TimeoutError: its own socket timed out")


def test_each_step_has_a_default_limit_a_fault_may_override_and_checks_keep_their_own() -> None:
    assert (LIMITS["inject"], LIMITS["revert"], limit_for("setup"), limit_for("close")) == (
        60.0,
        60.0,
        30.0,
        30.0,
    )
    assert limit_for("preflight") == 30.0
    assert limit_for("inject", 5.0) == 5.0
    assert limit_for("check") is None


async def swallows_its_cancellation() -> str:
    while True:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:  # the bug: a retry loop that swallows cancellation
            continue


def test_a_call_that_swallows_its_cancellation_is_abandoned_at_the_limit() -> None:
    async def main() -> None:
        with pytest.raises(PluginTimedOut) as raised:
            await call(REF, "inject", swallows_its_cancellation, limit=0.05)
        assert str(raised.value).endswith(
            ": inject did not return within 0.05s (it ignored its cancellation: abandoned, "
            "still running)"
        )

    loop.run(main(), grace=0.05)  # the call left behind does not keep the loop from closing


def test_the_conductors_own_cancellation_lets_the_plugin_clean_up_first() -> None:
    cleaned: list[str] = []

    async def inject() -> str:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.append("cleaned up")
        return "never"

    async def main() -> None:
        running = asyncio.create_task(call(REF, "inject", inject, limit=60.0))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
        assert cleaned == ["cleaned up"]

    asyncio.run(main())


def test_the_drill_loop_ends_though_a_task_left_behind_ignores_its_cancellation() -> None:
    left: list[asyncio.Task[str]] = []

    async def main() -> str:
        left.append(asyncio.create_task(swallows_its_cancellation()))
        await asyncio.sleep(0)
        return "done"

    assert loop.run(main(), grace=0.05) == "done"
