"""The load driver: interval arithmetic, and real Locust runs against the demo shop."""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from kunren.errors import KunrenError
from kunren.injectors.locust_load import LoadDriver
from kunren.injectors.locust_stats import (
    EntrySnapshot,
    Snapshot,
    interval_stats,
    parse_kunren_stats,
    parse_locust_stats,
    percentile,
)
from kunren.runtime.clock import monotonic
from tests.injectors.locust_support import (
    context,
    poll_after,
    process_gone,
    running_shop,
)

# ---------------------------------------------------------------- interval arithmetic


def snap(
    taken: float,
    requests: int,
    failures: int,
    hist: dict[int, int],
    entries: tuple[EntrySnapshot, ...] | None = None,
) -> Snapshot:
    """A running master's snapshot; by default one endpoint /a carries all the requests."""
    total = EntrySnapshot("Aggregated", "", requests, failures, hist)
    if entries is None:
        entries = (EntrySnapshot("/a", "GET", requests, failures, hist),)
    return Snapshot(taken, "running", users=5, workers=0, total=total, entries=entries)


def test_percentile_follows_locusts_rule() -> None:
    histogram = {10: 50, 20: 45, 100: 5}
    assert percentile(histogram, 0.5) == 20.0
    assert percentile(histogram, 0.95) == 100.0
    assert percentile({7: 3}, 0.5) == 7.0
    assert percentile({}, 0.5) is None


def test_interval_is_the_difference_of_two_snapshots() -> None:
    before = snap(100.0, 10, 0, {5: 10})
    now = snap(102.0, 50, 4, {5: 10, 50: 39, 900: 1})
    stats = interval_stats(before, now)
    assert (stats.users, stats.rps, stats.failures_per_s) == (5, 20.0, 2.0)
    # Only the 40 requests of this interval count: 39 at 50 ms, 1 at 900 ms.
    assert (stats.p50_ms, stats.p95_ms) == (50.0, 50.0)
    [endpoint] = stats.endpoints
    assert (endpoint.name, endpoint.method, endpoint.rps) == ("/a", "GET", 20.0)


def test_endpoints_not_requested_in_the_interval_are_left_out() -> None:
    idle = EntrySnapshot("/idle", "GET", 7, 0, {5: 7})
    busy_before = EntrySnapshot("/busy", "GET", 1, 0, {5: 1})
    busy_now = EntrySnapshot("/busy", "GET", 5, 0, {5: 5})
    before = snap(0.0, 8, 0, {5: 8}, entries=(idle, busy_before))
    now = snap(1.0, 12, 0, {5: 12}, entries=(idle, busy_now))
    assert [e.name for e in interval_stats(before, now).endpoints] == ["/busy"]


def test_counters_reset_by_locust_count_from_zero() -> None:
    before = snap(0.0, 500, 0, {5: 500})
    now = snap(2.0, 8, 2, {5: 8})  # a new run cleared Locust's statistics
    stats = interval_stats(before, now)
    assert (stats.rps, stats.failures_per_s) == (4.0, 1.0)


def test_stock_stats_without_kunrens_route_give_total_percentiles_only() -> None:
    body = json.dumps(
        {
            "state": "running",
            "user_count": 3,
            "worker_count": 1,
            "stats": [
                {"name": "/a", "method": "GET", "num_requests": 4, "num_failures": 1},
                {"name": "Aggregated", "method": "", "num_requests": 4, "num_failures": 1},
            ],
            "current_response_time_percentiles": {
                "response_time_percentile_0.5": 12,
                "response_time_percentile_0.95": 40,
            },
        }
    ).encode()
    now = parse_locust_stats(body, taken=1.0)
    assert not now.exact and now.workers == 1 and now.total.requests == 4
    stats = interval_stats(parse_locust_stats(b'{"state": "ready"}', taken=0.0), now)
    assert (stats.rps, stats.p50_ms, stats.p95_ms) == (4.0, 12.0, 40.0)
    assert stats.endpoints[0].p50_ms is None


def test_an_unexpected_master_answer_is_one_clear_error() -> None:
    with pytest.raises(KunrenError, match=r"/kunren/stats: state: Field required"):
        parse_kunren_stats(b'{"user_count": 1}', taken=0.0)


# ---------------------------------------------------------------- real Locust


URLS = ["/health", "/search?q=kyoto", "/nope"]


@pytest.mark.load
def test_a_spike_raises_the_request_rate_between_stages(tmp_path: Path) -> None:
    async def run(host: str) -> None:
        ctx, load = context(
            tmp_path,
            {"urls": URLS, "host": host, "stages": [{"at": 0, "users": 2, "spawn_rate": 20}]},
        )
        async with LoadDriver(ctx, load, tmp_path / "load") as driver:
            assert (
                driver.exact and driver.web_url and driver.web_url.startswith("http://127.0.0.1:")
            )
            await driver.set_stage(2, 20)
            await poll_after(driver, 1.2)  # users spawned and past their start offset
            calm = await poll_after(driver, 2.0)
            await driver.set_stage(20, 100)
            await poll_after(driver, 1.2)
            spike = await poll_after(driver, 2.0)
        assert (calm.users, spike.users) == (2, 20)
        assert 0.5 <= calm.rps <= 6, calm
        assert spike.rps >= 10 and spike.rps >= 3 * calm.rps, (calm, spike)
        assert spike.p50_ms is not None and spike.p95_ms is not None
        by_name = {e.name: e for e in spike.endpoints}
        assert set(by_name) == set(URLS)
        assert by_name["/nope"].failures_per_s == by_name["/nope"].rps > 0  # the shop's 404
        assert by_name["/health"].failures_per_s == 0

    with running_shop() as host:
        asyncio.run(run(host))
    assert (tmp_path / "load" / "locust-process.log").is_file()


@pytest.mark.load
def test_stop_ends_every_process_quickly_and_keeps_the_final_stats(tmp_path: Path) -> None:
    async def run(host: str) -> None:
        ctx, load = context(
            tmp_path,
            {"urls": ["/health"], "host": host, "stages": [{"at": 0, "users": 1, "spawn_rate": 1}]},
        )
        driver = LoadDriver(ctx, load, tmp_path / "load")
        await driver.start()
        pids = driver.pids
        await driver.set_stage(10, 100)
        await asyncio.sleep(1.5)  # load runs; no poll, so stop() reports all of it
        started = monotonic()
        final = await driver.stop()
        took = monotonic() - started
        assert took < 5, f"stop took {took:.1f}s"
        assert pids and all(process_gone(pid) for pid in pids)
        assert final is not None and final.rps > 2, final
        assert await driver.stop() is None  # idempotent
        assert await driver.poll_stats() is None
        with pytest.raises(KunrenError, match="the load is not running"):
            await driver.set_stage(5, 5)

    with running_shop() as host:
        asyncio.run(run(host))


@pytest.mark.load
def test_a_broken_locustfile_fails_start_with_its_error(tmp_path: Path) -> None:
    locustfile = tmp_path / "broken.py"
    locustfile.write_text(
        "from locust import HttpUser\nraise RuntimeError('no such config: API_KEY')\n"
    )
    ctx, load = context(
        tmp_path,
        {
            "locustfile": "broken.py",
            "host": "http://127.0.0.1:9",
            "stages": [{"at": 0, "users": 1, "spawn_rate": 1}],
        },
    )
    driver = LoadDriver(ctx, load, tmp_path / "load", ready_timeout=20)
    with pytest.raises(KunrenError) as caught:
        asyncio.run(driver.start())
    message = str(caught.value)
    assert message.startswith("load: the Locust process exited before it was ready: ")
    assert "RuntimeError: no such config: API_KEY" in message
    assert str(tmp_path / "load" / "locust-process.log") in message
    assert driver.pids and all(process_gone(pid) for pid in driver.pids)


def test_a_missing_locustfile_is_named(tmp_path: Path) -> None:
    ctx, load = context(
        tmp_path,
        {
            "locustfile": "nowhere.py",
            "host": "http://127.0.0.1:9",
            "stages": [{"at": 0, "users": 1, "spawn_rate": 1}],
        },
    )
    driver = LoadDriver(ctx, load, tmp_path / "load")
    with pytest.raises(KunrenError, match=r"^load.locustfile: .*nowhere.py does not exist$"):
        asyncio.run(driver.start())
    assert driver.pids == []


def test_the_driver_refuses_stages_before_it_starts(tmp_path: Path) -> None:
    ctx, load = context(
        tmp_path,
        {
            "urls": ["/"],
            "host": "http://127.0.0.1:9",
            "stages": [{"at": 0, "users": 1, "spawn_rate": 1}],
        },
    )
    driver = LoadDriver(ctx, load, tmp_path / "load")
    with pytest.raises(KunrenError, match="cannot set a load stage: the load is not running"):
        asyncio.run(driver.set_stage(1, 1))
    assert asyncio.run(driver.poll_stats()) is None
    assert asyncio.run(driver.stop()) is None


CONDUCTOR = """
import asyncio, sys
from pathlib import Path
from tests.injectors.locust_support import context
from kunren.injectors.locust_load import LoadDriver

async def main():
    tmp = Path(sys.argv[1])
    load = {
        "urls": ["/"],
        "host": "http://127.0.0.1:9",
        "stages": [{"at": 0, "users": 1, "spawn_rate": 1}],
        "distributed": {"workers": 1},
    }
    ctx, load = context(tmp, load)
    driver = LoadDriver(ctx, load, tmp / "load")
    await driver.start()
    print(" ".join(map(str, driver.pids)), flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


@pytest.mark.load
def test_locust_ends_itself_when_the_conductor_is_killed(tmp_path: Path) -> None:
    conductor = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(CONDUCTOR), str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    pids: list[int] = []
    try:
        assert conductor.stdout is not None
        ready, _, _ = select.select([conductor.stdout], [], [], 30)
        assert ready, "the conductor did not report its Locust processes within 30 s"
        pids = [int(p) for p in conductor.stdout.readline().split()]
        assert len(pids) == 2, "the conductor did not start a master and a worker"
        conductor.send_signal(signal.SIGKILL)
        conductor.wait(timeout=10)
        deadline = monotonic() + 10
        while not all(process_gone(pid) for pid in pids) and monotonic() < deadline:
            threading.Event().wait(0.1)
        assert all(process_gone(pid) for pid in pids), "Locust outlived its conductor"
    finally:
        conductor.kill()
        conductor.wait(timeout=10)
        for pid in pids:
            if not process_gone(pid):
                os.kill(pid, signal.SIGKILL)  # only if the test failed: never leave one behind
