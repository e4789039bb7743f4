"""Locust processes lost mid-drill: a worker killed with SIGKILL is recorded and the load goes
on with the rest; the master lost stops the load, is recorded, and the drill still goes on."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from kunren.record.eventlog import EventLog
from kunren.record.events import LoadLost, LoadStage, LoadStats
from kunren.runtime import procfs

from .proc import Child, free_port

SCENARIO = """
version: 1
id: lossy
title: Load that loses its processes
duration: 10m
services:
  shop:
    command: [python, -m, kunren.demo.shop, --port, "{port}"]
    ready: http://127.0.0.1:{port}/health
load:
  host: http://127.0.0.1:{port}
  urls: [/health]
  stages:
    - {{at: 0m, users: 4, spawn_rate: 4}}
    - {{at: 8m, users: 2, spawn_rate: 2}}
  stats_every: 20s
  distributed: {{workers: 2}}
"""


def _locust(conductor: int, role: str) -> list[procfs.ProcInfo]:
    """The conductor's Locust processes of one role (``--master`` or ``--worker``)."""
    return [
        info
        for info in procfs.running()
        if info.ppid == conductor and "locust" in info.command and role in info.command.split()
    ]


@pytest.mark.load
@pytest.mark.integration
def test_a_lost_worker_and_a_lost_master_are_recorded_and_the_drill_goes_on(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    scenario = write_scenario(SCENARIO.format(port=free_port()))
    # 10 drill minutes at --speed 20 take 30 s; statistics come every 2 real seconds
    child = Child(["run", str(scenario), "--speed", "20", "--no-web", "--no-report"], cwd=tmp_path)
    try:
        child.wait_for_line("load stats", 60)
        workers = _locust(child.proc.pid, "--worker")
        (master,) = _locust(child.proc.pid, "--master")
        assert len(workers) == 2
        os.kill(workers[0].pid, signal.SIGKILL)
        child.wait_for_line("LOST (the rest go on)", 30)
        seen = len(child.lines)
        child.wait_for(lambda lines: any("load stats" in line for line in lines[seen:]), 30)

        os.kill(master.pid, signal.SIGKILL)
        child.wait_for_line("load STOPPED", 30)
        code = child.finish(timeout=60)
    finally:
        if child.proc.poll() is None:
            child.proc.kill()
    assert code == 0, "\n".join(child.lines)  # the drill ran to its end
    (drill,) = list((tmp_path / "drills").iterdir())
    events = EventLog(drill).read()
    lost = [e for e in events if isinstance(e, LoadLost)]
    assert [(e.process.startswith("worker"), e.code, e.load_stopped) for e in lost] == [
        (True, -9, False),
        (False, -9, True),
    ]
    worker_lost, master_lost = lost
    after_worker = [e for e in events if isinstance(e, LoadStats) and worker_lost.seq < e.seq]
    assert any(s.rps > 0 and s.seq < master_lost.seq for s in after_worker)
    stages = [(e.users, e.planned) for e in events if isinstance(e, LoadStage)]
    assert stages == [(4, False), (2, True)]  # after the master: recorded as planned
    assert events[-1].type == "drill.ended"
    for info in [*workers, master]:
        assert procfs.alive(info.pid, info.start) is None
