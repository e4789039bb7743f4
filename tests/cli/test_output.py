"""What the commands print is true and reads as meant: errors, init, plugins, --dry-run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.drills.proc import run

pytestmark = pytest.mark.integration  # runs kunren in child processes

KILLS = """
version: 1
id: kills
title: Kill and freeze
duration: 10m
services:
  orders: {command: [sleep, "600"]}
targets:
  orders: {process: {service: orders}}
faults:
  - {id: kill-orders, at: 2m, kind: process.kill, target: orders, signal: KILL}
  - {id: freeze-orders, at: 5m, for: 1m, kind: process.stop, target: orders}
"""


def test_run_of_a_missing_file_is_one_error_line(tmp_path: Path) -> None:
    done = run(["run", "nope.yaml"], cwd=tmp_path)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == "Error: nope.yaml: no such scenario file\n"
    assert not (tmp_path / "drills").exists()


def test_dry_run_says_what_each_fault_does_and_which_cannot_be_undone(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    scenario = write_scenario(KILLS)
    done = run(["run", str(scenario), "--dry-run"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"Dry run of {scenario}: nothing is touched.",
        "  02:00  kill-orders (process.kill): Send a signal (TERM by default, KILL, HUP, any) "
        "to a local process.",
        "         targets: service orders (the drill starts it; not running yet)",
        "         undo: none. This fault cannot be undone by kunren",
        "  05:00  freeze-orders (process.stop): Freeze a local process with SIGSTOP; "
        "reverted by SIGCONT.",
        "         targets: service orders (the drill starts it; not running yet)",
        "         undo: send SIGCONT to the frozen processes",
        "Cannot be undone: kill-orders (abort and revert leave them as they are)",
    ]
    assert "is not running" not in done.stdout
    assert not (tmp_path / "drills").exists()


def test_plugins_hides_the_test_doubles_unless_all(tmp_path: Path) -> None:
    listed = run(["plugins"], cwd=tmp_path)
    assert listed.returncode == 0
    assert "testing." not in listed.stdout
    assert "process.kill" in listed.stdout
    everything = run(["plugins", "--all"], cwd=tmp_path)
    kinds = [line.split()[1] for line in everything.stdout.splitlines()[1:]]
    assert {"testing.marker", "testing.file"} <= set(kinds)


def test_init_lists_every_file_it_counts_and_the_readmes_next_step(tmp_path: Path) -> None:
    done = run(["init", "ws"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    count = int(lines[0].split("(")[1].split()[0])
    assert count == sum(1 for p in (tmp_path / "ws").rglob("*") if p.is_file())
    shown = 0
    for line in lines[1 : lines.index("Next:")]:
        entry = line.strip()
        shown += int(entry.split("(")[1].split()[0]) if entry.endswith(" files)") else 1
    assert shown == count
    assert lines[-1] == "  kunren run ws/scenarios/demo-shop.yaml --speed 30 --yes"


def test_the_virtual_clocks_probe_limit_is_named_where_it_differs_from_the_scenario(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    import socket

    from kunren.record.events import ProbeFailed
    from kunren.testing import run_virtual

    with socket.socket() as silent:  # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        scenario = write_scenario(
            f"""
            version: 1
            id: hangs
            title: A probe that hangs
            duration: 1m
            probes:
              - {{id: web, every: 30s, http: {{url: "http://127.0.0.1:{port}/", timeout: 1s}}}}
            """
        )
        _, events = run_virtual(scenario, tmp_path / "drills")
    failed = next(e for e in events if isinstance(e, ProbeFailed))
    assert failed.detail == (
        "no answer within 0.25s (the virtual clock's limit for every check; "
        "the scenario's timeout is 1s)"
    )


def test_a_drill_that_cannot_start_says_why_once(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    scenario = write_scenario(
        """
        version: 1
        id: bad
        title: Bad service
        duration: 2m
        services:
          bad: {command: [/nonexistent/binary]}
        """
    )
    done = run(["run", str(scenario), "--clock", "virtual"], cwd=tmp_path)
    assert done.returncode == 1
    (error,) = done.stderr.splitlines()
    assert error.startswith("Error: the drill was aborted (could not start: service bad: ")
    assert error.endswith("); nothing was injected")
    (drill,) = list((tmp_path / "drills").iterdir())
    assert done.stdout.splitlines()[-1] == f"Record: drills/{drill.name}"
    assert "Drill aborted" not in done.stdout and "Next:" not in done.stdout
    assert not (tmp_path / "reports").exists()


def test_debug_shows_the_traceback_instead_of_only_the_error_line(tmp_path: Path) -> None:
    plain = run(["run", "nope.yaml"], cwd=tmp_path)
    assert "Traceback" not in plain.stderr
    debug = run(["--debug", "run", "nope.yaml"], cwd=tmp_path)
    assert debug.returncode == 2
    assert debug.stderr.startswith("Traceback (most recent call last):")
    assert debug.stderr.endswith("Error: nope.yaml: no such scenario file\n")
