"""Resume by recorded step keys: a real conductor SIGKILLed once and twice, then resumed.

The drill runs on the virtual clock, so no drill time passes while no conductor runs: the
resume time is the last recorded event's, and every assertion is exact. A probe whose check
takes a real fraction of a second holds virtual time still while it runs, which paces the
drill enough to kill it right after a chosen console line, before the next step.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from kunren.drills.faults import outstanding_faults
from kunren.drills.schedule import FaultStep, build_schedule
from kunren.record import events as ev
from kunren.record.eventlog import EventLog
from kunren.scenarios.loader import load_scenario

from .proc import Child, run

SCENARIO = """
version: 1
id: resumable
title: Killed and resumed by step keys
duration: 20m
roles: {sre: {}}
faults:
  - {id: windowed, at: 1m, kind: testing.marker, path: windowed.marker, for: 10m}
  - {id: lasting, at: 3m, kind: testing.marker, path: lasting.marker}
injects:
  - {at: 2m, kind: announcement, text: "Search is failing"}
  - {at: 5m, kind: inquiry, text: "A customer calls"}
load:
  urls: [/]
  host: http://127.0.0.1:9
  stages:
    - {at: 0m, users: 2, spawn_rate: 1}
    - {at: 8m, users: 20, spawn_rate: 5}
    - {at: 12m, users: 2, spawn_rate: 5}
probes:
  - {id: paced, every: 30s, command: {run: [sleep, "0.1"], timeout: 5s}}
simulate:
  seed: 1
  people:
    - {role: sre, person: bob, detected: 2m, resolved: 15m}
"""

# Console lines to kill after, matched in a line's own words (``wait_for_line``): the "(next:
# …)" hint of "injecting lasting … (next: 05:00 inquiry: …)" names the inquiry too, and a kill
# there would land between the fault's intent and its result.
SPIKE = "load: 20 users"
STAGE_ONE = "load: 2 users, spawn 1/s"
INQUIRY = "inject inquiry"


def _drill_dir(root: Path) -> Path:
    (drill,) = list((root / "drills").iterdir())
    return drill


def _run_until(args: list[str], cwd: Path, text: str) -> list[int]:
    """Run ``kunren ARGS`` and SIGKILL it right after a console line containing ``text``;
    the seqs it acknowledged."""
    child = Child(args, cwd=cwd)
    try:
        child.wait_for_line(text)
        child.kill(signal.SIGKILL)
        assert child.finish() == -signal.SIGKILL, "\n".join(child.lines)
    finally:
        child.finish()
    return child.acknowledged()


def _crash_and_resume(tmp_path: Path, scenario: Path, kills: list[str]) -> list[ev.Event]:
    acked = _run_until(
        ["run", str(scenario), "--clock", "virtual", "--no-report"], tmp_path, kills[0]
    )
    drill = _drill_dir(tmp_path)
    for text in kills[1:]:
        acked += _run_until(["resume", str(drill), "--no-web"], tmp_path, text)
    done = run(["resume", str(drill), "--no-web"], cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    events = EventLog(drill).read()
    seqs = [e.seq for e in events]
    assert seqs == sorted(set(seqs)) and set(acked) <= set(seqs)
    return events


def _steps(events: list[ev.Event], key: str, kind: type[ev.Event]) -> list[ev.Event]:
    return [e for e in events if isinstance(e, kind) and e.step == key]


def _assert_every_step_once(events: list[ev.Event], scenario: Path) -> None:
    """Each load stage, inject and simulated mark exactly once, at its time or later."""
    schedule = build_schedule(load_scenario(scenario).scenario)
    for step in schedule:
        fired = [e for e in events if e.step == step.key]
        if isinstance(step, FaultStep) or step.key in ("end", "revert:windowed"):
            continue
        assert len(fired) == 1, (step.key, fired)
        assert fired[0].at >= step.at
    assert [e.at for e in _steps(events, "load:2", ev.LoadStage)] == [480.0]  # the spike
    (revert,) = _steps(events, "revert:windowed", ev.FaultReverted)
    assert revert.at == 660.0
    assert isinstance(events[-1], ev.DrillEnded)
    assert outstanding_faults(events) == []


def _reinjected_after_each_resume(events: list[ev.Event], fault: str) -> bool:
    """Every time recovery undid ``fault`` (a revert with no step key) while its window was
    open, the resumed conductor injected it again, once."""
    injected = [e for e in events if isinstance(e, ev.FaultInjected) and e.fault == fault]
    undone = [
        e for e in events if isinstance(e, ev.FaultReverted) and e.fault == fault and not e.step
    ]
    resumed = [e.seq for e in events if isinstance(e, ev.DrillResumed)]
    # the last undo is the finish path's, at the drill end
    by_recovery = [u for u in undone if any(r > u.seq for r in resumed)]
    return len(injected) == 1 + len(by_recovery) and all(
        any(i.seq > u.seq for i in injected) for u in by_recovery
    )


@pytest.mark.integration
def test_killed_once_with_an_open_ended_fault_active_resume_injects_it_again(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    scenario = write_scenario(SCENARIO)
    events = _crash_and_resume(tmp_path, scenario, ["injected lasting"])

    (resumed,) = [e for e in events if isinstance(e, ev.DrillResumed)]
    assert not _steps(events[: events.index(resumed)], "inject:2", ev.Inject)  # killed at 3m
    lasting = _steps(events, "fault:lasting", ev.FaultInjected)
    assert [e.seq < resumed.seq for e in lasting] == [True, False]  # before the kill, and again
    assert lasting[1].at == resumed.at
    assert _reinjected_after_each_resume(events, "lasting")
    assert _reinjected_after_each_resume(events, "windowed")
    _assert_every_step_once(events, scenario)
    assert not (tmp_path / "lasting.marker").exists()
    assert not (tmp_path / "windowed.marker").exists()


@pytest.mark.integration
def test_killed_twice_no_step_is_skipped_or_repeated(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    scenario = write_scenario(SCENARIO)
    events = _crash_and_resume(tmp_path, scenario, ["injected lasting", INQUIRY])

    first, second = [e.seq for e in events if isinstance(e, ev.DrillResumed)]
    (inquiry,) = _steps(events, "inject:2", ev.Inject)
    assert first < inquiry.seq < second  # the second kill came after the inquiry, as meant
    assert _reinjected_after_each_resume(events, "lasting")
    assert _reinjected_after_each_resume(events, "windowed")
    assert len(_steps(events, "fault:lasting", ev.FaultInjected)) == 3
    _assert_every_step_once(events, scenario)
    assert not (tmp_path / "lasting.marker").exists()


@pytest.mark.integration
def test_killed_twice_right_after_the_load_restarts_the_spike_still_comes(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    scenario = write_scenario(SCENARIO)
    # killed after the first stage, then twice right after resume re-applied it
    events = _crash_and_resume(tmp_path, scenario, [STAGE_ONE, STAGE_ONE, STAGE_ONE])

    stages = [(e.step, e.users) for e in events if isinstance(e, ev.LoadStage)]
    # the stage in effect, re-applied after each restart, carries no step key
    assert stages == [("load:1", 2), (None, 2), (None, 2), (None, 2), ("load:2", 20), ("load:3", 2)]
    _assert_every_step_once(events, scenario)
    assert _reinjected_after_each_resume(events, "windowed")
    assert _reinjected_after_each_resume(events, "lasting")
    assert sum(isinstance(e, ev.DrillResumed) for e in events) == 3


@pytest.mark.integration
def test_resume_with_a_speed_on_a_virtual_clock_drill_is_refused_and_reverts_nothing(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    scenario = write_scenario(SCENARIO)
    _run_until(["run", str(scenario), "--clock", "virtual", "--no-report"], tmp_path, SPIKE)
    drill = _drill_dir(tmp_path)
    before = (drill / "events.jsonl").read_bytes()

    refused = run(["resume", str(drill), "--no-web", "--speed", "10"], cwd=tmp_path)

    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        "Error: --speed: this drill runs on the virtual clock, which has no speed"
    ]
    assert (tmp_path / "lasting.marker").exists()  # nothing was touched
    assert (drill / "events.jsonl").read_bytes() == before
    (tmp_path / "lasting.marker").unlink()
    (tmp_path / "windowed.marker").unlink()
