"""process.kill / process.stop / process.restart against real child processes and signals."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from kunren.drills.services import ManagedService
from kunren.errors import GuardrailError, InjectionError
from kunren.injectors.base import FaultRequest
from kunren.injectors.process import (
    ProcessKill,
    ProcessKillParams,
    ProcessRestart,
    ProcessRestartParams,
    ProcessStop,
    ProcessStopParams,
)
from kunren.runtime.context import DrillContext, ServiceHandle, drill_context
from kunren.scenarios.models import Scenario, Service, Target
from tests.waiting import until

pytestmark = pytest.mark.integration

SLEEPER = "import time\nwhile True: time.sleep(1)"
Spawn = Callable[[str], subprocess.Popen[bytes]]


def state(pid: int) -> str | None:
    """The process state letter from /proc (R, S, T, Z…), None when gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    return stat[stat.rfind(")") + 2]


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    """Start sleeping python children tagged with a marker; all are killed afterwards."""
    children: list[subprocess.Popen[bytes]] = []

    def start(marker: str) -> subprocess.Popen[bytes]:
        child = subprocess.Popen([sys.executable, "-c", SLEEPER, marker])
        children.append(child)
        until(lambda: marker in Path(f"/proc/{child.pid}/cmdline").read_text())
        return child

    yield start
    for child in children:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGCONT)
            child.kill()
        child.wait(timeout=10)


def request(kind: str, target: Mapping[str, object], params: BaseModel) -> FaultRequest:
    return FaultRequest(
        id="f1",
        kind=kind,
        target_name="proc",
        target=Target.model_validate(target),
        params=params,
    )


def context(tmp_path: Path, services: Mapping[str, ServiceHandle] | None = None) -> DrillContext:
    scenario = Scenario.model_validate({"version": 1, "id": "t", "title": "t", "duration": "10m"})
    return drill_context(scenario, scenario_dir=tmp_path, services=services)


def marker() -> str:
    return f"kunren-test-{uuid.uuid4().hex}"


# ---------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    ("given", "number"),
    [("KILL", 9), ("SIGKILL", 9), ("kill", 9), (9, 9), ("9", 9), ("HUP", 1), ("usr1", 10)],
)
def test_signal_accepts_names_and_numbers(given: object, number: int) -> None:
    assert ProcessKillParams.model_validate({"signal": given}).signal == number


def test_signal_defaults_to_term() -> None:
    assert ProcessKillParams().signal == signal.SIGTERM


@pytest.mark.parametrize("given", ["FOO", 0, 999, True, ""])
def test_unknown_signal_is_rejected_with_the_value(given: object) -> None:
    with pytest.raises(ValidationError, match="signal"):
        ProcessKillParams.model_validate({"signal": given})


def test_unknown_parameter_is_rejected() -> None:
    with pytest.raises(ValidationError, match="extra"):
        ProcessStopParams.model_validate({"signal": "KILL"})


# ---------------------------------------------------------------- process.kill


def test_kill_sends_the_named_signal_to_the_pid_file_process(tmp_path: Path, spawn: Spawn) -> None:
    child = spawn(marker())
    (tmp_path / "app.pid").write_text(f"{child.pid}\n")
    injector = ProcessKill(
        context(tmp_path),
        request("process.kill", {"process": {"pid_file": "app.pid"}}, ProcessKillParams(signal=9)),
    )
    done = asyncio.run(injector.inject())
    assert child.wait(timeout=5) == -signal.SIGKILL
    assert done.revert is None
    assert done.detail == "sent SIGKILL"
    assert done.targets[0].startswith(f"pid {child.pid} (")


def test_kill_defaults_to_sigterm(tmp_path: Path, spawn: Spawn) -> None:
    tag = marker()
    child = spawn(tag)
    injector = ProcessKill(
        context(tmp_path),
        request("process.kill", {"process": {"pattern": tag}}, ProcessKillParams()),
    )
    asyncio.run(injector.inject())
    assert child.wait(timeout=5) == -signal.SIGTERM


def test_pattern_matching_several_processes_is_refused_without_all(
    tmp_path: Path, spawn: Spawn
) -> None:
    tag = marker()
    first, second = spawn(tag), spawn(tag)
    injector = ProcessKill(
        context(tmp_path),
        request("process.kill", {"process": {"pattern": tag}}, ProcessKillParams()),
    )
    with pytest.raises(
        InjectionError, match=r"matches 2 processes .*; narrow the pattern or set all"
    ):
        asyncio.run(injector.inject())
    assert first.poll() is None and second.poll() is None


def test_pattern_with_all_signals_every_match(tmp_path: Path, spawn: Spawn) -> None:
    tag = marker()
    children = [spawn(tag), spawn(tag)]
    params = ProcessKillParams.model_validate({"signal": "KILL", "all": True})
    injector = ProcessKill(
        context(tmp_path), request("process.kill", {"process": {"pattern": tag}}, params)
    )
    done = asyncio.run(injector.inject())
    assert len(done.targets) == 2
    assert [child.wait(timeout=5) for child in children] == [-9, -9]


def test_pattern_matching_nothing_is_refused(tmp_path: Path) -> None:
    injector = ProcessKill(
        context(tmp_path),
        request("process.kill", {"process": {"pattern": marker()}}, ProcessKillParams()),
    )
    with pytest.raises(InjectionError, match="no running process for processes matching"):
        asyncio.run(injector.inject())


def test_pattern_never_matches_kunren_itself(tmp_path: Path) -> None:
    own = Path(f"/proc/{os.getpid()}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    injector = ProcessKill(
        context(tmp_path),
        request("process.kill", {"process": {"pattern": "^" + own[:40]}}, ProcessKillParams()),
    )
    plan = asyncio.run(injector.plan())
    assert not any(f"pid {os.getpid()} " in target for target in plan.targets)


def test_pid_file_naming_kunren_itself_is_refused(tmp_path: Path) -> None:
    (tmp_path / "me.pid").write_text(str(os.getpid()))
    injector = ProcessKill(
        context(tmp_path),
        request("process.kill", {"process": {"pid_file": "me.pid"}}, ProcessKillParams()),
    )
    with pytest.raises(GuardrailError, match="kunren itself or one of its parents"):
        asyncio.run(injector.inject())


def test_pid_file_with_garbage_or_a_dead_pid_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.pid").write_text("not-a-pid")
    ctx = context(tmp_path)
    bad = ProcessKill(
        ctx, request("process.kill", {"process": {"pid_file": "bad.pid"}}, ProcessKillParams())
    )
    with pytest.raises(InjectionError, match="holds 'not-a-pid', not a pid"):
        asyncio.run(bad.inject())
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    (tmp_path / "dead.pid").write_text(finished.stdout)
    dead = ProcessKill(
        ctx, request("process.kill", {"process": {"pid_file": "dead.pid"}}, ProcessKillParams())
    )
    with pytest.raises(InjectionError, match="is not running"):
        asyncio.run(dead.inject())


# ---------------------------------------------------------------- process.stop


def test_stop_freezes_and_a_new_process_can_thaw_from_the_json_handle(
    tmp_path: Path, spawn: Spawn
) -> None:
    tag = marker()
    child = spawn(tag)
    target = {"process": {"pattern": tag}}
    stop = ProcessStop(context(tmp_path), request("process.stop", target, ProcessStopParams()))
    planned = asyncio.run(stop.plan())
    done = asyncio.run(stop.inject())
    until(lambda: state(child.pid) == "T")
    assert planned.revert == done.revert
    assert planned.undo == "send SIGCONT to the frozen processes"

    # Revert as `kunren revert` would after a crash: a fresh injector, the handle from JSON.
    handle = json.loads(json.dumps(done.revert))
    fresh = ProcessStop(context(tmp_path), request("process.stop", target, ProcessStopParams()))
    message = asyncio.run(fresh.revert(handle))
    until(lambda: state(child.pid) in ("S", "R"))
    assert message == f"sent SIGCONT to pid {child.pid}"


def test_stop_revert_skips_a_pid_that_now_belongs_to_another_process(
    tmp_path: Path, spawn: Spawn
) -> None:
    tag = marker()
    child = spawn(tag)
    target = {"process": {"pattern": tag}}
    stop = ProcessStop(context(tmp_path), request("process.stop", target, ProcessStopParams()))
    done = asyncio.run(stop.inject())
    until(lambda: state(child.pid) == "T")
    handle = json.loads(json.dumps(done.revert))
    handle["pids"][0]["start"] += 1  # as if the pid had been reused since
    message = asyncio.run(stop.revert(handle))
    assert message == f"pid {child.pid} no longer running"
    assert state(child.pid) == "T"


def test_stop_revert_reports_a_process_that_exited(tmp_path: Path, spawn: Spawn) -> None:
    tag = marker()
    child = spawn(tag)
    target = {"process": {"pattern": tag}}
    stop = ProcessStop(context(tmp_path), request("process.stop", target, ProcessStopParams()))
    done = asyncio.run(stop.inject())
    child.kill()
    child.wait(timeout=5)
    assert asyncio.run(stop.revert(done.revert or {})) == f"pid {child.pid} no longer running"


# ---------------------------------------------------------------- drill-owned services


def sleeper_service(tmp_path: Path) -> ManagedService:
    return ManagedService("app", Service(command=[sys.executable, "-c", SLEEPER]), tmp_path)


async def wait_exit(service: ManagedService, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while service.pid is not None:
            await asyncio.sleep(0.01)


def test_kill_a_service_target_uses_the_drill_services_pid(tmp_path: Path) -> None:
    async def run() -> None:
        service = sleeper_service(tmp_path)
        pid = await service.start()
        try:
            ctx = context(tmp_path, {"app": service})
            target = {"process": {"service": "app"}}
            injector = ProcessKill(
                ctx, request("process.kill", target, ProcessKillParams(signal=9))
            )
            assert (await injector.plan()).targets[0].startswith(f"pid {pid} (")
            await injector.inject()
            await wait_exit(service)
            assert state(pid) is None
        finally:
            await service.stop()

    asyncio.run(run())


def test_restart_gives_the_service_a_new_process(tmp_path: Path) -> None:
    async def run() -> None:
        service = sleeper_service(tmp_path)
        old = await service.start()
        try:
            ctx = context(tmp_path, {"app": service})
            target = {"process": {"service": "app"}}
            restart = ProcessRestart(
                ctx, request("process.restart", target, ProcessRestartParams())
            )
            assert (await restart.plan()).targets == [f"service app (pid {old})"]
            done = await restart.inject()
            new = service.pid
            assert new is not None and new != old
            assert done.detail == f"pid {old} -> pid {new}"
            assert state(old) is None and state(new) in ("S", "R")
        finally:
            await service.stop()

    asyncio.run(run())


def test_a_service_not_running_fails_at_inject_but_plans_in_dry_run(tmp_path: Path) -> None:
    target = {"process": {"service": "app"}}
    injector = ProcessKill(context(tmp_path), request("process.kill", target, ProcessKillParams()))
    plan = asyncio.run(injector.plan())
    assert plan.targets == ["service app (the drill starts it; not running yet)"]
    with pytest.raises(InjectionError, match="service 'app' is not running in this drill"):
        asyncio.run(injector.inject())


def test_restart_refuses_targets_the_drill_does_not_own(tmp_path: Path) -> None:
    target = Target.model_validate({"process": {"pattern": "nginx"}})
    assert "only restart a service the drill owns" in (ProcessRestart.check_target(target) or "")
    owned = Target.model_validate({"process": {"service": "app"}})
    assert ProcessRestart.check_target(owned) is None
    restart = ProcessRestart(
        context(tmp_path),
        request("process.restart", {"process": {"pattern": "nginx"}}, ProcessRestartParams()),
    )
    with pytest.raises(InjectionError, match="only restart a service the drill owns"):
        asyncio.run(restart.inject())


def test_a_bad_pattern_is_caught_at_load_time_and_at_inject(tmp_path: Path) -> None:
    bad = Target.model_validate({"process": {"pattern": "shop("}})
    assert "is not a valid regular expression" in (ProcessKill.check_target(bad) or "")
    assert ProcessStop.check_target(Target.model_validate({"process": {"pattern": "a+"}})) is None
    injector = ProcessKill(
        context(tmp_path),
        request("process.kill", {"process": {"pattern": "shop("}}, ProcessKillParams()),
    )
    with pytest.raises(InjectionError, match="is not a valid regex"):
        asyncio.run(injector.inject())
