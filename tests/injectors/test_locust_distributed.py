"""Locust distributed on loopback: local workers, and an existing master kunren only drives."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from kunren.errors import KunrenError
from kunren.injectors.locust_load import LoadDriver
from kunren.runtime.clock import monotonic
from kunren.runtime.ports import free_port
from tests.injectors.locust_support import (
    context,
    poll_until,
    process_gone,
    running_shop,
    wait_for_http,
)

pytestmark = pytest.mark.load

LOCUSTFILE = """
from locust import HttpUser, constant_pacing, task

class Shopper(HttpUser):
    wait_time = constant_pacing(0.5)

    @task
    def health(self):
        self.client.get("/health")
"""


def master_stats(web_url: str) -> dict[str, object]:
    with urllib.request.urlopen(web_url + "/stats/requests", timeout=5) as response:
        stats: dict[str, object] = json.load(response)
    return stats


def test_a_master_and_two_local_workers_reach_their_users_and_report(tmp_path: Path) -> None:
    (tmp_path / "shop_load.py").write_text(LOCUSTFILE)

    async def run(host: str) -> None:
        stages = [{"at": 0, "users": 6, "spawn_rate": 30}]
        load = {"locustfile": "shop_load.py", "host": host, "stages": stages}
        ctx, spec = context(tmp_path, {**load, "distributed": {"workers": 2}})
        driver = LoadDriver(ctx, spec, tmp_path / "load")
        await driver.start()
        try:
            assert len(driver.pids) == 3 and driver.exact
            await driver.set_stage(6, 30)
            stats = await poll_until(driver, lambda s: s.users == 6 and s.rps > 4)
            assert [e.name for e in stats.endpoints] == ["/health"]
            assert stats.p50_ms is not None
            assert driver.web_url is not None
            workers = master_stats(driver.web_url)["workers"]
            assert isinstance(workers, list)
            assert sorted(w["user_count"] for w in workers) == [3, 3]
            await asyncio.sleep(1.0)  # load after the last poll: must reach the final stats
        finally:
            pids = driver.pids
            final = await driver.stop()
        assert all(process_gone(pid) for pid in pids)
        assert final is not None and final.endpoints[0].name == "/health"

    with running_shop() as host:
        asyncio.run(run(host))
    for n in (1, 2):
        log = (tmp_path / "load" / f"locust-worker-{n}.log").read_text()
        assert "Got quit message from master" in log


@dataclass
class ExistingMaster:
    port: int
    web_port: int
    processes: list[subprocess.Popen[bytes]]


@contextmanager
def existing_master(tmp_path: Path, host: str, workers: int) -> Iterator[ExistingMaster]:
    """A master (and workers) started the way a team runs one elsewhere: not by kunren, and
    without kunren's stats extension, so the driver falls back to Locust's stock API."""
    locustfile = tmp_path / "remote_load.py"
    locustfile.write_text(LOCUSTFILE)
    port, web_port = free_port(), free_port()
    locust = [sys.executable, "-m", "locust", "-f", str(locustfile)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")}
    master = [*locust, "--master", "--master-bind-host", "127.0.0.1"]
    master += ["--master-bind-port", str(port), "--host", host]
    master += ["--web-host", "127.0.0.1", "--web-port", str(web_port)]
    worker = [*locust, "--worker", "--master-port", str(port)]
    commands = [master, *[worker for _ in range(workers)]]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for command in commands:
            processes.append(
                subprocess.Popen(
                    command,
                    cwd=tmp_path,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        wait_for_http(f"http://127.0.0.1:{web_port}/stats/requests")
        yield ExistingMaster(port, web_port, processes)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def test_an_existing_master_is_driven_but_not_started_or_ended(tmp_path: Path) -> None:
    async def run(remote: ExistingMaster, host: str) -> None:
        master = {"host": "127.0.0.1", "port": remote.port, "web_port": remote.web_port}
        stages = [{"at": 0, "users": 4, "spawn_rate": 20}]
        load = {"locustfile": "remote_load.py", "host": host, "stages": stages, "master": master}
        ctx, spec = context(tmp_path, load)
        # A stock master never says its workers' last reports are in: do not wait them out.
        driver = LoadDriver(ctx, spec, tmp_path / "load", final_report_wait=0.5)
        await driver.start()
        try:
            assert driver.pids == [] and not driver.exact
            await driver.set_stage(4, 20)
            stats = await poll_until(driver, lambda s: s.users == 4 and s.rps > 2)
            assert stats.endpoints[0].name == "/health" and stats.endpoints[0].p50_ms is None
        finally:
            final = await driver.stop()
        assert final is not None
        web = f"http://127.0.0.1:{remote.web_port}"
        state = master_stats(web)["state"]
        deadline = monotonic() + 10.0
        while state != "stopped" and monotonic() < deadline:  # the master stops its workers
            await asyncio.sleep(0.1)
            state = master_stats(web)["state"]
        assert state == "stopped"
        assert all(p.poll() is None for p in remote.processes), (
            "kunren ended a master it does not own"
        )

    with running_shop() as host, existing_master(tmp_path, host, workers=1) as remote:
        asyncio.run(run(remote, host))


def test_an_existing_master_without_workers_is_reported_not_ready(tmp_path: Path) -> None:
    with existing_master(tmp_path, "http://127.0.0.1:9", workers=0) as remote:
        master = {"host": "127.0.0.1", "port": remote.port, "web_port": remote.web_port}
        stages = [{"at": 0, "users": 1, "spawn_rate": 1}]
        load = {"locustfile": "remote_load.py", "host": "http://127.0.0.1:9", "stages": stages}
        ctx, spec = context(tmp_path, {**load, "master": master})
        driver = LoadDriver(ctx, spec, tmp_path / "load", ready_timeout=0.5)
        with pytest.raises(KunrenError, match=r"has 0 of 1 workers connected after 0.5s$"):
            asyncio.run(driver.start())


def test_an_unreachable_master_is_a_clear_error(tmp_path: Path) -> None:
    web_port = free_port()  # nothing listens there
    master = {"host": "127.0.0.1", "web_port": web_port}
    stages = [{"at": 0, "users": 1, "spawn_rate": 1}]
    load = {"urls": ["/"], "host": "http://127.0.0.1:9", "stages": stages, "master": master}
    ctx, spec = context(tmp_path, load)
    driver = LoadDriver(ctx, spec, tmp_path / "load", ready_timeout=0.5)
    with pytest.raises(KunrenError) as caught:
        asyncio.run(driver.start())
    assert str(caught.value).startswith(
        f"load: Locust master at http://127.0.0.1:{web_port}: GET /kunren/stats failed: "
    )
    assert str(caught.value).endswith("not ready within 0.5s")
