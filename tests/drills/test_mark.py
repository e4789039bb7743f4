"""Milestones, notes and amendments from a terminal, while the conductor writes the same log."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from kunren.record.eventlog import EventLog
from kunren.record.events import Amendment, Milestone, Note
from kunren.testing import run_virtual

from .proc import Child, run

SCENARIO = """
version: 1
id: marks
title: Marks from terminals
duration: {duration}
roles:
  sre: {{}}
  support: {{}}
probes:
  - {{id: tick, testing.file: {{path: never.marker}}, every: 5s}}
simulate:
  seed: 2
  people:
    - {{role: sre, person: sim, detected: 1m, triaged: 2m, resolved: 3m}}
"""


@pytest.mark.integration
def test_marks_from_other_processes_interleave_safely_with_the_conductor(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    scenario = write_scenario(SCENARIO.format(duration="30m"))
    child = Child(["run", str(scenario), "--speed", "60", "--no-web", "--no-report"], cwd=tmp_path)
    try:
        child.wait_for(lambda lines: any("started" in line for line in lines))
        (drill,) = list((tmp_path / "drills").iterdir())
        people = [f"person-{n}" for n in range(8)]

        def mark(person: str) -> str:
            done = run(
                ["mark", "detected", "--drill", str(drill), "--actor", person, "--role", "support"],
                cwd=tmp_path,
            )
            assert done.returncode == 0, done.stderr
            return done.stdout

        with ThreadPoolExecutor(4) as pool:
            outputs = list(pool.map(mark, people))
        run(["abort", str(drill)], cwd=tmp_path)
        child.finish(timeout=30)
    finally:
        if child.proc.poll() is None:
            child.proc.kill()
    assert all("milestone detected by person-" in out for out in outputs)
    lines = (drill / "events.jsonl").read_text().splitlines()
    seqs = [json.loads(line)["seq"] for line in lines]
    assert seqs == list(range(1, len(seqs) + 1))
    marked = [e for e in EventLog(drill).read() if isinstance(e, Milestone)]
    participants = sorted(m.actor for m in marked if m.source == "participant")
    assert participants == people
    assert all(m.at > 0 for m in marked)


def test_mark_at_a_given_time_and_amend_keep_the_original(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    drill, _ = run_virtual(write_scenario(SCENARIO.format(duration="10m")), tmp_path / "drills")
    marked = run(
        [
            "mark",
            "customer_notified",
            "--drill",
            str(drill),
            "--actor",
            "bob",
            "--role",
            "support",
            "--at",
            "6:30",
            "--note",
            "sent from the template",
        ],
        cwd=tmp_path,
    )
    assert marked.returncode == 0, marked.stderr
    seq = int(marked.stdout.split("#")[1].split()[0])
    amended = run(
        ["amend", str(seq), "5m", "--drill", str(drill), "--reason", "sent earlier"], cwd=tmp_path
    )
    assert amended.returncode == 0, amended.stderr
    noted = run(
        ["note", "action: template for the status page", "--drill", str(drill)], cwd=tmp_path
    )
    assert noted.returncode == 0
    events = EventLog(drill).read()
    original = next(e for e in events if e.seq == seq)
    assert isinstance(original, Milestone)
    assert (original.at, original.note) == (390.0, "sent from the template")
    amendment = next(e for e in events if isinstance(e, Amendment))
    assert (amendment.target_seq, amendment.new_at, amendment.reason) == (
        seq,
        300.0,
        "sent earlier",
    )
    assert any(isinstance(e, Note) and e.text.startswith("action:") for e in events)


def test_mark_refuses_unknown_milestones_roles_and_missing_time(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    drill, _ = run_virtual(write_scenario(SCENARIO.format(duration="10m")), tmp_path / "drills")
    base = ["--drill", str(drill), "--actor", "bob"]
    before = len(EventLog(drill).read())
    unknown = run(["mark", "fixed", *base, "--role", "sre", "--at", "1m"], cwd=tmp_path)
    assert unknown.returncode == 2
    assert unknown.stderr.startswith(
        "Error: unknown milestone 'fixed'; this drill knows: detected,"
    )
    role = run(["mark", "detected", *base, "--role", "dba", "--at", "1m"], cwd=tmp_path)
    assert role.returncode == 2
    assert role.stderr == "Error: unknown role 'dba'; this drill has: sre, support\n"
    no_time = run(["mark", "detected", *base, "--role", "sre"], cwd=tmp_path)
    assert no_time.returncode == 2
    assert no_time.stderr == (
        "Error: this drill runs on the virtual clock: give the drill time with --at\n"
    )
    bad_time = run(["mark", "detected", *base, "--role", "sre", "--at", "soon"], cwd=tmp_path)
    assert bad_time.returncode == 2
    assert bad_time.stderr == "Error: --at: expected a duration like 5m, got 'soon'\n"
    assert len(EventLog(drill).read()) == before  # nothing was recorded
