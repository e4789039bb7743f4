"""The conductor killed with SIGKILL, then `kunren revert` and `kunren resume`.

Acknowledged events (printed by the live console after the fsync'd append returned) must all be
in the record exactly once, and every reversible fault must end reverted.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from kunren.record.eventlog import EventLog
from kunren.record.events import DrillResumed, DrillStarted, FaultInjected, Milestone

from .proc import Child, run

SCENARIO = """
version: 1
id: crashy
title: Crash and recover
duration: 1h
roles:
  sre: {}
faults:
  - {id: windowed, at: 1m, kind: testing.marker, path: windowed.marker, for: 30m}
  - {id: lasting, at: 3m, kind: testing.marker, path: lasting.marker}
injects:
  - {at: 2m, kind: announcement, text: "Search is failing"}
simulate:
  seed: 1
  people:
    - {role: sre, person: bob, detected: 2m, triaged: 4m, resolved: 35m}
"""


def _drill_dir(root: Path) -> Path:
    (drill,) = list((root / "drills").iterdir())
    return drill


def _kill_after(tmp_path: Path, scenario: Path, marker: str) -> tuple[Child, list[int]]:
    # an hour of drill time takes 30 s at 120x: the drill is still on when revert and resume
    # run, however slow the machine (resume finds it over if the duration passed meanwhile)
    child = Child(["run", str(scenario), "--speed", "120", "--no-web", "--no-report"], cwd=tmp_path)
    child.wait_for_line(marker)
    child.kill(signal.SIGKILL)
    child.finish()
    return child, child.acknowledged()


@pytest.mark.integration
@pytest.mark.parametrize(
    "kill_at", ["injected windowed", "inject announcement", "injected lasting"]
)
def test_kill_revert_resume_keeps_every_acknowledged_event_once(
    tmp_path: Path, write_scenario: Callable[[str], Path], kill_at: str
) -> None:
    scenario = write_scenario(SCENARIO)
    _, acked = _kill_after(tmp_path, scenario, kill_at)
    drill = _drill_dir(tmp_path)

    reverted = run(["revert", str(drill)], cwd=tmp_path)
    assert reverted.returncode == 0, reverted.stdout + reverted.stderr
    assert not (tmp_path / "windowed.marker").exists()
    assert not (tmp_path / "lasting.marker").exists()

    # the rest of the drill (up to ~57 drill minutes) at 2400x: a second and a half
    resumed = run(["resume", str(drill), "--no-web", "--speed", "2400"], cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr

    events = EventLog(drill).read()
    (resumed_event,) = [e for e in events if isinstance(e, DrillResumed)]
    assert resumed_event.speed == 2400
    # what was injected before the kill and undone by `kunren revert` is injected again while
    # its window is open: `windowed` until 31m, `lasting` (no `for`) until the end. (Drill time
    # ran on at 120x while no conductor was running: the resume time is the record's.)
    after_resume = [e for e in events if e.seq > resumed_event.seq]
    again = {e.fault for e in after_resume if isinstance(e, FaultInjected)}
    open_windows = {"lasting"} | ({"windowed"} if resumed_event.at < 31 * 60 else set())
    assert again == open_windows
    seqs = [e.seq for e in events]
    assert seqs == sorted(set(seqs))
    assert set(acked) <= set(seqs)
    assert events[-1].type == "drill.ended"
    assert any(e.type == "drill.resumed" for e in events)
    assert not (tmp_path / "windowed.marker").exists()
    assert not (tmp_path / "lasting.marker").exists()
    injected = [e for e in events if e.type == "fault.injected"]
    reverted_faults = [e for e in events if e.type == "fault.reverted"]
    assert {getattr(e, "fault", None) for e in injected} <= {
        getattr(e, "fault", None) for e in reverted_faults
    }
    lines = (drill / "events.jsonl").read_text().splitlines()
    assert all(json.loads(line)["seq"] for line in lines)  # every line whole


@pytest.mark.integration
def test_a_torn_tail_is_set_aside_and_noted_by_revert(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    scenario = write_scenario(SCENARIO)
    _kill_after(tmp_path, scenario, "injected windowed")
    drill = _drill_dir(tmp_path)
    with open(drill / "events.jsonl", "ab") as log:
        log.write(b'{"seq": 999, "type": "milest')  # a write the crash interrupted
    shown = run(["log", str(drill)], cwd=tmp_path)
    assert "is torn" in shown.stderr

    reverted = run(["revert", str(drill)], cwd=tmp_path)
    assert reverted.returncode == 0, reverted.stderr
    assert "Torn line" in reverted.stdout
    assert (drill / "events.torn").read_bytes().startswith(b'{"seq": 999')
    notes = [e for e in EventLog(drill).read() if e.type == "note"]
    assert any("torn by a crash" in getattr(n, "text", "") for n in notes)


@pytest.mark.integration
def test_a_drill_run_with_no_simulate_keeps_its_simulated_people_home_after_a_crash_and_resume(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    scenario = write_scenario(SCENARIO)
    child = Child(
        ["run", str(scenario), "--speed", "120", "--no-web", "--no-report", "--no-simulate"],
        cwd=tmp_path,
    )
    child.wait_for_line("injected windowed")
    child.kill(signal.SIGKILL)
    child.finish()
    drill = _drill_dir(tmp_path)
    (started,) = [e for e in EventLog(drill).read() if isinstance(e, DrillStarted)]
    assert started.simulate is False

    resumed = run(["resume", str(drill), "--no-web", "--speed", "2400"], cwd=tmp_path)

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    events = EventLog(drill).read()
    (resumed_event,) = [e for e in events if isinstance(e, DrillResumed)]
    # bob's marks at 2m, 4m and 35m: the resume time is well before 35m, so one was still due
    assert resumed_event.at < 35 * 60
    assert [e for e in events if isinstance(e, Milestone)] == []
    assert events[-1].type == "drill.ended"
