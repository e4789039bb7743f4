"""Who the conductor is: a pid file is trusted only when pid, start time and drill id match.

A stale ``conductor.pid`` naming a live unrelated process (as after a pid wrapped) must not
make ``kunren revert`` refuse, and ``kunren abort`` must never signal that process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kunren.drills.identity import (
    PID_FILE,
    live_conductor,
    read_identity,
    remove_identity,
    this_process,
    write_identity,
)
from kunren.record.eventlog import EventLog
from kunren.record.events import DrillAborted
from kunren.runtime import procfs

from .proc import Child, run

SCENARIO = """
version: 1
id: stale
title: A conductor that crashed long ago
duration: 60m
faults:
  - {id: lasting, at: 1m, kind: testing.marker, path: lasting.marker}
"""

# Exits 42 on SIGTERM: if anything signals it, the test sees the code.
BYSTANDER = (
    "import signal, sys\nsignal.signal(signal.SIGTERM, lambda *a: sys.exit(42))\nsys.stdin.read()\n"
)


@pytest.fixture
def bystander() -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Starts a live process that has nothing to do with any drill (stopped at the end)."""
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        started.append(subprocess.Popen([sys.executable, "-c", BYSTANDER], stdin=subprocess.PIPE))
        return started[-1]

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def _crashed_drill(tmp_path: Path, scenario: Path) -> Path:
    child = Child(["run", str(scenario), "--speed", "60", "--no-web", "--no-report"], cwd=tmp_path)
    try:
        child.wait_for_line("injected lasting")
    finally:
        child.kill(signal.SIGKILL)
        child.finish()
    (drill,) = list((tmp_path / "drills").iterdir())
    return drill


@pytest.mark.integration
@pytest.mark.parametrize("pid_file", ["reused-pid", "bare-pid"])
@pytest.mark.parametrize("command", ["revert", "abort"])
def test_a_stale_pid_file_naming_a_live_process_is_neither_trusted_nor_signalled(
    tmp_path: Path,
    write_scenario: Callable[[str], Path],
    bystander: Callable[[], subprocess.Popen[bytes]],
    pid_file: str,
    command: str,
) -> None:
    drill = _crashed_drill(tmp_path, write_scenario(SCENARIO))
    other = bystander()  # started after the conductor: another start time
    left = read_identity(drill)
    assert left is not None and left.drill == drill.name  # what the SIGKILLed conductor left
    if pid_file == "reused-pid":  # its pid now belongs to the bystander, started later
        text = json.dumps({"pid": other.pid, "start": left.start, "drill": left.drill})
    else:  # the old format: a bare pid
        text = f"{other.pid}\n"
    (drill / PID_FILE).write_text(text)
    assert live_conductor(drill) is None
    assert procfs.alive(other.pid) is not None

    done = run(
        [command, str(drill), "--as", "alice"] if command == "abort" else [command, str(drill)],
        cwd=tmp_path,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "still running" not in done.stdout + done.stderr
    assert not (tmp_path / "lasting.marker").exists()
    assert other.poll() is None  # never signalled
    assert procfs.alive(other.pid) is not None
    if command == "abort":
        last = EventLog(drill).read()[-1]
        assert isinstance(last, DrillAborted)
        assert "aborted by alice" in last.reason


@pytest.mark.integration
def test_abort_records_its_reason_and_who_and_the_pid_file_goes(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    scenario = write_scenario(SCENARIO)
    child = Child(["run", str(scenario), "--speed", "60", "--no-web", "--no-report"], cwd=tmp_path)
    try:
        child.wait_for_line("injected lasting")
        (drill,) = list((tmp_path / "drills").iterdir())
        running = live_conductor(drill)
        assert running is not None and running.pid == child.proc.pid
        aborted = run(
            ["abort", drill.name, "--reason", "the real outage started", "--as", "佐藤"],
            cwd=tmp_path,
        )
        assert aborted.returncode == 0, aborted.stdout + aborted.stderr
        code = child.finish(timeout=30)
    finally:
        if child.proc.poll() is None:
            child.proc.kill()
    assert code == 1
    last = EventLog(drill).read()[-1]
    assert isinstance(last, DrillAborted)
    assert last.reason == "the real outage started (aborted by 佐藤 with kunren abort)"
    assert not (drill / PID_FILE).exists()
    assert not (tmp_path / "lasting.marker").exists()


def test_only_a_complete_identity_of_this_drill_and_a_live_process_is_trusted(
    tmp_path: Path,
) -> None:
    drill = tmp_path / "web-outage-20261201-120000"
    drill.mkdir()
    me = this_process(drill.name)
    write_identity(drill, me)
    assert live_conductor(drill) == me
    for text in ["", "garbage", "[1, 2]", '{"pid": 1, "start": 1, "drill": "x"}', f"{os.getpid()}"]:
        (drill / PID_FILE).write_text(text)
        assert live_conductor(drill) is None, text
    other = json.dumps({"pid": me.pid, "start": me.start, "drill": "another-drill"})
    (drill / PID_FILE).write_text(other)
    assert live_conductor(drill) is None  # a copied folder's file names another drill
    remove_identity(drill, me)  # not ours any more: left alone
    assert (drill / PID_FILE).exists()
    write_identity(drill, me)
    remove_identity(drill, me)
    assert not (drill / PID_FILE).exists()
