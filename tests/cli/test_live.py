"""The live console a facilitator runs a game day from, driven in a real pseudo-terminal.

A real conductor runs the drill on a scaled clock; a second shell marks a milestone with
``kunren mark``; the screen must show that mark (written by another process, only in the
record file), the status line's next step and objective deadlines, and the closing
next steps.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kunren.runtime.clock import monotonic
from kunren.testing import said
from tests.cli.terminal import Screen, Terminal, replay
from tests.drills.proc import Child, run

SCENARIO = """
version: 1
id: live
title: Live console
duration: 6m
roles:
  sre: {}
  support: {}
faults:
  - {id: shop-hangs, at: 30s, for: 4m, kind: testing.marker, path: hang.marker}
objectives:
  detected: {within: 5m}
  triaged: {within: 4m, by: sre}
"""

pytestmark = pytest.mark.integration


def _drill_id(root: Path) -> str:
    (drill,) = list((root / "drills").iterdir())
    return drill.name


def test_the_live_screen_shows_a_second_shells_mark_the_status_and_the_next_steps(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    scenario = write_scenario(SCENARIO)
    term = Terminal(["run", str(scenario), "--speed", "30", "--no-web"], cwd=tmp_path)
    try:
        screen = term.wait_for(lambda s: any("injected shop-hangs" in x for x in s.lines))
        screen = term.wait_for(lambda s: "next: 04:30 revert shop-hangs" in s.status)
        assert screen.status.startswith("drill 00:")
        assert " / 06:00 │ " in screen.status
        assert "detected " in screen.status and " left" in screen.status
        assert "triaged " in screen.status
        drill = _drill_id(tmp_path)
        marked = run(
            ["mark", "detected", "--drill", drill, "--actor", "eve", "--role", "support"],
            cwd=tmp_path,
        )
        assert marked.returncode == 0, marked.stderr
        seq = marked.stdout.split("#")[1].split()[0]
        shown_by = monotonic() + 1.0

        def shows_mark(s: Screen) -> bool:
            return any(f"#{seq:<4} milestone detected by eve (support)" in x for x in s.lines)

        term.wait_for(shows_mark, timeout=1.0)
        assert monotonic() <= shown_by
        screen = term.wait_for(lambda s: "detected met " in s.status)
        assert "triaged " in screen.status
        screen = term.wait_for(lambda s: any(x.startswith("  open ") for x in s.lines))
        assert term.finish() == 0
    finally:
        term.finish()
    screen = term.screen()
    closing = screen.lines[screen.lines.index("Drill ended: duration reached") :]
    assert closing[1].startswith("Objectives: 1 of 2 met (detected met ")
    assert closing[1].endswith(" · triaged MISSED)")
    assert closing[2] == f"Record: drills/{drill}"
    assert closing[3] == f"Report: reports/{drill}.html"
    assert closing[4] == "Next:"
    assert closing[5].startswith(f"  kunren score {drill}   ")
    assert closing[6].startswith("  kunren trend live   ")
    assert closing[7].startswith(f"  open reports/{drill}.html   ")
    assert screen.status == ""  # the status line is wiped at the end


def test_piped_output_stays_plain_one_line_per_event(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    scenario = write_scenario(SCENARIO)
    done = run(["run", str(scenario), "--clock", "virtual", "--no-report"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout and "\r" not in done.stdout
    lines = done.stdout.splitlines()
    assert lines[0].endswith("(Live console; virtual clock)")  # not "speed 0": it has none
    injected = next(x for x in lines if "injected shop-hangs" in x)
    assert injected.endswith("    (next: 04:30 revert shop-hangs)")
    # what tests that wait for a line read of it: its own words, not the step it announces
    assert said(injected) == injected.removesuffix("    (next: 04:30 revert shop-hangs)")
    assert "revert" not in said(injected)
    assert "Next:" in lines


def test_quiet_prints_the_outcome_and_the_folder_only(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    scenario = write_scenario(SCENARIO)
    done = run(["run", str(scenario), "--clock", "virtual", "--no-report", "-q"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    drill = _drill_id(tmp_path)
    assert done.stdout.splitlines() == [
        "Drill ended: duration reached",
        "Objectives: 0 of 2 met (detected MISSED · triaged MISSED)",
        f"Record: drills/{drill}",
    ]


def test_log_follow_shows_events_from_every_writer_until_the_drill_ends(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    scenario = write_scenario(SCENARIO)
    conductor = Child(["run", str(scenario), "--speed", "30", "--no-web"], cwd=tmp_path)
    follower: Child | None = None
    try:
        conductor.wait_for_line("injected shop-hangs")
        drill = _drill_id(tmp_path)
        follower = Child(["log", drill, "--follow"], cwd=tmp_path)
        follower.wait_for_line("injected shop-hangs")
        marked = run(
            ["note", "shop looks frozen", "--drill", drill, "--actor", "eve"], cwd=tmp_path
        )
        assert marked.returncode == 0, marked.stderr
        follower.wait_for_line("note: shop looks frozen")
        assert follower.finish(timeout=30) == 0
        assert follower.lines[-1].endswith("drill ended: duration reached")
        assert conductor.finish(timeout=30) == 0
    finally:
        for child in (conductor, follower):
            if child is not None and child.proc.poll() is None:
                child.proc.kill()
                child.finish()


def test_the_screen_replay_keeps_lines_and_the_status_being_drawn() -> None:
    text = "a\r\n\r\x1b[2Kstatus 1\r\x1b[2Kb\r\nstatus 2"
    assert replay(text) == Screen(["a", "b"], "status 2")


def test_quiet_still_prints_the_pages_links(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    scenario = write_scenario(
        "version: 1\nid: short\ntitle: Short\nduration: 1m\nroles: {sre: {}}\n"
    )
    done = run(
        ["run", str(scenario), "--speed", "60", "--port", "0", "-q", "--no-report"], cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Participants join at: http://127.0.0.1:")
    assert lines[1].startswith("Facilitator view:     http://127.0.0.1:")
    assert lines[3:] == ["Drill ended: duration reached", f"Record: drills/{_drill_id(tmp_path)}"]
