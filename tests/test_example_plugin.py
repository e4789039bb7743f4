"""The example plugin package works the way the plugin authors' guide says it does.

Nothing is installed: the example's ``src/`` goes on ``PYTHONPATH`` of child processes beside a
``kunren_example-*.dist-info`` folder whose ``entry_points.txt`` is made from the example's own
pyproject.toml, which is what ``pip install`` would write. So the entry points in that file are
the ones proven here: ``kunren plugins`` lists both kinds, a drill on the virtual clock injects,
watches and reverts through them, and the example's own test suite passes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from kunren.testing import install_distribution

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "plugin-kunren-example"
SCENARIO = EXAMPLE / "scenarios" / "search-cache-off.yaml"

pytestmark = pytest.mark.integration


def _dist_info(site: Path) -> None:
    """What pip writes for the example: METADATA and entry_points.txt, from pyproject.toml."""
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text("utf-8"))["project"]
    sections = [
        f"[{group}]\n" + "".join(f"{name} = {value}\n" for name, value in points.items())
        for group, points in project["entry-points"].items()
    ]
    install_distribution(site, project["name"], project["version"], "\n".join(sections), {})


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "site"
    _dist_info(site)
    path = os.pathsep.join([str(site), str(EXAMPLE / "src"), str(REPO)])
    return {**os.environ, "PYTHONPATH": path, "PYTHONDONTWRITEBYTECODE": "1"}


def _kunren(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kunren", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_kunren_plugins_finds_both_kinds_through_the_entry_points(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = _kunren(["plugins"], tmp_path, env)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if "example." in line]
    assert [row[:5] for row in rows] == [
        ["injector", "example.flag.set", "-", "yes", "available"],
        ["probe", "example.flag", "-", "yes", "available"],
    ]


def test_without_the_entry_points_the_scenario_is_refused(tmp_path: Path) -> None:
    """The control: kunren does not find the kinds by accident (say, by importing src/)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(EXAMPLE / "src"), str(REPO)])}
    result = _kunren(["validate", str(SCENARIO)], tmp_path, env)
    assert result.returncode == 2
    assert "unknown fault kind 'example.flag.set'" in result.stderr


def test_a_virtual_clock_drill_injects_watches_and_reverts_through_the_plugin(
    env: dict[str, str], tmp_path: Path
) -> None:
    shutil.copy(SCENARIO, tmp_path / SCENARIO.name)
    flags = tmp_path / "flags.json"
    flags.write_text('{"search_cache": true}\n', "utf-8")
    result = _kunren(["run", SCENARIO.name, "--clock", "virtual", "-q"], tmp_path, env)
    assert result.returncode == 0, result.stdout + result.stderr
    (drill,) = (tmp_path / "drills").iterdir()
    events = [json.loads(line) for line in (drill / "events.jsonl").read_text().splitlines()]
    injected = [e for e in events if e["type"] == "fault.injected"]
    assert [(e["fault"], e["kind"], e["at"]) for e in injected] == [
        ("cache-off", "example.flag.set", 300.0)
    ]
    assert injected[0]["revert"] == {
        "file": str(flags.resolve()),
        "flag": "search_cache",
        "had": True,
        "previous": True,
    }
    probe = [(e["type"], e["at"], e["detail"]) for e in events if e["type"].startswith("probe.")]
    assert probe == [
        ("probe.failed", 301.0, "search_cache is false, expected true"),
        ("probe.recovered", 901.0, "search_cache is true"),
    ]
    assert json.loads(flags.read_text("utf-8")) == {"search_cache": True}


def test_the_example_packages_own_tests_pass(env: dict[str, str], tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout
