"""Aborting a running drill: SIGINT, and `kunren abort` from another terminal."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from kunren.record.eventlog import EventLog
from kunren.record.events import DrillAborted, ServiceStarted
from kunren.runtime import procfs

from .proc import Child, free_port, run


def _scenario(port: int) -> str:
    return f"""
version: 1
id: abortable
title: Abort me
duration: 60m
services:
  web:
    command: [python, -m, http.server, "{port}", --bind, 127.0.0.1]
    ready: http://127.0.0.1:{port}/
faults:
  - {{id: flag, at: 5s, kind: testing.marker, path: flag.marker}}
"""


@pytest.mark.integration
@pytest.mark.parametrize("how", ["sigint", "sigterm", "abort-command"])
def test_abort_reverts_faults_and_stops_services(
    tmp_path: Path, write_scenario: Callable[[str], Path], how: str
) -> None:
    scenario = write_scenario(_scenario(free_port()))
    child = Child(["run", str(scenario), "--speed", "60", "--no-web", "--no-report"], cwd=tmp_path)
    try:
        child.wait_for_line("injected flag")
        assert (tmp_path / "flag.marker").exists()
        (drill,) = list((tmp_path / "drills").iterdir())
        if how == "sigint":
            child.kill(signal.SIGINT)
        elif how == "sigterm":
            child.kill(signal.SIGTERM)
        else:
            aborted = run(["abort", str(drill)], cwd=tmp_path, timeout=60)
            assert aborted.returncode == 0, aborted.stderr
        code = child.finish(timeout=30)
    finally:
        if child.proc.poll() is None:
            child.proc.kill()
    assert code == 1
    events = EventLog(drill).read()
    assert isinstance(events[-1], DrillAborted)
    assert not (tmp_path / "flag.marker").exists()
    service = next(e for e in events if isinstance(e, ServiceStarted))
    assert procfs.alive(service.pid) is None
    assert [e.type for e in events[-4:]] == [
        "fault.reverting",
        "fault.reverted",
        "service.stopped",
        "drill.aborted",
    ]
