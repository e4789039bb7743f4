"""The finish path, for every way out of the run, and the plugin seam, on the virtual clock.

Each way out (the drill's end, an abort, a stop condition, SIGTERM, a buggy plugin, an
exception in startup) must leave the same state behind: no fault active (the marker file is
gone), the drill's service process gone, no pid file, and the record closed by the event that
says how it ended. The buggy plugins are a real third-party distribution (``buggy.py``) found
through its entry points.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bench import buggy

from kunren.drills.conductor import PID_FILE, Conductor, ConductorOptions, Outcome
from kunren.errors import RevertError
from kunren.record import events as ev
from kunren.record.eventlog import EventLog
from kunren.record.folders import create_drill
from kunren.runtime import procfs
from kunren.runtime.clock import VirtualClock
from kunren.scenarios.loader import load_scenario

BASE = """
version: 1
id: ways-out
title: Every way out
duration: 10m
services:
  svc: {command: [python, -c, "import time; time.sleep(600)"]}
faults:
  - {id: m1, at: 1m, kind: testing.marker, path: m1.marker}
"""

EXTRA: dict[str, str] = {
    "end": "",
    "abort": "",
    "sigterm": "",
    "stop-condition": """
probes:
  - {id: flag, every: 30s, testing.file: {path: m1.marker}}
stop_conditions:
  - {probe: flag, failing_for: 1m}
""",
    "plugin-exception": """
  - {id: boom, at: 2m, kind: buggy.valueerror}
  - {id: nosetup, at: 3m, kind: buggy.setupbug}
probes:
  - {id: flaky, every: 1m, buggy.runtimeerror: {}}
""",
    "startup-exception": """
  other: {command: [/nonexistent/kunren-test-command]}
""",
}

ENDS: dict[str, tuple[type[ev.Event], str]] = {
    "end": (ev.DrillEnded, ""),
    "abort": (ev.DrillAborted, "the facilitator stopped it"),
    "sigterm": (ev.DrillAborted, "SIGTERM received"),
    "stop-condition": (ev.DrillAborted, "stop condition: probe flag failing for 1m"),
    "plugin-exception": (ev.DrillEnded, ""),
    "startup-exception": (ev.DrillAborted, "could not start: service other: cannot start"),
}


@pytest.fixture
def buggy_installed(tmp_path: Path) -> Iterator[Path]:
    with buggy.activate(tmp_path / "site"):
        yield tmp_path / "site"


def _scenario(way: str) -> str:
    """The base drill plus this way out."""
    base = BASE
    extra = EXTRA[way]
    if way == "startup-exception":  # a second service, under `services:`
        return base.replace("faults:", extra.strip("\n") + "\nfaults:", 1)
    return base + extra


def _run(
    write_scenario: Callable[[str], Path], tmp_path: Path, way: str
) -> tuple[Outcome, list[ev.Event], Conductor]:
    loaded = load_scenario(write_scenario(_scenario(way)))
    clock = VirtualClock()
    log = create_drill(loaded, tmp_path / "drills", clock.wall())
    conductor = Conductor(loaded, log, clock, ConductorOptions(drill_id="x", clock_kind="virtual"))

    async def meanwhile() -> None:
        await clock.sleep_until(180)
        if way == "abort":
            conductor.abort("the facilitator stopped it")
        elif way == "sigterm":
            os.kill(os.getpid(), signal.SIGTERM)

    async def main() -> Outcome:
        helper = asyncio.create_task(meanwhile())
        try:
            return await conductor.run()
        finally:
            helper.cancel()

    outcome = asyncio.run(main())
    return outcome, EventLog(log.drill_dir).read(), conductor


@pytest.mark.parametrize("way", list(EXTRA))
def test_every_way_out_of_the_run_reverts_stops_and_closes_the_record(
    write_scenario: Callable[[str], Path], tmp_path: Path, way: str, request: pytest.FixtureRequest
) -> None:
    if way == "plugin-exception":
        request.getfixturevalue("buggy_installed")
    outcome, events, conductor = _run(write_scenario, tmp_path, way)
    drill_dir = conductor.log.drill_dir

    end_type, reason = ENDS[way]
    assert isinstance(events[-1], end_type), events[-1]
    assert getattr(events[-1], "reason", "").startswith(reason)
    assert outcome.status == ("ended" if end_type is ev.DrillEnded else "aborted")
    assert not (tmp_path / "m1.marker").exists()
    assert not (drill_dir / PID_FILE).exists()
    started = [e for e in events if isinstance(e, ev.ServiceStarted)]
    if way == "startup-exception":
        assert started == []  # the drill never started: svc was stopped unrecorded
        assert [e.type for e in events] == ["drill.started", "drill.aborted"]
    else:
        assert [e.name for e in started] == ["svc"]
        assert procfs.alive(started[0].pid) is None
        stopped = [e.name for e in events if isinstance(e, ev.ServiceStopped)]
        assert stopped == ["svc"]
        reverted = [e.fault for e in events if isinstance(e, ev.FaultReverted)]
        assert reverted == ["m1"]


def test_a_service_started_before_one_that_fails_to_start_is_stopped(
    write_scenario: Callable[[str], Path], tmp_path: Path
) -> None:
    outcome, _, conductor = _run(write_scenario, tmp_path, "startup-exception")

    assert outcome.reason.startswith("could not start: service other: cannot start")
    assert conductor.stopped_services == ["svc"]  # it was running when the finish stopped it
    assert conductor.services["svc"].pid is None  # exited and reaped


def test_a_buggy_plugin_fails_its_own_step_named_and_recorded_and_the_drill_goes_on(
    write_scenario: Callable[[str], Path], tmp_path: Path, buggy_installed: Path
) -> None:
    outcome, events, _ = _run(write_scenario, tmp_path, "plugin-exception")

    failed = {e.fault: e.error for e in events if isinstance(e, ev.FaultFailed)}
    origin = "(kunren-buggy 0.1, module kunren_buggy)"
    assert failed["boom"] == (
        f"fault kind buggy.valueerror {origin}: inject raised ValueError: the plugin has a bug"
    )
    assert failed["nosetup"] == (
        f"not injected: fault kind buggy.setupbug {origin}: setup raised KeyError: 'setup'"
    )
    probe = next(e for e in events if isinstance(e, ev.ProbeFailed))
    assert probe.detail == (
        f"probe kind buggy.runtimeerror {origin}: check raised RuntimeError: probe exploded"
    )
    injected = [e.fault for e in events if isinstance(e, ev.FaultInjecting)]
    assert injected == ["m1", "boom"]  # the step whose setup failed never acts
    assert outcome.status == "ended"


def test_a_revert_that_raises_is_loud_and_the_other_faults_are_still_reverted(
    write_scenario: Callable[[str], Path], tmp_path: Path, buggy_installed: Path
) -> None:
    scenario = _scenario("end") + "  - {id: sticky, at: 2m, kind: buggy.revertbug}\n"
    loaded = load_scenario(write_scenario(scenario))
    clock = VirtualClock()
    log = create_drill(loaded, tmp_path / "drills", clock.wall())
    conductor = Conductor(loaded, log, clock, ConductorOptions(drill_id="x", clock_kind="virtual"))

    with pytest.raises(RevertError) as raised:
        asyncio.run(conductor.run())

    assert raised.value.exit_code == 4
    assert str(raised.value).startswith("revert failed for sticky: the environment may be left")
    events = log.read()
    revert_failed = next(e for e in events if isinstance(e, ev.FaultRevertFailed))
    assert revert_failed.error.endswith("revert raised ZeroDivisionError: revert bug")
    assert [e.fault for e in events if isinstance(e, ev.FaultReverted)] == ["m1"]
    assert not (tmp_path / "m1.marker").exists()
    notes = [e.text for e in events if isinstance(e, ev.Note)]
    assert any("closing sticky failed" in n and "OSError: close bug" in n for n in notes)
    assert isinstance(events[-1], ev.DrillEnded)


def test_a_run_cancelled_while_a_plugin_is_mid_inject_reverts_what_it_planned(
    write_scenario: Callable[[str], Path], tmp_path: Path, buggy_installed: Path
) -> None:
    scenario = _scenario("end") + "  - {id: stuck, at: 2m, kind: buggy.hanging}\n"
    loaded = load_scenario(write_scenario(scenario))
    clock = VirtualClock()
    log = create_drill(loaded, tmp_path / "drills", clock.wall())
    conductor = Conductor(loaded, log, clock, ConductorOptions(drill_id="x", clock_kind="virtual"))
    marker = log.drill_dir / "hanging.marker"

    async def main() -> Outcome:
        running = asyncio.create_task(conductor.run())
        for _ in range(2000):  # poll until the plugin has acted (bounded: about 20 s)
            if marker.exists() or running.done():
                break
            await asyncio.sleep(0.01)
        running.cancel()
        return await running

    outcome = asyncio.run(main())

    assert outcome.reason == "cancelled"
    assert not marker.exists()  # undone from its planned handle, though inject never returned
    events = log.read()
    assert [e.fault for e in events if isinstance(e, ev.FaultReverted)] == ["stuck", "m1"]
    assert isinstance(events[-1], ev.DrillAborted)
