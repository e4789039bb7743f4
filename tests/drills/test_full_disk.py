"""Safety before the record: a disk that fills up mid-drill, at drill creation, and under revert,
and a disk whose fsync fails mid-drill.

Real write failures only: RLIMIT_FSIZE in the child ``kunren`` (EFBIG), a small tmpfs that
runs out of space (ENOSPC) when the tests run as root, and a FUSE filesystem whose fsync fails
with EIO (``bench/faultydisk.py``). What must hold: every fault is undone
from memory (the frozen process runs again, the marker file is gone, the service is stopped),
stderr says what was reverted and what the record is missing, the exit code is 5, and there is
no traceback. At creation: no half-made drill folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bench.faultydisk import FaultyDisk

from kunren.drills.faults import outstanding_faults
from kunren.record.eventlog import EVENTS_FILE, EventLog
from kunren.record.events import DrillAborted, DrillEnded, FaultInjected, ServiceStarted
from kunren.record.stream import read_record
from kunren.runtime import procfs

from .disk import can_mount_tmpfs, fill, run_limited, tmpfs, wait_state
from .proc import Child

SLEEPER = "import time\nwhile True: time.sleep(1)"


def _scenario(announcements: list[str]) -> str:
    """The drill: a frozen process, a marker file, a service; announcements before and after."""
    injects = "\n".join(f"  - {{at: {at}, kind: announcement, text: news}}" for at in announcements)
    return f"""
version: 1
id: full-disk
title: The disk fills up
duration: 10m
services:
  svc: {{command: [python, -c, "import time; time.sleep(600)"]}}
targets:
  sleeper: {{process: {{pid_file: sleeper.pid}}}}
faults:
  - {{id: freeze, at: 1m, kind: process.stop, target: sleeper}}
  - {{id: flag, at: 1m, kind: testing.marker, path: flag.marker}}
injects:
{injects}
"""


FAULTS = ("freeze", "flag")
# Records larger than the scenario snapshot before the faults, so a cap just past the faults'
# lines lets the folder be made and fails a write mid-drill.
SCENARIO = _scenario(["10s", "20s", "30s", "40s", "50s", "2m", "3m", "4m"])
# Many events after the faults: a tmpfs filled up then fails an append within a page.
MANY_AFTER = _scenario([f"{m}m{s}s" for m in range(1, 10) for s in (10, 20, 30, 40, 50)])


@pytest.fixture
def sleeper(tmp_path: Path) -> Iterator[int]:
    proc = subprocess.Popen([sys.executable, "-c", SLEEPER])
    (tmp_path / "sleeper.pid").write_text(f"{proc.pid}\n", encoding="utf-8")
    try:
        yield proc.pid
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        proc.kill()
        proc.wait()


def _drill_dir(root: Path) -> Path:
    (drill,) = list(root.iterdir())
    return drill


def _injected_offset(drill: Path) -> int:
    """Bytes of the record up to and including the last fault.injected line."""
    data = (drill / EVENTS_FILE).read_bytes()
    lines = data.split(b"\n")
    events = read_record(drill / EVENTS_FILE).events
    last = max(i for i, e in enumerate(events) if isinstance(e, FaultInjected))
    return sum(len(line) + 1 for line in lines[: last + 1])


def _run_args(scenario: Path, drills: str) -> list[str]:
    return ["run", str(scenario), "--clock", "virtual", "--yes", "--no-report", "--drills", drills]


def _assert_all_undone(tmp_path: Path, sleeper: int, drill: Path) -> None:
    assert wait_state(sleeper, lambda s: s != "T") in ("S", "R")  # thawed, running again
    assert not (tmp_path / "flag.marker").exists()
    services = [e for e in read_record(drill / EVENTS_FILE).events if isinstance(e, ServiceStarted)]
    assert services, "the service's start is in the record"
    assert wait_state(services[0].pid, lambda s: s is None or s == "Z") in (None, "Z")


def _run_until_the_disk_is_full(
    tmp_path: Path, scenario: Path
) -> tuple[subprocess.CompletedProcess[str], Path, int]:
    """Run the drill once with room, to learn how far its record gets by the injection; then
    again with the disk full 60 bytes past that. The second run, its drill folder and the
    limit (bytes)."""
    measured = run_limited(_run_args(scenario, "drills-a"), tmp_path, None)
    assert measured.returncode == 0, measured.stderr
    limit = _injected_offset(_drill_dir(tmp_path / "drills-a")) + 60
    done = run_limited(_run_args(scenario, "drills-b"), tmp_path, limit)
    return done, _drill_dir(tmp_path / "drills-b"), limit


@pytest.mark.integration
def test_a_full_disk_mid_drill_reverts_from_memory_and_says_what_was_not_recorded(
    tmp_path: Path, write_scenario: Callable[[str], Path], sleeper: int
) -> None:
    done, drill, limit = _run_until_the_disk_is_full(tmp_path, write_scenario(SCENARIO))

    assert done.returncode == 5, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    where = drill.relative_to(tmp_path) / EVENTS_FILE
    assert lines[0] == f"Error: {where}: cannot write the record: [Errno 27] File too large"
    assert lines[1] == "The drill was stopped; faults were reverted from memory."
    assert sorted(lines[2].removeprefix("  reverted: ").split(", ")) == ["flag", "freeze"]
    assert lines[3] == "  stopped services: svc"
    count, _, missing = lines[4].removeprefix("  not recorded (").partition(" events): ")
    items = missing.split("; ")
    assert int(count) == len(items)
    assert items[0] == "inject news"  # the write that failed: the 2m announcement
    assert {"fault.reverted flag", "fault.reverted freeze", "service.stopped svc"} <= set(items)
    assert items[-1] == "drill.aborted"
    assert lines[5] == (
        f"When the disk has room again, `kunren revert {drill.relative_to(tmp_path)}` "
        "records the reverts and the drill's end (undoing again is harmless); a drill stopped "
        "this way cannot be resumed."
    )
    _assert_all_undone(tmp_path, sleeper, drill)
    record = read_record(drill / EVENTS_FILE)
    assert record.torn is None  # the failed write was cut off: the log stays whole
    assert os.path.getsize(drill / EVENTS_FILE) <= limit

    # `kunren revert` once there is room records what the conductor did from memory
    reverted = run_limited(["revert", str(drill)], tmp_path, None)
    assert reverted.returncode == 0, reverted.stderr
    assert outstanding_faults(EventLog(drill).read()) == []


@pytest.mark.integration
def test_an_fsync_that_fails_mid_drill_reverts_from_memory_and_says_it_was_an_io_error(
    tmp_path: Path, write_scenario: Callable[[str], Path], sleeper: int, faulty_disk: FaultyDisk
) -> None:
    scenario = write_scenario(SCENARIO)
    drills = faulty_disk.mount / "drills"
    measured = run_limited(_run_args(scenario, str(drills / "a")), tmp_path, None)
    assert measured.returncode == 0, measured.stderr
    injected = _injected_offset(_drill_dir(drills / "a"))
    # The disk fails the first fsync of a record longer than the faults' lines: the kernel's
    # EIO, for the first append after the injection.
    faulty_disk.arm_fsync("EIO", at_least=injected + 1)

    done = run_limited(_run_args(scenario, str(drills / "b")), tmp_path, None)

    assert faulty_disk.armed() == [], "the armed fsync was never reached"
    assert done.returncode == 5, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    drill = _drill_dir(drills / "b")
    lines = done.stderr.splitlines()
    assert lines[0] == f"Error: {drill / EVENTS_FILE}: cannot write the record: [Errno 5] " + (
        "Input/output error"
    )
    assert lines[1] == "The drill was stopped; faults were reverted from memory."
    assert sorted(lines[2].removeprefix("  reverted: ").split(", ")) == ["flag", "freeze"]
    assert lines[-1] == (
        "When the record's disk works again (an I/O error: check the disk, `dmesg`), "
        f"`kunren revert {drill}` records the reverts and the drill's end (undoing again is "
        "harmless); a drill stopped this way cannot be resumed."
    )
    _assert_all_undone(tmp_path, sleeper, drill)
    record = read_record(drill / EVENTS_FILE)
    assert record.torn is None  # the line whose fsync failed was cut off: never acknowledged
    assert os.path.getsize(drill / EVENTS_FILE) == injected
    assert not any(isinstance(e, DrillEnded | DrillAborted) for e in record.events)

    reverted = run_limited(["revert", str(drill)], tmp_path, None)
    assert reverted.returncode == 0, reverted.stderr
    assert outstanding_faults(EventLog(drill).read()) == []


@pytest.mark.integration
def test_a_drill_stopped_by_a_full_disk_is_never_resumed_and_revert_records_its_end(
    tmp_path: Path, write_scenario: Callable[[str], Path], sleeper: int
) -> None:
    stopped, drill, _ = _run_until_the_disk_is_full(tmp_path, write_scenario(SCENARIO))
    assert stopped.returncode == 5, stopped.stdout + stopped.stderr
    size = os.path.getsize(drill / EVENTS_FILE)
    assert not any(isinstance(e, DrillEnded | DrillAborted) for e in EventLog(drill).read())

    # there is room again: resume is refused before it reverts, injects or writes anything
    refused = run_limited(["resume", str(drill), "--no-web"], tmp_path, None)

    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stderr.splitlines() == [
        f"Error: {drill}: cannot resume: the conductor stopped this drill because its record "
        "could not be written (a full disk or an I/O error), and reverted its faults from memory; "
        "a stopped drill is not carried on. Once the record can be written again, "
        f"`kunren revert {drill}` records the reverts and the drill's end"
    ]
    assert os.path.getsize(drill / EVENTS_FILE) == size
    assert not (tmp_path / "flag.marker").exists()
    assert wait_state(sleeper, lambda s: s != "T") in ("S", "R")

    reverted = run_limited(["revert", str(drill)], tmp_path, None)

    assert reverted.returncode == 0, reverted.stderr
    events = EventLog(drill).read()
    assert isinstance(events[-1], DrillAborted)
    assert events[-1].reason == (
        "the record could not be written (a full disk or an I/O error): the conductor stopped the "
        "drill and reverted its faults from memory (this end recorded afterwards by kunren revert)"
    )
    again = run_limited(["resume", str(drill), "--no-web"], tmp_path, None)
    assert again.returncode == 2
    assert again.stderr.startswith(f"Error: {drill}: the drill has already ended (aborted: the")
    assert len(EventLog(drill).read()) == len(events)


@pytest.mark.integration
def test_a_crashed_drill_is_still_resumed_the_full_disk_refusal_is_only_for_a_lost_record(
    tmp_path: Path, write_scenario: Callable[[str], Path], sleeper: int
) -> None:
    drill = _killed_with_faults_active(tmp_path, write_scenario(SCENARIO), sleeper)

    resumed = run_limited(["resume", str(drill), "--no-web", "--speed", "600"], tmp_path, None)

    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert isinstance(EventLog(drill).read()[-1], DrillEnded)


def _killed_with_faults_active(tmp_path: Path, scenario: Path, sleeper: int) -> Path:
    child = Child(
        ["run", str(scenario), "--speed", "60", "--yes", "--no-web", "--no-report"], tmp_path
    )
    child.wait_for(lambda lines: all(any(f"injected {f}" in x for x in lines) for f in FAULTS))
    child.kill(signal.SIGKILL)
    child.finish()
    assert wait_state(sleeper, lambda s: s == "T") == "T"  # the dead conductor left it frozen
    return _drill_dir(tmp_path / "drills")


@pytest.mark.integration
def test_revert_on_a_full_disk_still_reverts_and_names_what_it_could_not_record(
    tmp_path: Path, write_scenario: Callable[[str], Path], sleeper: int
) -> None:
    drill = _killed_with_faults_active(tmp_path, write_scenario(SCENARIO), sleeper)
    full = os.path.getsize(drill / EVENTS_FILE)

    done = run_limited(["revert", str(drill)], tmp_path, full)

    assert done.returncode == 5, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert sorted(done.stdout.splitlines()[:2]) == ["reverted flag", "reverted freeze"]
    error = done.stderr.splitlines()
    assert error[0].startswith(
        f"Error: {drill / EVENTS_FILE}: cannot write the record: [Errno 27] File too large; "
        "not recorded ("
    )
    assert "fault.reverted freeze" in error[0]
    assert error[1] == (
        "Everything was reverted; when the disk has room again, run `kunren revert` again to "
        "record it"
    )
    _assert_all_undone(tmp_path, sleeper, drill)
    assert os.path.getsize(drill / EVENTS_FILE) == full  # nothing half-written


@pytest.mark.integration
def test_revert_reverts_even_when_a_torn_tail_cannot_be_set_aside_on_a_full_disk(
    tmp_path: Path, write_scenario: Callable[[str], Path], sleeper: int
) -> None:
    drill = _killed_with_faults_active(tmp_path, write_scenario(SCENARIO), sleeper)
    with open(drill / EVENTS_FILE, "ab") as log:
        log.write(b'{"seq": 999, "type": "milest')  # what a writer killed mid-line leaves
    before = (drill / EVENTS_FILE).read_bytes()

    done = run_limited(["revert", str(drill)], tmp_path, 8)  # not even events.torn fits

    assert done.returncode == 5, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    out = done.stdout.splitlines()
    assert out[0].startswith("Torn line ") and out[0].endswith(
        " could not be set aside; it stays in the log."
    )
    assert sorted(out[1:3]) == ["reverted flag", "reverted freeze"]
    assert "torn last line" in done.stderr
    _assert_all_undone(tmp_path, sleeper, drill)
    assert (drill / EVENTS_FILE).read_bytes() == before  # the torn bytes were not lost


@pytest.mark.integration
def test_a_full_disk_at_drill_creation_is_one_error_and_leaves_no_drill_folder(
    tmp_path: Path, write_scenario: Callable[[str], Path], sleeper: int
) -> None:
    scenario = write_scenario(SCENARIO)

    done = run_limited(_run_args(scenario, "drills"), tmp_path, 200)  # the snapshot is larger

    assert done.returncode == 5, done.stderr
    assert done.stderr.startswith("Error: ")
    assert done.stderr.rstrip().endswith(
        ": cannot create the drill folder: File too large; nothing was run"
    )
    assert len(done.stderr.splitlines()) == 1
    assert list((tmp_path / "drills").iterdir()) == []
    assert procfs.read(sleeper) is not None and wait_state(sleeper, lambda s: s != "T") != "T"


@pytest.mark.integration
@pytest.mark.parametrize("snapshot", ["scenario.yaml", "drill.json"])
def test_the_snapshot_is_on_disk_before_the_drill_runs_an_fsync_that_fails_stops_it_first(
    tmp_path: Path,
    write_scenario: Callable[[str], Path],
    sleeper: int,
    faulty_disk: FaultyDisk,
    snapshot: str,
) -> None:
    # A revert after a power cut reads the snapshot to undo the faults: it must be durable.
    faulty_disk.arm_fsync("EIO", file=snapshot)
    drills = faulty_disk.mount / "drills"

    done = run_limited(_run_args(write_scenario(SCENARIO), str(drills)), tmp_path, None)

    assert faulty_disk.armed() == [], f"{snapshot} was never fsynced"
    assert done.returncode == 5, done.stderr
    assert done.stderr.rstrip().endswith(
        ": cannot create the drill folder: Input/output error; nothing was run"
    )
    assert list(drills.iterdir()) == []
    assert procfs.read(sleeper) is not None and wait_state(sleeper, lambda s: s != "T") != "T"


@pytest.mark.integration
def test_a_record_whose_first_fsync_fails_says_nothing_was_injected_and_revert_finds_nothing(
    tmp_path: Path, write_scenario: Callable[[str], Path], sleeper: int, faulty_disk: FaultyDisk
) -> None:
    faulty_disk.arm_fsync("EIO", file=EVENTS_FILE)  # drill.started's
    drills = faulty_disk.mount / "drills"

    done = run_limited(_run_args(write_scenario(SCENARIO), str(drills)), tmp_path, None)

    assert done.returncode == 5, done.stderr
    assert "Traceback" not in done.stderr
    drill = _drill_dir(drills)
    lines = done.stderr.splitlines()
    assert lines[0].endswith(": cannot write the record: [Errno 5] Input/output error")
    assert lines[2] == "  reverted: nothing was active"
    assert lines[3] == "  stopped services: svc"  # started before drill time 0, stopped
    assert lines[-2].startswith("  not recorded (3 events): drill.started; ")
    assert lines[-1] == (
        "The record holds nothing, not even the drill's start: no fault was injected. "
        f"{drill} cannot be resumed; remove it once you have read its service logs."
    )
    assert (drill / EVENTS_FILE).read_bytes() == b""
    _assert_all_undone_without_a_record(tmp_path, sleeper)

    reverted = run_limited(["revert", str(drill)], tmp_path, None)
    assert (reverted.returncode, reverted.stdout, reverted.stderr) == (
        0,
        "Nothing left to revert.\n",
        "",
    )
    assert (drill / EVENTS_FILE).read_bytes() == b""  # no end without a start


def _assert_all_undone_without_a_record(tmp_path: Path, sleeper: int) -> None:
    assert wait_state(sleeper, lambda s: s != "T") in ("S", "R")
    assert not (tmp_path / "flag.marker").exists()


@pytest.mark.integration
def test_a_tmpfs_that_runs_out_of_space_mid_drill_reverts_everything(
    tmp_path: Path, write_scenario: Callable[[str], Path], sleeper: int
) -> None:
    if not can_mount_tmpfs(tmp_path / "probe"):
        pytest.skip("mounting a tmpfs needs root")
    scenario = write_scenario(MANY_AFTER)
    with tmpfs(tmp_path / "disk", "256k") as disk:
        args = ["run", str(scenario), "--speed", "30", "--yes", "--no-web", "--no-report"]
        child = Child([*args, "--drills", str(disk / "drills")], tmp_path)
        try:
            child.wait_for(
                lambda lines: all(any(f"injected {f}" in x for x in lines) for f in FAULTS), 60
            )
            fill(disk)
            code = child.finish(60)
        finally:
            if child.proc.poll() is None:
                child.proc.kill()
        output = "\n".join(child.lines)
        drill = _drill_dir(disk / "drills")
        assert code == 5, output
        assert "Traceback" not in output
        assert "cannot write the record: [Errno 28] No space left on device" in output
        assert "  reverted: freeze, flag" in output or "  reverted: flag, freeze" in output
        _assert_all_undone(tmp_path, sleeper, drill)
        assert read_record(drill / EVENTS_FILE).torn is None


@pytest.mark.integration
def test_kunren_mark_on_a_full_disk_is_one_error_and_leaves_the_record_whole(
    tmp_path: Path, write_scenario: Callable[[str], Path], sleeper: int
) -> None:
    scenario = write_scenario(SCENARIO)
    assert run_limited(_run_args(scenario, "drills"), tmp_path, None).returncode == 0
    drill = _drill_dir(tmp_path / "drills")
    before = (drill / EVENTS_FILE).read_bytes()
    mark = ["mark", "detected", "--drill", str(drill), "--actor", "ann", "--role", "sre"]

    done = run_limited(
        [*mark, "--at", "3m", "--late"], tmp_path, len(before) + 40
    )  # room for part of it

    assert done.returncode == 5
    assert done.stderr.splitlines() == [
        f"Error: {drill / EVENTS_FILE}: cannot write the record: [Errno 27] File too large"
    ]
    assert (drill / EVENTS_FILE).read_bytes() == before  # the partial line was cut off


def test_a_capped_child_writes_no_bytecode_which_python_would_keep_truncated(
    tmp_path: Path,
) -> None:
    """CPython 3.11 keeps a .pyc cut short by the cap (python/cpython#126606): later imports of
    that module, in any process, then fail. Every capped child runs without writing bytecode,
    even where this process's environment would let it (``PYTHONDONTWRITEBYTECODE`` empty)."""
    (tmp_path / "s.yaml").write_text(
        "version: 1\nid: tiny\ntitle: Tiny\nduration: 1m\nroles:\n  sre: {}\n", encoding="utf-8"
    )
    prefix = tmp_path / "pycache"
    allowed = {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(prefix)}
    uncapped = run_limited(["validate", "s.yaml"], tmp_path, None, env=allowed)
    assert uncapped.returncode == 0, uncapped.stderr
    assert list(prefix.rglob("*.pyc")), "the same child, uncapped, writes bytecode here"
    for pyc in prefix.rglob("*.pyc"):
        pyc.unlink()
    capped = run_limited(["validate", "s.yaml"], tmp_path, 4_000, env=allowed)
    assert capped.returncode == 0, capped.stderr
    assert list(prefix.rglob("*.pyc")) == []
