"""LocalDrillControl: runbooks through a real process and the plugin registry, abort, reading."""

from __future__ import annotations

import asyncio
import importlib
import threading
from pathlib import Path

import pytest

from kunren import plugins
from kunren.page import LocalDrillControl, RunbookOutcome, RunbookRunner
from kunren.page.control import AbortHook
from kunren.record.eventlog import EventLog
from kunren.record.events import Note, Runbook
from kunren.runtime.clock import VirtualClock
from kunren.runtime.seam import LIMITS
from kunren.scenarios.models import RunbookSpec, Scenario
from tests.drills import hung
from tests.page.conftest import SCENARIO, KillWorker, start_worker


def control(
    tmp_path: Path,
    *,
    runbooks: RunbookRunner | None = None,
    on_abort: AbortHook | None = None,
    runbook_specs: list[dict[str, str]] | None = None,
) -> LocalDrillControl:
    """A local drill on SCENARIO; ``runbook_specs`` replaces its runbooks when given."""
    scenario = SCENARIO if runbook_specs is None else {**SCENARIO, "runbooks": runbook_specs}
    log = EventLog.create(tmp_path / "drill", "version: 1\n")
    return LocalDrillControl(
        Scenario.model_validate(scenario),
        log,
        VirtualClock(start=42.0),
        participant_token="p" * 40,
        facilitator_token="f" * 40,
        runbooks=runbooks,
        on_abort=on_abort,
    )


def test_a_runbook_kills_a_real_process_and_records_ok(tmp_path: Path) -> None:
    worker = start_worker()
    try:
        drill = control(tmp_path, runbooks=KillWorker(worker))
        event = asyncio.run(drill.run_runbook("stop-worker", "Ben", "sre"))
        assert worker.poll() == -9
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait(5)
    assert isinstance(event, Runbook) and event.seq == 1
    assert (event.runbook, event.actor, event.role, event.result, event.at) == (
        "stop-worker",
        "Ben",
        "sre",
        "ok",
        42.0,
    )
    assert event.detail == f"killed pid {worker.pid} (exit -9)"
    assert drill.events() == [event]


def test_a_runbook_for_another_role_or_unknown_is_refused_without_running(tmp_path: Path) -> None:
    calls: list[str] = []

    async def runner(spec: RunbookSpec) -> RunbookOutcome:
        calls.append(spec.id)
        return RunbookOutcome("ok")

    drill = control(tmp_path, runbooks=runner)
    other = asyncio.run(drill.run_runbook("restart-shop", "Aiko", "support"))
    unknown = asyncio.run(drill.run_runbook("format-disk", "Aiko", "support"))
    assert (other.result, other.detail) == ("refused", "role support may not run restart-shop")
    assert unknown.result == "refused" and calls == []


def test_the_injector_plugins_run_runbooks_by_default_and_failures_are_results(
    tmp_path: Path,
) -> None:
    drill = control(
        tmp_path, runbook_specs=[{"id": "mystery", "title": "Mystery", "kind": "no.such.kind"}]
    )
    event = asyncio.run(drill.run_runbook("mystery", "Ben", "sre"))
    assert (event.result, event.detail) == ("failed", "unknown fault kind 'no.such.kind'")


def test_a_runner_that_crashes_is_a_failed_result_not_a_crash(tmp_path: Path) -> None:
    async def runner(spec: RunbookSpec) -> RunbookOutcome:
        raise ConnectionError("capacity API unreachable")

    drill = control(tmp_path, runbooks=runner)
    event = asyncio.run(drill.run_runbook("stop-worker", "Ben", "sre"))
    assert (event.result, event.detail) == ("failed", "ConnectionError: capacity API unreachable")


def test_abort_records_who_aborted_and_calls_the_hook(tmp_path: Path) -> None:
    seen: list[tuple[str, str]] = []

    async def hook(reason: str, actor: str) -> None:
        seen.append((reason, actor))

    drill = control(tmp_path, on_abort=hook)
    asyncio.run(drill.abort("real outage next door", "Kim"))
    (aborted,) = drill.events()
    assert aborted.type == "drill.aborted"
    assert aborted.reason == "real outage next door (by Kim)"
    assert seen == [("real outage next door", "Kim")]


def test_events_follow_other_writers_and_leave_a_torn_tail_alone(tmp_path: Path) -> None:
    drill = control(tmp_path)
    drill.record(Note(text="one"))
    other_writer = EventLog(drill.recorder.log.drill_dir)  # `kunren mark` in another terminal
    other_writer.append(Note(text="two", at=43.0))
    notes = drill.events()
    assert all(isinstance(e, Note) for e in notes)
    assert [e.text for e in notes if isinstance(e, Note)] == ["one", "two"]
    assert [e.seq for e in drill.events(after=1)] == [2]
    with open(other_writer.path, "ab") as log:
        log.write(b'{"type": "note", "seq": 3, "te')  # a crash mid-write
    assert [e.seq for e in drill.events()] == [1, 2]
    assert drill.events(after=2) == []


@pytest.mark.parametrize("kind", ["hung.inject", "hung.blocking"])
def test_a_runbook_plugin_that_never_returns_is_a_failed_result_at_its_time_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """The tabletop runner calls plugins through the seam, as the conductor does: a runbook
    whose inject never returns fails at the limit, recorded write-ahead, instead of holding
    the participant's click forever."""
    monkeypatch.syspath_prepend(str(hung.install(tmp_path / "site")))
    importlib.invalidate_caches()
    plugins.forget()
    monkeypatch.setitem(LIMITS, "inject", 0.2)
    marker = tmp_path / "marker"
    drill = control(
        tmp_path,
        runbook_specs=[{"id": "stuck", "title": "Stuck", "kind": kind, "path": str(marker)}],
    )
    results: list[Runbook] = []
    # a daemon thread with a deadline: were the runner to wait on the plugin, this test
    # fails after 30 s instead of hanging the suite (a blocked thread cannot be stopped)
    runner = threading.Thread(
        target=lambda: results.append(asyncio.run(drill.run_runbook("stuck", "Ben", "sre"))),
        daemon=True,
    )
    try:
        runner.start()
        runner.join(timeout=30)
    finally:
        plugins.forget()
    assert not runner.is_alive(), "the runbook still waits on its plugin after 30 s"
    [event] = results
    assert event.result == "failed"
    assert "inject did not return within 0.2s" in event.detail
    assert hung.ORIGIN in event.detail
    assert marker.exists()  # it acted before hanging: the record says how to undo it
    types = [e.type for e in drill.events()]
    assert types == ["fault.injecting", "fault.failed", "runbook"]
