"""The conductor on the virtual clock: order, timing, write-ahead, stop conditions, runbooks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from kunren.drills.conductor import Conductor, ConductorOptions
from kunren.record import events as ev
from kunren.record.folders import create_drill
from kunren.runtime.clock import VirtualClock
from kunren.scenarios.loader import load_scenario
from kunren.testing import run_virtual

BASIC = """
version: 1
id: basic
title: Basic drill
duration: 30m
roles:
  sre: {min: 1}
  support: {}
faults:
  - {id: first, at: 5m, kind: testing.marker, path: first.marker, for: 10m}
  - {id: second, at: 12m, kind: testing.marker, path: second.marker}
  - {id: broken, at: 13m, kind: testing.marker, path: broken.marker, fail: true}
injects:
  - {at: 8m, kind: inquiry, text: "The booking page shows an error", to: support}
  - {at: 9m, kind: unavailable, who: alice, for: 10m}
simulate:
  seed: 3
  people:
    - {role: sre, person: bob, detected: 6m, triaged: 11m-12m}
    - {role: support, person: alice, customer_notified: 10m-11m}
"""


def _types(events: list[ev.Event]) -> list[str]:
    return [e.type for e in events]


def test_steps_fire_in_time_order_at_their_drill_times(
    write_scenario: Callable[[str], Path], tmp_path: Path
) -> None:
    _drill_dir, events = run_virtual(write_scenario(BASIC), tmp_path / "drills")
    timeline = [(e.at, e.type, getattr(e, "fault", "") or getattr(e, "name", "")) for e in events]
    assert timeline[0] == (0.0, "drill.started", "")
    assert (300.0, "fault.injecting", "first") in timeline
    assert (300.0, "fault.injected", "first") in timeline
    assert (360.0, "milestone", "detected") in timeline
    assert (480.0, "inject", "") in timeline
    assert (900.0, "fault.reverted", "first") in timeline
    assert timeline[-1] == (1800.0, "drill.ended", "")
    assert [e.at for e in events] == sorted(e.at for e in events)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


def test_intent_is_logged_before_the_injector_acts_and_reverts_at_the_end(
    write_scenario: Callable[[str], Path], tmp_path: Path
) -> None:
    _drill_dir, events = run_virtual(write_scenario(BASIC), tmp_path / "drills")
    kinds = [(e.type, getattr(e, "fault", None)) for e in events if e.type.startswith("fault.")]
    assert kinds.index(("fault.injecting", "second")) < kinds.index(("fault.injected", "second"))
    # second has no `for`: it stays until the drill ends, then is reverted
    reverted = next(e for e in events if isinstance(e, ev.FaultReverted) and e.fault == "second")
    assert reverted.at == 1800.0
    assert not (tmp_path / "first.marker").exists()
    assert not (tmp_path / "second.marker").exists()


def test_a_failing_fault_is_recorded_and_the_drill_goes_on(
    write_scenario: Callable[[str], Path], tmp_path: Path
) -> None:
    _, events = run_virtual(write_scenario(BASIC), tmp_path / "drills")
    failed = [e for e in events if isinstance(e, ev.FaultFailed)]
    assert [(f.fault, f.error) for f in failed] == [("broken", "broken: told to fail")]
    assert isinstance(events[-1], ev.DrillEnded)


def test_simulated_people_are_seeded_and_skip_while_unavailable(
    write_scenario: Callable[[str], Path], tmp_path: Path
) -> None:
    path = write_scenario(BASIC)
    _, first = run_virtual(path, tmp_path / "a")
    _, second = run_virtual(path, tmp_path / "b")
    marks = [(e.at, e.actor, e.name, e.source) for e in first if isinstance(e, ev.Milestone)]
    assert marks == [
        (m.at, m.actor, m.name, m.source) for m in second if isinstance(m, ev.Milestone)
    ]
    # alice is unavailable 9m-19m, so her customer notice (10m-11m) never happens
    assert [(a, n) for _, a, n, _ in marks] == [("bob", "detected"), ("bob", "triaged")]
    assert all(source == "simulated" for *_, source in marks)


STOP = """
version: 1
id: stop
title: Stop condition
duration: 60m
faults:
  - {id: break-it, at: 2m, kind: testing.marker, path: down.marker}
probes:
  - {id: health, testing.file: {path: down.marker}, every: 30s}
stop_conditions:
  - {probe: health, failing_for: 5m}
"""


def test_a_stop_condition_aborts_and_reverts(
    write_scenario: Callable[[str], Path], tmp_path: Path
) -> None:
    _, events = run_virtual(write_scenario(STOP), tmp_path / "drills")
    failed = next(e for e in events if isinstance(e, ev.ProbeFailed))
    aborted = events[-1]
    assert isinstance(aborted, ev.DrillAborted)
    assert failed.at == 121.0  # checks run 1 s after the step grid: they see the fault at once
    assert aborted.at == 421.0
    assert aborted.reason.startswith("stop condition: probe health failing for 5m")
    assert any(isinstance(e, ev.FaultReverted) and e.fault == "break-it" for e in events)
    recovered = [e for e in events if isinstance(e, ev.ProbeRecovered)]
    assert recovered == []  # probes stop before the revert: no false recovery
    assert not (tmp_path / "down.marker").exists()


PROBES = """
version: 1
id: probes
title: Probe state changes
duration: 20m
faults:
  - {id: blip, at: 5m, kind: testing.marker, path: blip.marker, for: 2m}
probes:
  - {id: health, testing.file: {path: blip.marker}, every: 10s}
"""


def test_probes_log_only_state_changes(
    write_scenario: Callable[[str], Path], tmp_path: Path
) -> None:
    _, events = run_virtual(write_scenario(PROBES), tmp_path / "drills")
    changes = [(e.type, e.at) for e in events if e.type.startswith("probe.")]
    assert changes == [("probe.failed", 301.0), ("probe.recovered", 421.0)]


RUNBOOK = """
version: 1
id: runbook
title: Runbook
duration: 10m
roles:
  sre: {}
  support: {}
runbooks:
  - {id: flag, title: "Raise the flag", kind: testing.marker, path: flag.marker, roles: [sre]}
"""


def test_a_runbook_runs_for_allowed_roles_and_is_reverted_at_the_end(
    write_scenario: Callable[[str], Path], tmp_path: Path
) -> None:
    loaded = load_scenario(write_scenario(RUNBOOK))
    clock = VirtualClock()
    log = create_drill(loaded, tmp_path / "drills", clock.wall())
    conductor = Conductor(loaded, log, clock, ConductorOptions(drill_id="x", clock_kind="virtual"))
    results: list[ev.Runbook] = []

    async def participant() -> None:
        await clock.sleep_until(60)
        results.append(await conductor.run_runbook("flag", "carol", "support"))
        await clock.sleep_until(120)
        results.append(await conductor.run_runbook("flag", "bob", "sre"))
        assert (tmp_path / "flag.marker").exists()

    async def main() -> None:
        await asyncio.gather(conductor.run(), participant())

    asyncio.run(main())
    assert [(r.actor, r.result, r.at) for r in results] == [
        ("carol", "refused", 60.0),
        ("bob", "ok", 120.0),
    ]
    events = log.read()
    assert any(isinstance(e, ev.FaultInjecting) and e.runbook == "flag" for e in events)
    # a participant's runbook is no scheduled step: its events carry no step key
    assert [e.step for e in events if e.type in ("runbook", "fault.injected")] == [None] * 3
    assert not (tmp_path / "flag.marker").exists()


BROKEN_SERVICE = """
version: 1
id: broken-service
title: A service that cannot start
duration: 10m
services:
  shop:
    command: [python, -c, "import sys; print('boom: port taken', file=sys.stderr); sys.exit(1)"]
    ready: http://127.0.0.1:9/health
faults:
  - {id: never, at: 1m, kind: testing.marker, path: never.marker}
"""


def test_a_service_that_cannot_start_aborts_before_anything_is_injected(
    write_scenario: Callable[[str], Path], tmp_path: Path
) -> None:
    drill_dir, events = run_virtual(write_scenario(BROKEN_SERVICE), tmp_path / "drills")
    assert [e.type for e in events] == ["drill.started", "drill.aborted"]
    aborted = events[-1]
    assert isinstance(aborted, ev.DrillAborted)
    assert aborted.reason.startswith(
        "could not start: service shop exited with code 1 before ready: boom: port taken"
    )
    assert (drill_dir / "services" / "shop.log").read_text().strip() == "boom: port taken"
    assert not (tmp_path / "never.marker").exists()
