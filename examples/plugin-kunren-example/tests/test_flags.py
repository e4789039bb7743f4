"""The example plugin's own tests: what a plugin author should test, with kunren.testing.

They need the package installed (``pip install -e '.[test]'``) so that kunren finds the two
kinds through their entry points, as it will in a real drill.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import kunren
import pytest
from kunren.injectors.requests import request_for_fault
from kunren.testing import KUNREN, KunrenProcess, VirtualClock, run_virtual

from kunren_example.flags import FlagProbe, FlagProbeParams, SetFlag

SCENARIO = Path(__file__).resolve().parents[1] / "scenarios" / "search-cache-off.yaml"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """The example scenario in a folder of its own, with the flags file the service reads."""
    shutil.copy(SCENARIO, tmp_path / SCENARIO.name)
    (tmp_path / "flags.json").write_text('{"search_cache": true, "other": 1}\n', "utf-8")
    return tmp_path


def flags(folder: Path) -> object:
    return json.loads((folder / "flags.json").read_text("utf-8"))


def test_revert_undoes_the_fault_from_its_handle_alone(workspace: Path) -> None:
    loaded = kunren.load_scenario(workspace / SCENARIO.name)
    fault = loaded.scenario.faults[0]
    ctx = kunren.drill_context(loaded, scenario_dir=workspace, clock=VirtualClock())
    injected = asyncio.run(SetFlag(ctx, request_for_fault(ctx, fault)).inject())
    assert flags(workspace) == {"search_cache": False, "other": 1}
    assert injected.revert is not None
    handle = json.loads(json.dumps(injected.revert))  # what the record keeps, and all it keeps
    # A new instance, as `kunren revert` makes in a new process after a crash:
    fresh = SetFlag(ctx, request_for_fault(ctx, fault))
    done = asyncio.run(fresh.revert(handle))
    assert flags(workspace) == {"search_cache": True, "other": 1}
    assert done.startswith("set search_cache back to true")


def test_a_bad_key_is_a_validation_error_with_its_line(workspace: Path) -> None:
    path = workspace / SCENARIO.name
    path.write_text(path.read_text("utf-8").replace("flag: search_cache,\n", "flagg: x,\n"))
    with pytest.raises(kunren.ScenarioError) as caught:
        kunren.load_scenario(path)
    assert str(caught.value).splitlines() == [
        f"{path}:14: faults[0].flag: missing required key",
        f"{path}:14: faults[0].flagg: unknown key (did you mean 'flag'?)",
    ]


def test_the_probe_fails_on_a_broken_file_instead_of_raising(workspace: Path) -> None:
    loaded = kunren.load_scenario(workspace / SCENARIO.name)
    spec = loaded.scenario.probes[0]
    params = FlagProbeParams(file="flags.json", flag="search_cache")
    probe = FlagProbe(kunren.drill_context(loaded, scenario_dir=workspace), spec, params)
    assert asyncio.run(probe.check()).ok
    (workspace / "flags.json").write_text("{not json", "utf-8")
    result = asyncio.run(probe.check())
    assert not result.ok
    assert "cannot read flags" in result.detail


def test_a_whole_drill_on_the_virtual_clock(workspace: Path) -> None:
    drill, events = run_virtual(workspace / SCENARIO.name, workspace / "drills")
    seen = [(e.type, e.at) for e in events if e.type.startswith(("fault.", "probe."))]
    assert seen == [
        ("fault.injecting", 300.0),
        ("fault.injected", 300.0),
        ("probe.failed", 301.0),
        ("fault.reverting", 900.0),
        ("fault.reverted", 900.0),
        ("probe.recovered", 901.0),
    ]
    assert flags(workspace) == {"search_cache": True, "other": 1}
    card = kunren.score(kunren.load_scenario(drill / "scenario.yaml").scenario, events)
    assert card.milestones["detected"].objective is not None
    assert card.milestones["detected"].objective.met


def test_a_crash_mid_fault_is_undone_by_kunren_revert(workspace: Path) -> None:
    """The promise a reversible fault must keep: SIGKILL the conductor while the flag is off,
    and ``kunren revert``, a new process with only the record, puts it back."""
    drill = KunrenProcess(["run", SCENARIO.name, "--speed", "60", "--no-web", "--yes"], workspace)
    try:
        drill.wait_for(lambda lines: any("injected cache-off" in line for line in lines))
        drill.kill()
    finally:
        drill.finish()
    assert flags(workspace) == {"search_cache": False, "other": 1}
    (folder,) = (workspace / "drills").iterdir()
    revert = subprocess.run(
        [*KUNREN, "revert", str(folder)], cwd=workspace, capture_output=True, text=True, timeout=60
    )
    assert revert.returncode == 0, revert.stdout + revert.stderr
    assert revert.stdout == "reverted cache-off\n"
    assert flags(workspace) == {"search_cache": True, "other": 1}
