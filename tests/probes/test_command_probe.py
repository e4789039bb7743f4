"""The command probe with real child processes: exit codes, output, timeouts that kill."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from pathlib import Path

import pytest
from pydantic import ValidationError

from kunren.probes.base import ProbeResult
from kunren.probes.command import CommandProbe, CommandProbeParams
from kunren.runtime.context import drill_context
from kunren.scenarios.models import ProbeSpec, Scenario

pytestmark = pytest.mark.integration


def probe(params: Mapping[str, object], scenario_dir: Path = Path(".")) -> ProbeResult:
    scenario = Scenario.model_validate({"version": 1, "id": "t", "title": "t", "duration": "10m"})
    ctx = drill_context(scenario, scenario_dir=scenario_dir)
    spec = ProbeSpec.model_validate({"id": "cmd", "command": params})
    check = CommandProbe(ctx, spec, CommandProbeParams.model_validate(spec.params))

    async def run() -> ProbeResult:
        async with asyncio.timeout(10):
            return await check.check()

    return asyncio.run(run())


def test_exit_zero_passes() -> None:
    assert probe({"run": ["true"]}) == ProbeResult(ok=True, detail="exit 0")


def test_a_failing_shell_command_reports_its_code_and_last_line() -> None:
    result = probe({"run": "echo checking; echo 'db unreachable' >&2; exit 3"})
    assert result == ProbeResult(ok=False, detail="exit 3: db unreachable")


def test_expect_exit_accepts_several_codes() -> None:
    assert probe({"run": "exit 3", "expect_exit": [0, 3]}).ok
    assert not probe({"run": "exit 0", "expect_exit": 1}).ok


def test_a_command_killed_by_a_signal_says_so() -> None:
    assert probe({"run": "kill -9 $$"}) == ProbeResult(ok=False, detail="killed by signal 9")


def test_timeout_kills_the_command_and_its_children(tmp_path: Path) -> None:
    pid_file = tmp_path / "sleep.pid"
    result = probe({"run": f"sleep 30 & echo $! > {pid_file}; wait", "timeout": "300ms"})
    assert result == ProbeResult(ok=False, detail="timeout after 0.3s (killed)")
    sleeper = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while Path(f"/proc/{sleeper}").exists() and "Z" not in _state(sleeper):
        assert time.monotonic() < deadline, "the grandchild outlived the probe's timeout"
        time.sleep(0.01)


def _state(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return "gone"
    return stat[stat.rfind(")") + 2]


def test_a_missing_command_is_a_failed_check_not_an_error() -> None:
    assert probe({"run": ["kunren-no-such-command"]}) == ProbeResult(
        ok=False, detail="command not found: kunren-no-such-command"
    )


def test_cwd_is_relative_to_the_scenario_folder_and_env_is_added(tmp_path: Path) -> None:
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "ready").write_text("")
    params = {
        "run": 'test -f ready && test "$KUNREN_STAGE" = drill',
        "cwd": "checks",
        "env": {"KUNREN_STAGE": "drill"},
    }
    assert probe(params, scenario_dir=tmp_path).ok


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"run": ""}, "give a command to run"),
        ({"run": []}, "give a command to run"),
        ({"run": "true", "timeout": "0"}, "timeout must be longer than 0s"),
        ({"run": "true", "shell": True}, "Extra inputs are not permitted"),
    ],
)
def test_bad_parameters_are_named(params: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CommandProbeParams.model_validate(params)
