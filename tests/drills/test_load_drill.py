"""A drill that drives real Locust load against the demo shop, on a scaled clock."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from kunren.record.eventlog import EventLog
from kunren.record.events import LoadStage, LoadStats
from kunren.runtime import procfs

from .proc import Child, free_port

SPIKE = """
version: 1
id: spike
title: A load spike on the demo shop
duration: 4m
services:
  shop:
    command: [python, -m, kunren.demo.shop, --port, "{port}"]
    ready: http://127.0.0.1:{port}/health
load:
  host: http://127.0.0.1:{port}
  urls: [/, "/search?q=tea", /health]
  stages:
    - {{at: 0m, users: 2, spawn_rate: 2}}
    - {{at: 1m, users: 24, spawn_rate: 24}}
  stats_every: 20s
"""


def _locust_pids(conductor: int) -> list[int]:
    """Live Locust processes started by the conductor (its children)."""
    found = (procfs.alive(int(p.name)) for p in Path("/proc").iterdir() if p.name.isdigit())
    return [p.pid for p in found if p and p.ppid == conductor and "locust" in p.command]


@pytest.mark.load
@pytest.mark.integration
def test_a_spike_raises_the_request_rate_and_abort_stops_locust(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    scenario = write_scenario(SPIKE.format(port=free_port()))
    # 4 drill minutes at --speed 20 take 12 s; statistics come every 2 real seconds
    child = Child(["run", str(scenario), "--speed", "20", "--no-web", "--no-report"], cwd=tmp_path)
    try:
        child.wait_for_line("users, spawn 24/s", 60)
        (drill,) = list((tmp_path / "drills").iterdir())
        child.wait_for(lambda lines: sum("load stats" in line for line in lines) >= 5, 60)
        locusts = _locust_pids(child.proc.pid)
        assert locusts != []
        child.kill(signal.SIGINT)
        code = child.finish(timeout=30)
    finally:
        if child.proc.poll() is None:
            child.proc.kill()
    assert code == 1  # aborted
    assert [pid for pid in locusts if procfs.alive(pid)] == []
    events = EventLog(drill).read()
    stages = [(e.users, e.planned) for e in events if isinstance(e, LoadStage)]
    assert stages == [(2, False), (24, False)]
    spike_at = next(e.at for e in events if isinstance(e, LoadStage) and e.users == 24)
    stats = [e for e in events if isinstance(e, LoadStats)]
    before = [s.rps for s in stats if s.at <= spike_at]
    during = [s.rps for s in stats if s.at > spike_at + 20]
    assert before and during
    assert max(during) > 3 * max(before)
    assert any(s.endpoints for s in stats)
    assert events[-1].type == "drill.aborted"
