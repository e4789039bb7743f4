"""The conductor SIGKILLed at 20 random (seeded) moments across drills, then revert and resume;
disks that fill up mid-drill; disks whose fsync fails mid-drill (EIO); buggy third-party
plugins.

The campaign itself lives in ``bench.campaign`` and ``bench.trials`` (the benchmark runs them
with more trials); here it runs bounded, and the checks it relies on are shown to notice each
kind of broken promise.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.campaign import (
    SLEEPER,
    Drill,
    check_acknowledged,
    check_environment,
    run_campaign,
)
from bench.faultydisk import unusable
from bench.trials import run_disk_trials, run_failing_disk_trials, run_plugin_trials

from kunren.record.eventlog import EventLog
from kunren.record.events import Note


@pytest.mark.integration
def test_twenty_kills_lose_no_acknowledged_event_and_leave_no_fault_behind(
    tmp_path: Path,
) -> None:
    outcome = run_campaign(tmp_path, kills=20, seed=20261128, per_drill=2, speed=120, parallel=3)

    assert outcome.problems == []
    assert outcome.kills >= 20
    assert outcome.revert_kills >= 1  # some reverts were killed too, and the next one finished
    assert (outcome.left_injected, outcome.lost) == (0, 0)
    assert outcome.acknowledged >= 20 * 5  # console lines and second-writer notes checked


@pytest.mark.integration
def test_disks_that_fill_up_mid_drill_leave_no_fault_and_lose_no_acknowledged_event(
    tmp_path: Path,
) -> None:
    trials = run_disk_trials(tmp_path, trials=6, seed=20261201)

    assert trials.problems == []
    assert (trials.left_injected, trials.lost) == (0, 0)
    assert trials.record_lost >= 3  # most caps land inside the drill (exit 5)
    assert trials.unrecorded >= trials.record_lost  # each said what it could not record
    assert trials.acknowledged >= 6 * 3


@pytest.mark.integration
def test_disks_whose_fsync_fails_mid_drill_leave_no_fault_and_lose_no_acknowledged_event(
    tmp_path: Path,
) -> None:
    why = unusable()
    if why is not None:
        pytest.skip(why)
    trials = run_failing_disk_trials(tmp_path, trials=4, seed=20261204)

    assert trials.problems == []
    assert (trials.left_injected, trials.lost) == (0, 0)
    assert trials.record_lost >= 2  # most sizes land inside the drill (exit 5)
    assert trials.unrecorded >= trials.record_lost  # each said what it could not record
    assert trials.acknowledged >= 4 * 2


@pytest.mark.integration
def test_buggy_plugins_fail_their_own_steps_and_leave_no_fault(tmp_path: Path) -> None:
    trials = run_plugin_trials(tmp_path, trials=2, seed=20261201)

    assert trials.problems == []
    assert (trials.trials, trials.left_injected, trials.lost) == (2, 0, 0)


@pytest.fixture
def sleeper() -> Iterator[int]:
    proc = subprocess.Popen([sys.executable, "-c", SLEEPER])
    try:
        yield proc.pid
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        proc.kill()
        proc.wait()


def _drill(tmp_path: Path) -> tuple[Drill, Path]:
    folder = tmp_path / "drills" / "campaign-1"
    log = EventLog.create(folder, "version: 1\n")
    log.append(Note(text="kept", at=1.0, wall="2026-11-28T14:00:00+09:00"))
    return Drill(tmp_path, random.Random(0)), folder


def test_the_checks_notice_a_lost_or_changed_acknowledged_event(tmp_path: Path) -> None:
    drill, folder = _drill(tmp_path)
    drill.acked = {1: "[00:01] #1    note: kept", 2: "[00:02] #2    note: lost"}
    drill.notes = ["never written"]

    check_acknowledged(drill, EventLog(folder).read(), "now")

    assert drill.problems == [
        f"{tmp_path.name}: now: acknowledged event #2 is missing ([00:02] #2    note: lost)",
        f"{tmp_path.name}: now: second writer's 'never written' recorded 0 times",
    ]


def test_the_checks_notice_a_marker_left_and_a_frozen_process(tmp_path: Path, sleeper: int) -> None:
    drill, folder = _drill(tmp_path)
    (tmp_path / "m2.marker").write_text("m2\n")
    os.kill(sleeper, signal.SIGSTOP)
    for _ in range(1000):  # the stop is asynchronous: wait until /proc shows it
        if Path(f"/proc/{sleeper}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T":
            break

    check_environment(drill, sleeper, folder, "now")

    assert drill.problems == [
        f"{tmp_path.name}: now: m2.marker is still there",
        f"{tmp_path.name}: now: the sleeper is still frozen",
    ]
