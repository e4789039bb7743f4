"""Helpers for the Locust tests: the demo shop as a real target, contexts, process checks."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from kunren.injectors.locust_load import LoadDriver
from kunren.record.events import LoadStats
from kunren.runtime.clock import RealClock, monotonic
from kunren.runtime.context import DrillContext, drill_context
from kunren.runtime.ports import free_port
from kunren.scenarios.models import Load, Scenario


def wait_for_http(url: str, timeout: float = 15.0) -> None:
    deadline = monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1.0) as response:
                if response.status == 200:
                    return
        except OSError:
            if monotonic() > deadline:
                raise
        threading.Event().wait(0.05)


@contextmanager
def running_shop() -> Iterator[str]:
    """The demo shop on a free loopback port; yields its base URL and always stops it."""
    port = free_port()
    shop = subprocess.Popen(
        [sys.executable, "-m", "kunren.demo.shop", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # Locust's stop resets connections: noisy, not interesting
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(base + "/health")
        yield base
    finally:
        shop.terminate()
        shop.wait(timeout=10)


def context(tmp_path: Path, load: Mapping[str, object]) -> tuple[DrillContext, Load]:
    scenario = Scenario.model_validate(
        {"version": 1, "id": "load-test", "title": "Load", "duration": "10m", "load": load}
    )
    assert scenario.load is not None
    return drill_context(scenario, scenario_dir=tmp_path, clock=RealClock()), scenario.load


def process_gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie waiting for a reaper counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


async def poll_after(driver: LoadDriver, seconds: float) -> LoadStats:
    """Let ``seconds`` of real time pass (load is measured in real time), then poll."""
    await asyncio.sleep(seconds)
    stats = await driver.poll_stats()
    assert stats is not None
    return stats


async def poll_until(
    driver: LoadDriver,
    ok: Callable[[LoadStats], bool],
    timeout: float = 15.0,
    every: float = 0.5,
) -> LoadStats:
    """Poll every ``every`` s until ``ok(stats)``; at the deadline fail with the last stats."""
    deadline = monotonic() + timeout
    while True:
        stats = await poll_after(driver, every)
        if ok(stats):
            return stats
        if monotonic() > deadline:
            raise AssertionError(f"load never reached the expected state; last: {stats}")
