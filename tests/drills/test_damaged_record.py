"""`kunren revert` on a damaged record: it reverts what it can read and names what it cannot.

A conductor is SIGKILLed with two faults injected (marker files), then lines of its record are
damaged the way a bad disk or a careless editor would: revert must still remove both markers
and say, by line number, which lines it could not read (exit 4: something recorded only there
may be left broken).
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from kunren.record.eventlog import EVENTS_FILE
from kunren.record.stream import read_readable

from .proc import Child, run

SCENARIO = """
version: 1
id: damaged
title: A damaged record
duration: 40m
faults:
  - {id: windowed, at: 1m, kind: testing.marker, path: windowed.marker, for: 30m}
  - {id: lasting, at: 3m, kind: testing.marker, path: lasting.marker}
injects:
  - {at: 2m, kind: announcement, text: "Search is failing"}
"""


def _killed_drill(tmp_path: Path, write_scenario: Callable[[str], Path]) -> Path:
    scenario = write_scenario(SCENARIO)
    child = Child(["run", str(scenario), "--speed", "240", "--no-web", "--no-report"], tmp_path)
    child.wait_for_line("injected lasting")
    child.kill(signal.SIGKILL)
    child.finish()
    (drill,) = list((tmp_path / "drills").iterdir())
    assert (tmp_path / "windowed.marker").exists() and (tmp_path / "lasting.marker").exists()
    return drill


def _damage(drill: Path, which: Callable[[list[bytes]], int]) -> int:
    """Overwrite one line with garbage; returns its line number."""
    path = drill / EVENTS_FILE
    lines = path.read_bytes().split(b"\n")
    index = which(lines)
    lines[index] = b'{"seq": "not a number", "type": "fau'
    path.write_bytes(b"\n".join(lines))
    return index + 1


def _line_of(fault: str, type_: str) -> Callable[[list[bytes]], int]:
    needle = f'"type":"{type_}"'.encode()
    return lambda lines: next(
        i for i, line in enumerate(lines) if needle in line and f'"{fault}"'.encode() in line
    )


@pytest.mark.integration
def test_revert_reverts_every_fault_it_can_read_and_names_the_damaged_middle_lines(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    drill = _killed_drill(tmp_path, write_scenario)
    first = _damage(drill, _line_of("windowed", "fault.injected"))  # its intent still has a handle
    second = _damage(drill, lambda lines: next(i for i, x in enumerate(lines) if b"Search" in x))

    done = run(["revert", str(drill)], cwd=tmp_path)

    assert done.returncode == 4, done.stdout + done.stderr
    assert not (tmp_path / "windowed.marker").exists()
    assert not (tmp_path / "lasting.marker").exists()
    assert sorted(done.stdout.splitlines()[:2]) == ["reverted lasting", "reverted windowed"]
    assert done.stderr.splitlines() == [
        f"Error: {drill / EVENTS_FILE}: lines {min(first, second)}, {max(first, second)} could "
        "not be read (not a valid event: Invalid JSON: EOF while parsing a string at line 1 "
        "column 36): a fault recorded only there was not reverted; check by hand"
    ]
    after = read_readable(drill / EVENTS_FILE)
    assert [bad.line for bad in after.bad] == sorted([first, second])  # damage kept, not hidden
    notes = [getattr(e, "text", "") for e in after.events if e.type == "note"]
    assert any(f"could not read line(s) {min(first, second)}" in n for n in notes)


@pytest.mark.integration
def test_revert_names_a_bad_last_complete_line_by_number_and_still_reverts(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    drill = _killed_drill(tmp_path, write_scenario)
    raw = (drill / EVENTS_FILE).read_bytes()
    last = _damage(drill, lambda lines: len(lines) - 2)  # the last complete line
    assert (drill / EVENTS_FILE).read_bytes() != raw

    done = run(["revert", str(drill)], cwd=tmp_path)

    assert done.returncode == 4, done.stdout + done.stderr
    assert not (tmp_path / "windowed.marker").exists()
    assert not (tmp_path / "lasting.marker").exists()
    error = done.stderr.splitlines()
    assert error[0].startswith(f"Error: {drill / EVENTS_FILE}: line {last} could not be read (")
    assert error[1].startswith(
        f"cannot write the record: {drill / EVENTS_FILE}:{last}: the last complete line is not a "
        "valid event; nothing can be appended after it"
    )
    assert "not recorded (" in error[1] and "fault.reverted lasting" in error[1]
