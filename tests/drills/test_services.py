"""Services in their own process group: wrappers, services that ignore SIGTERM, and services
that exit by themselves, with real processes."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from kunren.drills.services import ManagedService
from kunren.record.eventlog import EventLog
from kunren.record.events import Event, ServiceExited, ServiceStarted, ServiceStopped
from kunren.runtime import procfs
from kunren.scenarios.models import Service

from .proc import Child, free_port, run

# A server that ignores SIGTERM, as some do while "draining".
STUBBORN = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(600)\n"


def _members(pid: int) -> list[procfs.ProcInfo]:
    return procfs.group(pid)


def _started(events: list[Event], name: str) -> ServiceStarted:
    return next(e for e in events if isinstance(e, ServiceStarted) and e.name == name)


def _wrapped(port: int) -> str:
    # `; echo` keeps the shell in between (no exec of the last command): a real wrapper
    return f"""
version: 1
id: wrapped
title: A service behind sh -c
duration: 60m
services:
  shop:
    command: [sh, -c, "{sys.executable} -m http.server {port} --bind 127.0.0.1; echo bye"]
    ready: http://127.0.0.1:{port}/
targets:
  shop-proc: {{process: {{service: shop}}}}
faults:
  - {{id: freeze, at: 1m, kind: process.stop, target: shop-proc}}
"""


@pytest.mark.integration
def test_process_stop_on_a_wrapped_service_freezes_the_server_and_the_end_stops_the_group(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    scenario = write_scenario(_wrapped(free_port()))
    child = Child(["run", str(scenario), "--speed", "60", "--no-web", "--no-report"], cwd=tmp_path)
    try:
        child.wait_for_line("injected freeze")
        (drill,) = list((tmp_path / "drills").iterdir())
        shell = _started(EventLog(drill).read(), "shop").pid
        members = _members(shell)
        assert len(members) == 2  # sh and the server it started
        assert {info.state for info in members} == {"T"}  # every one frozen, server too
        aborted = run(["abort", drill.name], cwd=tmp_path, timeout=60)
        assert aborted.returncode == 0, aborted.stdout + aborted.stderr
        child.finish(timeout=30)
    finally:
        if child.proc.poll() is None:
            child.proc.kill()
    assert _members(shell) == []  # the server is gone with its wrapper
    for info in members:
        assert procfs.alive(info.pid, info.start) is None


def _stubborn() -> str:
    return f"""
version: 1
id: stubborn
title: A service that ignores SIGTERM
duration: 60m
services:
  svc:
    command: [python, -c, {json.dumps(STUBBORN)}]
    stop_timeout: 1s
faults:
  - {{id: flag, at: 1m, kind: testing.marker, path: flag.marker}}
"""


@pytest.mark.integration
def test_revert_after_a_crash_kills_a_service_that_ignores_sigterm_and_checks_it_is_gone(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    scenario = write_scenario(_stubborn())
    child = Child(["run", str(scenario), "--speed", "60", "--no-web", "--no-report"], cwd=tmp_path)
    try:
        child.wait_for_line("injected flag")
    finally:
        child.kill(signal.SIGKILL)
        child.finish()
    (drill,) = list((tmp_path / "drills").iterdir())
    pid = _started(EventLog(drill).read(), "svc").pid
    # The parent-death SIGTERM was ignored: the service outlived its conductor.
    assert procfs.alive(pid) is not None

    reverted = run(["revert", str(drill)], cwd=tmp_path)

    assert reverted.returncode == 0, reverted.stdout + reverted.stderr
    assert "stopped service svc" in reverted.stdout
    assert procfs.alive(pid) is None
    stopped = [e for e in EventLog(drill).read() if isinstance(e, ServiceStopped)]
    assert [e.detail for e in stopped] == [
        "stopped after the conductor stopped (ignored SIGTERM; killed with SIGKILL)"
    ]


def test_stopping_a_service_that_ignores_sigterm_escalates_and_verifies(tmp_path: Path) -> None:
    spec = Service(command=[sys.executable, "-c", STUBBORN], stop_timeout="500ms")
    service = ManagedService("svc", spec, tmp_path, tmp_path / "logs")

    async def scenario() -> tuple[int, bool, bool, str]:
        pid = await service.start()
        # wait until the service has set SIG_IGN for TERM (bit 15 of SigIgn in /proc)
        for _ in range(500):
            status = Path(f"/proc/{pid}/status").read_text()
            ignored = int(
                next(row for row in status.splitlines() if row.startswith("SigIgn:")).split()[1], 16
            )
            if ignored & (1 << (signal.SIGTERM - 1)):
                break
            await asyncio.sleep(0.01)
        result = await service.stop()
        return pid, result.signalled, result.escalated, result.detail

    pid, signalled, escalated, detail = asyncio.run(scenario())
    assert signalled and escalated
    assert detail == "ignored SIGTERM; killed with SIGKILL"
    assert procfs.alive(pid) is None


FLAKY = (
    "import pathlib, sys, time\n"
    "while not pathlib.Path('exit.now').exists():\n"
    "    time.sleep(0.02)\n"
    "sys.exit(3)\n"
)

EXITS = f"""
version: 1
id: exits
title: A service that dies by itself
duration: 60m
services:
  flaky:
    command: [python, -c, {json.dumps(FLAKY)}]
"""


@pytest.mark.integration
def test_a_service_that_exits_by_itself_mid_drill_is_recorded_with_its_code(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    scenario = write_scenario(EXITS)
    child = Child(["run", str(scenario), "--speed", "60", "--no-web", "--no-report"], cwd=tmp_path)
    try:
        child.wait_for_line("service flaky started")
        (tmp_path / "exit.now").touch()
        child.wait_for_line("service flaky EXITED (code 3)")
        (drill,) = list((tmp_path / "drills").iterdir())
        aborted = run(["abort", drill.name], cwd=tmp_path, timeout=60)
        assert aborted.returncode == 0, aborted.stdout + aborted.stderr
        child.finish(timeout=30)
    finally:
        if child.proc.poll() is None:
            child.proc.kill()
    events = EventLog(drill).read()
    exited = [e for e in events if isinstance(e, ServiceExited)]
    assert [(e.name, e.code) for e in exited] == [("flaky", 3)]
    # not "stopped" afterwards: it was not running any more
    assert not any(isinstance(e, ServiceStopped) for e in events)


def test_a_restart_is_not_an_exit_but_the_new_process_exiting_is(tmp_path: Path) -> None:
    spec = Service(command=[sys.executable, "-c", FLAKY], cwd=str(tmp_path))
    service = ManagedService("flaky", spec, tmp_path)
    exits: list[tuple[str, int]] = []

    async def scenario() -> None:
        await service.start()
        service.watch(lambda name, code: exits.append((name, code)))
        await service.restart()  # kunren ends the old process: not news
        (tmp_path / "exit.now").touch()  # the new one exits by itself with code 3
        for _ in range(500):
            if exits:
                break
            await asyncio.sleep(0.01)
        await service.stop()

    asyncio.run(scenario())
    assert exits == [("flaky", 3)]


def test_service_names_must_be_ids_since_they_name_log_files(tmp_path: Path) -> None:
    path = tmp_path / "names.yaml"
    path.write_text(
        "version: 1\nid: names\ntitle: t\nduration: 10m\n"
        'services:\n  "../../evil": {command: [python, -c, "pass"]}\n'
    )
    result = run(["validate", str(path)], cwd=tmp_path)
    assert result.returncode == 2
    assert "expected an id of letters, digits" in result.stderr
