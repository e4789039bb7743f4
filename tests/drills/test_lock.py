"""One drill, one conductor: a second `kunren resume` (or run, or revert) is refused, exit 2,
and writes nothing, while the first holds the drill's lock."""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from kunren.drills.lock import DrillBusyError, DrillLock
from kunren.record.eventlog import EventLog

from .proc import Child, run

SCENARIO = """
version: 1
id: twice
title: Resumed twice at once
duration: 4h
faults:
  - {id: windowed, at: 1m, kind: testing.marker, path: windowed.marker, for: 3h}
injects:
  - {at: 2m, kind: announcement, text: "Still failing"}
"""


def test_the_lock_is_held_by_one_holder_at_a_time(tmp_path: Path) -> None:
    with DrillLock(tmp_path):
        with pytest.raises(DrillBusyError, match="is busy") as refused:
            DrillLock(tmp_path).acquire()
        assert refused.value.exit_code == 2
    with DrillLock(tmp_path) as again:  # released: the next one gets it
        assert again.held


@pytest.mark.integration
def test_a_second_resume_is_refused_while_the_first_runs(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    scenario = write_scenario(SCENARIO)
    crashed = Child(["run", str(scenario), "--speed", "240", "--no-web"], cwd=tmp_path)
    try:
        crashed.wait_for_line("injected windowed")
    finally:
        crashed.kill(signal.SIGKILL)
        crashed.finish()
    (drill,) = list((tmp_path / "drills").iterdir())

    # 4 drill hours at 240x are a minute of real time: the first is still running (however
    # slow the machine) while the second resume and the revert are refused; then it is aborted
    first = Child(["resume", str(drill), "--no-web"], cwd=tmp_path)
    try:
        first.wait_for_line("drill resumed")
        before = (drill / "events.jsonl").read_bytes()
        second = run(["resume", str(drill), "--no-web"], cwd=tmp_path)
        revert = run(["revert", str(drill)], cwd=tmp_path)
        during = (drill / "events.jsonl").read_bytes()
        assert first.proc.poll() is None, "\n".join(first.lines)
        aborted = run(["abort", str(drill)], cwd=tmp_path, timeout=60)
        assert aborted.returncode == 0, aborted.stderr
        assert first.finish(timeout=60) == 1, "\n".join(first.lines)
    finally:
        if first.proc.poll() is None:
            first.proc.kill()
    for refused in (second, revert):
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "is busy" in refused.stderr or "still running" in refused.stderr
    # Whatever the first wrote meanwhile, the refused ones wrote nothing: each event once.
    assert during.startswith(before)
    events = EventLog(drill).read()
    types = [e.type for e in events]
    assert types.count("drill.resumed") == 1
    assert types.count("drill.aborted") == 1
    assert types.count("fault.injected") == 2  # once by the run, once again by the resume
    seqs = [e.seq for e in events]
    assert seqs == sorted(set(seqs))
    assert not (tmp_path / "windowed.marker").exists()
