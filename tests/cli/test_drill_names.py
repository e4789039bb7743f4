"""Every command that names a drill takes what a person types: a drill id or a folder.

An id is looked up in ``--drills`` (./drills by default); a folder is used as it is. Each
command is run twice on the same ended drill, once each way, and must get past finding it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kunren.testing import run_virtual
from tests.drills.proc import run

pytestmark = pytest.mark.integration  # runs kunren in child processes

SCENARIO = """
version: 1
id: names
title: Drill names
duration: 10m
roles: {sre: {}}
faults:
  - {id: flag, at: 1m, for: 2m, kind: testing.marker, path: flag.marker}
"""

# (arguments around the drill, what the output must hold)
COMMANDS: list[tuple[list[str], str, str]] = [
    (["score", "{drill}"], "objectives: 0 of 0 met", "out"),
    (["report", "{drill}", "-o", "r.html"], "r.html", "out"),
    (["trend", "{drill}"], "series names: ", "out"),
    (["log", "{drill}"], "drill ended: duration reached", "out"),
    (["log", "{drill}", "--follow"], "drill ended: duration reached", "out"),
    (["revert", "{drill}"], "Nothing left to revert.", "out"),
    (["abort", "{drill}"], "No conductor is running this drill", "out"),
    (["resume", "{drill}", "--no-web"], "the drill has already ended", "err"),
    (
        ["mark", "detected", "--drill", "{drill}", "--actor", "a", "--role", "sre", "--at", "2m"],
        "this mark would be recorded after its end",
        "err",
    ),
    (["note", "hello", "--drill", "{drill}", "--late"], "note: hello", "out"),
    (["amend", "3", "1m", "--drill", "{drill}", "--reason", "r", "--late"], "amendment", "out"),
    (["notify", "--drill", "{drill}", "--list"], "", "any"),
]


@pytest.fixture
def ended_drill(tmp_path: Path, write_scenario: Callable[[str], Path]) -> Path:
    drill, _ = run_virtual(write_scenario(SCENARIO), tmp_path / "drills")
    return drill


@pytest.mark.parametrize("how", ["id", "folder", "id with --drills"])
@pytest.mark.parametrize(("args", "expected", "stream"), COMMANDS, ids=lambda v: str(v)[:30])
def test_each_drill_naming_command_takes_an_id_or_a_folder(
    tmp_path: Path, ended_drill: Path, how: str, args: list[str], expected: str, stream: str
) -> None:
    cwd = tmp_path
    name = {"id": ended_drill.name, "folder": str(ended_drill)}.get(how, ended_drill.name)
    extra: list[str] = []
    if how == "id with --drills":
        cwd = tmp_path / "elsewhere"
        cwd.mkdir()
        extra = ["--drills", str(tmp_path / "drills")]
    done = run([part.format(drill=name) for part in args] + extra, cwd=cwd)
    assert "no such drill" not in done.stderr
    assert "not a drill folder" not in done.stderr
    if stream == "out":
        assert done.returncode == 0, done.stderr
        assert expected in done.stdout
    elif stream == "err":
        assert expected in done.stderr
    else:
        assert not done.stderr.startswith("Traceback"), done.stderr


def test_an_unknown_drill_says_where_it_was_looked_for(tmp_path: Path) -> None:
    for args in (["score", "nope"], ["log", "nope"], ["mark", "x", "--drill", "nope"]):
        done = run([*args, "--actor", "a", "--role", "r"] if args[0] == "mark" else args, tmp_path)
        assert done.returncode == 2
        assert done.stderr == (
            "Error: nope: no such drill (not a folder, and no drill of that id in drills/)\n"
        )


def test_resume_after_the_duration_passed_ends_the_drill_at_its_end(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    from datetime import timedelta

    from kunren.record.eventlog import EventLog
    from kunren.record.events import DrillEnded, DrillStarted
    from kunren.record.folders import create_drill
    from kunren.runtime.clock import VirtualClock
    from kunren.scenarios.loader import load_scenario

    loaded = load_scenario(write_scenario(SCENARIO.split("faults:")[0]))  # nothing to revert
    hour_ago = VirtualClock().wall() - timedelta(hours=1)
    log = create_drill(loaded, tmp_path / "drills", hour_ago)
    log.append(
        DrillStarted(
            at=0.0,
            wall=hour_ago.isoformat(),
            drill=log.drill_dir.name,
            scenario_id="names",
            duration=600.0,
            clock="real",
        )
    )
    done = run(["resume", log.drill_dir.name, "--no-web"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "Drill ended: duration passed"
    ended = [e for e in EventLog(log.drill_dir).read() if isinstance(e, DrillEnded)]
    assert [e.at for e in ended] == [600.0]
