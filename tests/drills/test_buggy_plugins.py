"""A real ``kunren run`` with a third-party distribution of buggy plugins on its PYTHONPATH.

The fault's ``inject()`` raises ValueError and the probe's ``check()`` raises RuntimeError: the
conductor must record both as failures naming the plugin, keep going to the drill's end, and
undo the other faults (a frozen process runs again, a marker file is gone). No traceback.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bench import buggy

from kunren.record.eventlog import EventLog
from kunren.record.events import DrillEnded, FaultFailed, FaultReverted, ProbeFailed

from .disk import run_limited, wait_state

SLEEPER = "import time\nwhile True: time.sleep(1)"
SCENARIO = """
version: 1
id: buggy
title: A buggy third-party plugin
duration: 10m
targets:
  sleeper: {process: {pid_file: sleeper.pid}}
faults:
  - {id: freeze, at: 1m, kind: process.stop, target: sleeper}
  - {id: flag, at: 1m, kind: testing.marker, path: flag.marker}
  - {id: boom, at: 2m, kind: buggy.valueerror}
probes:
  - {id: flaky, every: 1m, buggy.runtimeerror: {}}
"""
ORIGIN = "(kunren-buggy 0.1, module kunren_buggy)"


@pytest.fixture
def sleeper(tmp_path: Path) -> Iterator[int]:
    proc = subprocess.Popen([sys.executable, "-c", SLEEPER])
    (tmp_path / "sleeper.pid").write_text(f"{proc.pid}\n", encoding="utf-8")
    try:
        yield proc.pid
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        proc.kill()
        proc.wait()


@pytest.mark.integration
def test_a_plugin_that_raises_fails_its_own_step_and_every_other_fault_is_undone(
    tmp_path: Path, write_scenario: Callable[[str], Path], sleeper: int
) -> None:
    site = buggy.install(tmp_path / "site")
    scenario = write_scenario(SCENARIO)
    path = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)

    done = run_limited(
        ["run", str(scenario), "--clock", "virtual", "--yes", "--no-report"],
        tmp_path,
        None,
        env={"PYTHONPATH": path},
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    (drill,) = list((tmp_path / "drills").iterdir())
    events = EventLog(drill).read()
    failed = [e for e in events if isinstance(e, FaultFailed)]
    assert [(f.fault, f.error) for f in failed] == [
        (
            "boom",
            f"fault kind buggy.valueerror {ORIGIN}: inject raised ValueError: the plugin has a bug",
        )
    ]
    probe = [e for e in events if isinstance(e, ProbeFailed)]
    assert [p.detail for p in probe] == [
        f"probe kind buggy.runtimeerror {ORIGIN}: check raised RuntimeError: probe exploded"
    ]
    assert sorted(e.fault for e in events if isinstance(e, FaultReverted)) == ["flag", "freeze"]
    assert isinstance(events[-1], DrillEnded)
    assert wait_state(sleeper, lambda s: s != "T") in ("S", "R")
    assert not (tmp_path / "flag.marker").exists()


@pytest.mark.integration
def test_a_plugin_module_that_raises_on_import_is_a_located_error_and_nothing_runs(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    site = buggy.install(tmp_path / "site")
    scenario = write_scenario(
        "version: 1\nid: imp\ntitle: t\nduration: 5m\n"
        "faults:\n  - {id: b, at: 1m, kind: buggy.brokenimport}\n"
    )

    done = run_limited(
        ["run", str(scenario), "--clock", "virtual"], tmp_path, None, env={"PYTHONPATH": str(site)}
    )

    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"{scenario}:6: faults[0].kind: fault kind 'buggy.brokenimport' failed to load: "
        "ValueError: broken at import"
    ]
    assert not (tmp_path / "drills").exists()
