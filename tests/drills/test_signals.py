"""Every stop signal reverts and ends the drill cleanly, in every phase, promptly.

Real signals to a real conductor in a child process: SIGHUP (the terminal or ssh session
closed) is handled like SIGTERM, even when the terminal is gone and the console cannot be
written any more, and a signal during a slow service's ready wait is honoured at once.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from kunren.drills.identity import PID_FILE
from kunren.record.eventlog import EventLog
from kunren.record.events import DrillAborted, ServiceStarted, ServiceStopped
from kunren.runtime import procfs
from kunren.runtime.clock import blocking_sleep, monotonic

from .proc import KUNREN, free_port


def _scenario(port: int) -> str:
    return f"""
version: 1
id: hangup
title: The terminal closes
duration: 60m
services:
  web:
    command: [python, -m, http.server, "{port}", --bind, 127.0.0.1]
    ready: http://127.0.0.1:{port}/
faults:
  - {{id: flag, at: 1m, kind: testing.marker, path: flag.marker}}
"""


def _until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = monotonic() + timeout
    while not condition():
        assert monotonic() < deadline, "condition not met in time"
        blocking_sleep(0.02)


def _start(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*KUNREN, *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.mark.integration
@pytest.mark.parametrize("terminal", ["open", "closed"])
def test_sighup_reverts_stops_closes_the_record_and_removes_the_pid_file(
    tmp_path: Path, write_scenario: Callable[[str], Path], terminal: str
) -> None:
    scenario = write_scenario(_scenario(free_port()))
    proc = _start(["run", str(scenario), "--speed", "60", "--no-web", "--no-report"], tmp_path)
    try:
        assert proc.stdout is not None
        for _ in range(10_000):
            line = proc.stdout.readline()
            if not line or "injected flag" in line:
                break
        assert (tmp_path / "flag.marker").exists()
        if terminal == "closed":  # what the conductor printed to has gone away
            proc.stdout.close()
        proc.send_signal(signal.SIGHUP)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    (drill,) = list((tmp_path / "drills").iterdir())
    events = EventLog(drill).read()
    last = events[-1]
    assert isinstance(last, DrillAborted)
    assert last.reason == "SIGHUP received"
    assert not (tmp_path / "flag.marker").exists()
    assert any(isinstance(e, ServiceStopped) for e in events)
    service = next(e for e in events if isinstance(e, ServiceStarted))
    assert procfs.alive(service.pid) is None
    assert not (drill / PID_FILE).exists()


SLOW = """
version: 1
id: slow-start
title: A service that takes its time
duration: 60m
services:
  slow:
    command:
      - python
      - -c
      - "import os, pathlib, time; pathlib.Path('slow.pid').write_text(str(os.getpid()));
        time.sleep(600)"
    ready: http://127.0.0.1:{port}/
    ready_timeout: 10m
faults:
  - {{id: flag, at: 1m, kind: testing.marker, path: flag.marker}}
"""


@pytest.mark.integration
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_during_the_ready_wait_is_honoured_at_once(
    tmp_path: Path, write_scenario: Callable[[str], Path], signum: signal.Signals
) -> None:
    scenario = write_scenario(SLOW.format(port=free_port()))
    proc = _start(["run", str(scenario), "--no-web", "--no-report"], tmp_path)
    try:
        _until(
            lambda: (tmp_path / "slow.pid").exists() and bool((tmp_path / "slow.pid").read_text())
        )
        service_pid = int((tmp_path / "slow.pid").read_text())
        proc.send_signal(signum)
        # The ready wait has 10 minutes left: only a conductor that honours the signal ends
        # within this bound.
        code = proc.wait(30)
        output = proc.communicate()[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 1, output
    assert procfs.alive(service_pid) is None
    (drill,) = list((tmp_path / "drills").iterdir())
    last = EventLog(drill).read()[-1]
    assert isinstance(last, DrillAborted)
    assert last.reason == f"{signum.name} received"
    assert not (tmp_path / "flag.marker").exists()
    assert not (drill / PID_FILE).exists()


STUCK_LOAD = """
version: 1
id: stuck-load
title: Locust that never gets ready
duration: 60m
load:
  locustfile: stuck.py
  host: http://127.0.0.1:9
  stages:
    - {at: 0m, users: 1, spawn_rate: 1}
faults:
  - {id: flag, at: 1m, kind: testing.marker, path: flag.marker}
"""

# Locust imports the locustfile before it serves anything: this one never finishes importing.
STUCK = "import time\ntime.sleep(600)\n"


@pytest.mark.load
@pytest.mark.integration
def test_a_signal_while_locust_is_starting_is_honoured_at_once(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    (tmp_path / "stuck.py").write_text(STUCK)
    scenario = write_scenario(STUCK_LOAD)
    proc = _start(["run", str(scenario), "--no-web", "--no-report"], tmp_path)
    try:

        def locusts() -> list[procfs.ProcInfo]:
            return [i for i in procfs.running() if i.ppid == proc.pid and "locust" in i.command]

        _until(lambda: bool(locusts()))
        started = locusts()
        proc.send_signal(signal.SIGTERM)
        # Locust's ready wait has 30 s: only a conductor that honours the signal ends sooner.
        code = proc.wait(20)
        output = proc.communicate()[0]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert code == 1, output
    for info in started:
        assert procfs.alive(info.pid, info.start) is None
    (drill,) = list((tmp_path / "drills").iterdir())
    last = EventLog(drill).read()[-1]
    assert isinstance(last, DrillAborted)
    assert last.reason == "SIGTERM received"
    assert not (tmp_path / "flag.marker").exists()
