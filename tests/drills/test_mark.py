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

pytestmark = pytest.mark.integration  # runs kunren in child processes

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
        child.wait_for_line("started")
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
            "--late",
        ],
        cwd=tmp_path,
    )
    assert marked.returncode == 0, marked.stderr
    assert marked.stdout.rstrip().endswith(" [late entry: recorded after the drill ended]")
    logged = run(["log", drill.name], cwd=tmp_path)
    assert logged.stdout.splitlines()[-1] == marked.stdout.rstrip()  # the log shows it too
    seq = int(marked.stdout.split("#")[1].split()[0])
    amended = run(
        ["amend", str(seq), "5m", "--drill", str(drill), "--reason", "sent earlier", "--late"],
        cwd=tmp_path,
    )
    assert amended.returncode == 0, amended.stderr
    noted = run(
        ["note", "action: template for the status page", "--drill", str(drill), "--late"],
        cwd=tmp_path,
    )
    assert noted.returncode == 0
    events = EventLog(drill).read()
    original = next(e for e in events if e.seq == seq)
    assert isinstance(original, Milestone)
    assert (original.at, original.note, original.late) == (390.0, "sent from the template", True)
    amendment = next(e for e in events if isinstance(e, Amendment))
    assert (amendment.target_seq, amendment.new_at, amendment.reason, amendment.late) == (
        seq,
        300.0,
        "sent earlier",
        True,
    )
    action = next(e for e in events if isinstance(e, Note) and e.text.startswith("action:"))
    assert (action.at, action.late) == (600.0, True)  # stamped at the drill's end, never past it


def test_mark_refuses_unknown_milestones_roles_and_missing_time(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    drill, _ = run_virtual(write_scenario(SCENARIO.format(duration="10m")), tmp_path / "drills")
    base = ["--drill", str(drill), "--actor", "bob"]
    before = len(EventLog(drill).read())
    unknown = run(["mark", "fixed", *base, "--role", "sre", "--at", "1m", "--late"], cwd=tmp_path)
    assert unknown.returncode == 2
    assert unknown.stderr.startswith(
        "Error: unknown milestone 'fixed'; this drill knows: detected,"
    )
    role = run(["mark", "detected", *base, "--role", "dba", "--at", "1m", "--late"], cwd=tmp_path)
    assert role.returncode == 2
    assert role.stderr == "Error: unknown role 'dba'; this drill has: sre, support\n"
    no_time = run(["mark", "detected", *base, "--role", "sre", "--late"], cwd=tmp_path)
    assert no_time.returncode == 2
    assert no_time.stderr == "Error: --late needs --at: the drill time this mark happened\n"
    bad_time = run(["mark", "detected", *base, "--role", "sre", "--at", "soon"], cwd=tmp_path)
    assert bad_time.returncode == 2
    assert bad_time.stderr == "Error: --at: expected a duration like 5m, got 'soon'\n"
    assert len(EventLog(drill).read()) == before  # nothing was recorded


ROLE_LISTS = """
version: 1
id: role-marks
title: Role milestone lists
duration: 10m
roles:
  sre: {}
  support: {milestones: [detected, customer_notified]}
milestones:
  update_sent: {roles: [support]}
probes:
  - {id: tick, testing.file: {path: never.marker}, every: 5s}
"""


def test_mark_refuses_a_milestone_outside_the_roles_list_unless_the_facilitator_marks_it(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    drill, _ = run_virtual(write_scenario(ROLE_LISTS), tmp_path / "drills")
    base = ["--drill", str(drill), "--at", "3m", "--late"]
    before = len(EventLog(drill).read())
    refused = run(["mark", "triaged", *base, "--actor", "bob", "--role", "support"], cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr == (
        "Error: role support cannot mark triaged "
        "(its milestones: detected, customer_notified); "
        "a facilitator may record it for them with --facilitator\n"
    )
    custom = run(["mark", "update_sent", *base, "--actor", "al", "--role", "sre"], cwd=tmp_path)
    assert custom.returncode == 2
    assert custom.stderr.startswith("Error: role sre cannot mark update_sent (its milestones: ")
    assert "update_sent" not in custom.stderr.split("its milestones: ")[1]
    assert len(EventLog(drill).read()) == before  # nothing was recorded
    own = run(["mark", "detected", *base, "--actor", "bob", "--role", "support"], cwd=tmp_path)
    assert own.returncode == 0, own.stderr
    for_bob = run(
        ["mark", "triaged", *base, "--actor", "bob", "--role", "support", "--facilitator"],
        cwd=tmp_path,
    )
    assert for_bob.returncode == 0, for_bob.stderr
    marks = [e for e in EventLog(drill).read() if isinstance(e, Milestone)]
    assert [(m.name, m.actor, m.role, m.source) for m in marks] == [
        ("detected", "bob", "support", "participant"),
        ("triaged", "bob", "support", "facilitator"),
    ]


def test_a_running_virtual_drill_needs_the_time_of_a_mark(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    drill = started_drill(write_scenario(SCENARIO.format(duration="10m")), tmp_path / "drills")
    base = ["--drill", str(drill), "--actor", "bob", "--role", "sre"]
    no_time = run(["mark", "detected", *base], cwd=tmp_path)
    assert no_time.returncode == 2
    assert no_time.stderr == (
        "Error: this drill runs on the virtual clock: give the drill time with --at\n"
    )
    early = run(["mark", "detected", *base, "--at", "2m"], cwd=tmp_path)
    assert early.returncode == 0, early.stderr
    assert "late" not in early.stdout
    refused = run(["mark", "detected", *base, "--at", "2m", "--late"], cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr == (
        "Error: --late is for a drill that has ended; this one is still running\n"
    )
    marked = [e for e in EventLog(drill).read() if isinstance(e, Milestone)]
    assert [(m.at, m.late) for m in marked] == [(120.0, False)]


@pytest.mark.parametrize(
    ("args", "what", "hint"),
    [
        (
            ["mark", "detected", "--actor", "bob", "--role", "sre"],
            "this mark",
            "give the drill time it happened and say it is late: --at TIME --late",
        ),
        (
            ["mark", "detected", "--actor", "bob", "--role", "sre", "--at", "3m"],
            "this mark",
            "add --late to record it as a late entry",
        ),
        (["note", "forgot the runbook"], "this note", "add --late to record it as a late entry"),
        (
            ["amend", "2", "1m", "--reason", "typo"],
            "this amendment",
            "add --late to record it as a late entry",
        ),
    ],
)
def test_input_after_the_end_is_refused_with_what_to_do(
    tmp_path: Path,
    write_scenario: Callable[[str], Path],
    args: list[str],
    what: str,
    hint: str,
) -> None:
    drill, _ = run_virtual(write_scenario(SCENARIO.format(duration="10m")), tmp_path / "drills")
    before = (drill / "events.jsonl").read_bytes()
    ended = next(e for e in EventLog(drill).read() if e.type == "drill.ended")
    done = run([*args, "--drill", drill.name], cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        f"Error: drill {drill.name} ended (#{ended.seq}) at 10:00: {what} would be recorded "
        f"after its end, so nothing was recorded; {hint}\n"
    )
    assert (drill / "events.jsonl").read_bytes() == before


def test_late_entries_never_land_past_the_drills_end(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    drill, _ = run_virtual(write_scenario(SCENARIO.format(duration="10m")), tmp_path / "drills")
    base = ["--drill", drill.name, "--actor", "bob", "--role", "sre", "--late"]
    past = run(["mark", "detected", *base, "--at", "12:00"], cwd=tmp_path)
    assert past.returncode == 2
    assert past.stderr == (
        "Error: --at 12:00 is after the drill's end at 10:00; nothing was recorded\n"
    )
    amend = run(["amend", "2", "11m", "--drill", drill.name, "--reason", "x"], cwd=tmp_path)
    assert amend.returncode == 2
    assert amend.stderr == "Error: NEW_TIME 11:00 is after the drill's end at 10:00\n"


def started_drill(scenario: Path, drills_root: Path) -> Path:
    """A drill on the virtual clock that has started and not ended (its conductor is gone)."""
    from kunren.record.events import DrillStarted
    from kunren.record.folders import create_drill
    from kunren.record.recorder import Recorder
    from kunren.runtime.clock import VirtualClock
    from kunren.scenarios.loader import load_scenario

    loaded = load_scenario(scenario)
    clock = VirtualClock()
    log = create_drill(loaded, drills_root, clock.wall())
    Recorder(log, clock).record(
        DrillStarted(drill=log.drill_dir.name, scenario_id="marks", duration=600, clock="virtual")
    )
    return log.drill_dir


def test_a_notice_after_the_end_is_refused_and_nothing_is_sent(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    drill, _ = run_virtual(write_scenario(SCENARIO.format(duration="10m")), tmp_path / "drills")
    before = (drill / "events.jsonl").read_bytes()
    ended = next(e for e in EventLog(drill).read() if e.type == "drill.ended")
    args = ["notify", "investigating", "--drill", drill.name, "--as", "bob", "--role", "support"]
    for at in ([], ["--at", "5m"]):
        done = run([*args, *at, "--yes"], cwd=tmp_path)
        assert done.returncode == 2
        assert done.stderr == (
            f"Error: drill {drill.name} ended (#{ended.seq}) at 10:00: this notice would come "
            "after its end; nothing was done\n"
        )
    assert (drill / "events.jsonl").read_bytes() == before
    assert not (drill / "notices").exists()
