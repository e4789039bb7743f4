"""Schedule steps: one class per kind, stable keys, the record carries them, resume reads them."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from kunren.drills.resume import done_keys, plan_resume
from kunren.drills.schedule import (
    EndStep,
    FaultStep,
    InjectStep,
    LoadStep,
    RevertStep,
    SimulatedStep,
    Step,
    build_schedule,
    pending_steps,
)
from kunren.errors import UsageError
from kunren.record import events as ev
from kunren.record.attach import attached_clock
from kunren.record.eventlog import EventLog
from kunren.record.folders import create_drill
from kunren.scenarios.loader import load_scenario
from kunren.scenarios.models import Scenario
from kunren.testing import run_virtual

STEPS = """
version: 1
id: steps
title: Every kind of step
duration: 40m
roles: {sre: {}}
faults:
  - {id: windowed, at: 1m, kind: testing.marker, path: windowed.marker, for: 10m}
  - {id: lasting, at: 3m, kind: testing.marker, path: lasting.marker}
  - {id: broken, at: 4m, kind: testing.marker, path: broken.marker, fail: true}
injects:
  - {at: 2m, kind: announcement, text: "Search is failing"}
  - {at: 5m, kind: inquiry, text: "A customer calls"}
load:
  urls: [/]
  host: http://127.0.0.1:9
  stages:
    - {at: 0m, users: 2, spawn_rate: 1}
    - {at: 10m, users: 20, spawn_rate: 5}
    - {at: 20m, users: 2, spawn_rate: 5}
simulate:
  seed: 1
  people:
    - {role: sre, person: bob, detected: 2m, resolved: 30m}
"""


def _scenario(tmp_path: Path, text: str = STEPS) -> Scenario:
    path = tmp_path / "steps.yaml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return load_scenario(path).scenario


def test_every_step_has_a_stable_key_and_steps_come_in_firing_order(tmp_path: Path) -> None:
    schedule = build_schedule(_scenario(tmp_path))
    assert [(step.at, step.key) for step in schedule] == [
        (0.0, "load:1"),
        (60.0, "fault:windowed"),
        (120.0, "inject:1"),
        (120.0, "sim:bob:detected"),
        (180.0, "fault:lasting"),
        (240.0, "fault:broken"),
        (300.0, "inject:2"),
        (600.0, "load:2"),  # a load stage before ...
        (660.0, "revert:windowed"),  # ... (reverts first at the same time: none here)
        (1200.0, "load:3"),
        (1800.0, "sim:bob:resolved"),
        (2400.0, "end"),
    ]
    kinds = {type(step) for step in schedule}
    assert kinds == {FaultStep, RevertStep, LoadStep, InjectStep, SimulatedStep, EndStep}
    assert build_schedule(_scenario(tmp_path)) == schedule  # same scenario, same steps


def test_at_the_same_time_a_revert_comes_before_a_stage_and_a_fault(tmp_path: Path) -> None:
    text = STEPS.replace("for: 10m}", "for: 9m}")  # windowed now ends at 10m, with load:2
    at_ten = [step.key for step in build_schedule(_scenario(tmp_path, text)) if step.at == 600]
    assert at_ten == ["revert:windowed", "load:2"]


def test_every_event_a_step_produces_carries_its_key_and_no_other_does(
    write_scenario: Callable[[str], Path], tmp_path: Path
) -> None:
    _, events = run_virtual(write_scenario(STEPS), tmp_path / "drills")
    by_step = [(e.step, e.type) for e in events if e.step is not None]
    assert by_step == [
        ("load:1", "load.stage"),
        ("fault:windowed", "fault.injecting"),
        ("fault:windowed", "fault.injected"),
        ("inject:1", "inject"),
        ("sim:bob:detected", "milestone"),
        ("fault:lasting", "fault.injecting"),
        ("fault:lasting", "fault.injected"),
        ("fault:broken", "fault.injecting"),
        ("fault:broken", "fault.failed"),
        ("inject:2", "inject"),
        ("load:2", "load.stage"),
        ("revert:windowed", "fault.reverting"),
        ("revert:windowed", "fault.reverted"),
        ("load:3", "load.stage"),
        ("sim:bob:resolved", "milestone"),
    ]
    unkeyed = [(e.type, getattr(e, "fault", "")) for e in events if e.step is None]
    # the drill's own start and end, and the finish path undoing what is still active:
    # the fault with no `for`, and the failed one that may have half-acted
    assert unkeyed == [
        ("drill.started", ""),
        ("fault.reverting", "broken"),
        ("fault.reverted", "broken"),
        ("fault.reverting", "lasting"),
        ("fault.reverted", "lasting"),
        ("drill.ended", ""),
    ]
    lines = (tmp_path / "drills").glob("*/events.jsonl")
    text = next(lines).read_text(encoding="utf-8").splitlines()
    assert '"step":"load:1"' in text[1]
    assert all('"step"' not in line for line in (text[0], text[-1]))  # left out when none


def _keys(steps: list[Step]) -> list[str]:
    return [step.key for step in steps]


def test_a_fresh_drill_fires_every_step(tmp_path: Path) -> None:
    schedule = build_schedule(_scenario(tmp_path))
    assert pending_steps(schedule, frozenset(), 0.0) == schedule


def test_on_resume_late_steps_fire_and_a_closed_window_is_not_opened(tmp_path: Path) -> None:
    schedule = build_schedule(_scenario(tmp_path))
    done = frozenset({"load:1", "fault:lasting", "inject:1"})
    # resumed at 12m: windowed (1m-11m) never fired and its window closed meanwhile
    pending = _keys(pending_steps(schedule, done, 720.0))
    assert pending == [
        "sim:bob:detected",
        "fault:broken",
        "inject:2",
        "load:2",
        "load:3",
        "sim:bob:resolved",
        "end",
    ]


def _event(event: ev.Event, seq: int, step: str | None = None) -> ev.Event:
    return event.model_copy(update={"seq": seq, "step": step})


def test_done_keys_come_from_the_record_and_a_stage_reapplied_on_resume_is_not_one(
    tmp_path: Path,
) -> None:
    schedule = build_schedule(_scenario(tmp_path))
    record = [
        _event(ev.LoadStage(users=2, spawn_rate=1), 1, "load:1"),
        _event(ev.Inject(kind="announcement"), 2, "inject:1"),
        _event(ev.DrillResumed(), 3),
        _event(ev.LoadStage(users=2, spawn_rate=1), 4),  # the stage in effect, re-applied
        _event(ev.DrillResumed(), 5),
        _event(ev.LoadStage(users=2, spawn_rate=1), 6),
    ]
    assert done_keys(schedule, record, 900.0) == {"load:1", "inject:1"}


def _injected(fault: str, seq: int) -> list[ev.Event]:
    return [
        _event(ev.FaultInjecting(fault=fault, kind="testing.marker"), seq, f"fault:{fault}"),
        _event(
            ev.FaultInjected(fault=fault, revert={"path": f"{fault}.marker"}),
            seq + 1,
            f"fault:{fault}",
        ),
    ]


def test_a_fault_undone_by_recovery_is_injected_again_while_its_window_is_open(
    tmp_path: Path,
) -> None:
    schedule = build_schedule(_scenario(tmp_path))
    record = [
        *_injected("windowed", 1),
        *_injected("lasting", 3),
        _event(ev.FaultFailed(fault="broken", error="told to fail"), 5, "fault:broken"),
        # `kunren revert` after the crash: no step key
        _event(ev.FaultReverted(fault="windowed"), 6),
        _event(ev.FaultReverted(fault="lasting"), 7),
    ]
    # at 5m: windowed (until 11m) and lasting (no `for`: until the end) are open again
    assert done_keys(schedule, record, 300.0) == {"fault:broken"}
    # at 12m windowed's window has closed: it stays done; lasting still has no end
    assert done_keys(schedule, record, 720.0) == {"fault:windowed", "fault:broken"}


def test_a_fault_its_own_revert_step_undid_is_not_injected_again(tmp_path: Path) -> None:
    text = STEPS.replace("for: 10m}", "for: 30m}")  # windowed: 1m-31m
    schedule = build_schedule(_scenario(tmp_path, text))
    record = [
        *_injected("windowed", 1),
        _event(ev.FaultReverting(fault="windowed"), 3, "revert:windowed"),
        _event(ev.FaultReverted(fault="windowed"), 4, "revert:windowed"),
    ]
    assert done_keys(schedule, record, 600.0) == {"fault:windowed", "revert:windowed"}


def test_a_fault_recovery_could_not_undo_is_not_injected_twice(tmp_path: Path) -> None:
    schedule = build_schedule(_scenario(tmp_path))
    record = [
        *_injected("lasting", 1),
        _event(ev.FaultRevertFailed(fault="lasting", error="gone"), 3),
    ]
    assert done_keys(schedule, record, 300.0) == {"fault:lasting"}


def test_a_record_from_before_step_keys_is_read_by_what_each_step_records(
    tmp_path: Path,
) -> None:
    schedule = build_schedule(_scenario(tmp_path))
    unkeyed: list[ev.Event] = [
        ev.LoadStage(users=2, spawn_rate=1, at=0.0),
        ev.FaultInjecting(fault="windowed", kind="testing.marker", at=60.0),
        ev.FaultInjected(fault="windowed", revert={"path": "w"}, at=60.0),
        ev.Inject(kind="announcement", at=120.0),
        ev.Milestone(name="detected", actor="bob", source="simulated", at=120.0),
        ev.FaultInjected(fault="lasting", revert={"path": "l"}, at=180.0),
        ev.DrillResumed(at=200.0),
        ev.LoadStage(users=2, spawn_rate=1, at=200.0),  # re-applied: not the 10m stage
        ev.FaultReverted(fault="windowed", at=260.0),  # `kunren revert` after a crash
        ev.FaultReverted(fault="lasting", at=260.0),
    ]
    record = [_event(event, n) for n, event in enumerate(unkeyed, 1)]
    # windowed and lasting were undone with their windows open: injected again; the revert
    # after the crash is not windowed's scheduled revert; the spike has not fired
    assert done_keys(schedule, record, 260.0) == {"load:1", "inject:1", "sim:bob:detected"}


def _scaled_drill(tmp_path: Path, *after: ev.Event) -> Path:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "steps.yaml").write_text(textwrap.dedent(STEPS).lstrip(), encoding="utf-8")
    loaded = load_scenario(tmp_path / "steps.yaml")
    wall = "2026-11-28T14:00:00+09:00"  # the drill's time has run past its end since
    log = create_drill(loaded, tmp_path / "drills", datetime.fromisoformat(wall))
    started = ev.DrillStarted(
        drill=log.drill_dir.name, scenario_id="steps", duration=2400, clock="scaled", speed=240
    )
    for event in (started, *after):
        log.append(event.model_copy(update={"wall": wall}))
    return log.drill_dir


def test_a_resume_speed_is_recorded_and_the_drill_time_follows_it_afterwards(
    tmp_path: Path,
) -> None:
    drill = _scaled_drill(tmp_path / "a", ev.DrillResumed(at=60.0, speed=2400))
    attached = attached_clock(EventLog(drill).read())
    assert attached is not None and attached.speed == 2400
    # a later resume without --speed keeps the speed the drill last ran at
    assert plan_resume(drill).speed == 2400
    assert plan_resume(drill, speed=10).speed == 10

    as_started = _scaled_drill(tmp_path / "b", ev.DrillResumed(at=60.0))
    assert plan_resume(as_started).speed == 240


def test_resume_refuses_a_speed_that_is_not_positive(tmp_path: Path) -> None:
    drill = _scaled_drill(tmp_path)
    with pytest.raises(UsageError, match=r"^--speed must be positive$"):
        plan_resume(drill, speed=0)


def test_a_fault_whose_injection_the_crash_interrupted_is_not_done(tmp_path: Path) -> None:
    schedule = build_schedule(_scenario(tmp_path))
    intent = ev.FaultInjecting(fault="lasting", kind="testing.marker", revert={"path": "l"})
    record = [
        _event(intent, 1, "fault:lasting"),
        _event(ev.FaultReverted(fault="lasting"), 2),  # `kunren revert`, from the intent
    ]
    assert done_keys(schedule, record, 300.0) == frozenset()
