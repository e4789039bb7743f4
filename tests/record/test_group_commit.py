"""Group commit: appends that wait share an fsync, and none is acknowledged before it is on disk.

The writers are real processes (each with several threads sharing one ``EventLog``) appending
to one record, SIGKILLed at seeded random moments, mid-write included; every append a writer
acknowledged (printed after ``append`` returned) must be in the record, once, with its seq.
A SIGKILL keeps what the kernel already holds, so this proves the ordering (nothing is
acknowledged before it is written and covered by an fsync some writer completed) and the
record's invariants, not the disk's behaviour on power loss.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kunren.record.eventlog import SYNC_FILE, EventLog
from kunren.record.events import DrillStarted, Note

WRITER = """
import sys, threading
from kunren.errors import EventLogError
from kunren.record.eventlog import EventLog
from kunren.record.events import Note

log = EventLog(sys.argv[1])
name, threads = sys.argv[2], int(sys.argv[3])
say = threading.Lock()

def write(thread):
    for i in range(100_000):
        text = f"{name}.{thread}.{i}"
        try:
            event = log.append(Note(text=text, actor=name))
        except EventLogError:
            with say:
                print("torn", flush=True)
            return
        with say:
            print(f"ack {event.seq} {text}", flush=True)

for t in range(threads):
    threading.Thread(target=write, args=(t,), daemon=True).start()
threading.Event().wait()
"""


def _new_log(tmp_path: Path) -> EventLog:
    log = EventLog.create(tmp_path / "drill", "version: 1\n")
    log.append(DrillStarted(drill="d1", scenario_id="s", duration=60.0))
    return log


def _kill_after_acks(
    proc: subprocess.Popen[str], acks: int, acked: dict[str, int], deadline: float
) -> None:
    """Read the writer's acknowledgements until ``acks`` of them, then SIGKILL it at once."""
    assert proc.stdout is not None
    seen = 0
    while seen < acks and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line or line.startswith("torn"):
            break  # another writer died mid-line: appends stop until the tail is repaired
        _, seq, text = line.split()
        acked[text] = int(seq)
        seen += 1
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    for line in proc.stdout:  # acknowledged before the kill landed
        if line.startswith("ack "):
            _, seq, text = line.split()
            acked[text] = int(seq)


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_at_any_moment_loses_no_acknowledged_append(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    log = _new_log(tmp_path)
    acked: dict[str, int] = {}
    deadline = time.monotonic() + 90
    for round_ in range(3):
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, str(log.drill_dir), f"r{round_}w{n}", "3"],
                stdout=subprocess.PIPE,
                text=True,
            )
            for n in range(6)
        ]
        try:
            for proc in procs:
                _kill_after_acks(proc, rng.randint(1, 80), acked, deadline)
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=30)
                if proc.stdout is not None:
                    proc.stdout.close()
        log.repair_torn_tail()  # a kill mid-line leaves a torn tail: set aside, never merged

    events = log.read()  # also checks that seq strictly increases
    notes = {e.text: e.seq for e in events if isinstance(e, Note)}
    assert len(notes) == sum(1 for e in events if isinstance(e, Note))  # none twice
    missing = {text: seq for text, seq in acked.items() if notes.get(text) != seq}
    assert not missing, f"acknowledged but not in the record with its seq: {missing}"
    assert len(acked) >= 18  # every writer acknowledged at least one append
    assert log.append(Note(text="after")).seq == events[-1].seq + 1


def test_threads_waiting_on_the_writer_share_the_next_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _new_log(tmp_path)
    real_fsync = os.fsync
    calls: list[int] = []

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 1:  # hold the first fsync until the other seven threads have queued
            deadline = time.monotonic() + 30
            while len(log._queue) < 7 and time.monotonic() < deadline:
                time.sleep(0.001)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    results: dict[int, int] = {}

    def append(n: int) -> None:
        results[n] = log.append(Note(text=f"t{n}")).seq

    first = threading.Thread(target=append, args=(0,))
    first.start()
    deadline = time.monotonic() + 30
    while not calls and time.monotonic() < deadline:
        time.sleep(0.001)
    others = [threading.Thread(target=append, args=(n,)) for n in range(1, 8)]
    for thread in others:
        thread.start()
    for thread in [first, *others]:
        thread.join(timeout=30)

    assert len(calls) == 2  # one for the first append, one shared by the seven queued behind it
    assert sorted(results.values()) == list(range(2, 10))
    events = log.read()
    assert {e.text: e.seq for e in events if isinstance(e, Note)} == {
        f"t{n}": seq for n, seq in results.items()
    }


def test_bytes_another_writer_fsynced_need_no_second_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _new_log(tmp_path)
    other = EventLog(log.drill_dir)  # a second writer: its own files, its own lock
    real_fsync = os.fsync
    calls: list[int] = []

    def fsync(fd: int) -> None:
        calls.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    other.append(Note(text="covered"))
    assert len(calls) == 1
    # The mark now says the file is on disk up to its end: a writer whose bytes end there
    # returns at once, one whose bytes end beyond it fsyncs.
    fd = os.open(log.path, os.O_RDONLY)
    try:
        log._sync(fd, log.path.stat().st_size)
        assert len(calls) == 1
        log.append(Note(text="beyond"))
        assert len(calls) == 2
    finally:
        os.close(fd)


def test_a_copied_or_cut_log_is_not_taken_as_covered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = _new_log(tmp_path)
    log.append(Note(text="one"))
    copy = tmp_path / "copy"
    shutil.copytree(log.drill_dir, copy)  # the mark file comes along, naming the old inode
    assert (copy / SYNC_FILE).is_file()
    real_fsync = os.fsync
    calls: list[str] = []

    def fsync(fd: int) -> None:
        calls.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    copied = EventLog(copy)
    fd = os.open(copied.path, os.O_RDONLY)
    try:
        copied._sync(fd, copied.path.stat().st_size)
    finally:
        os.close(fd)
    assert calls == [str(copied.path)]  # the copy's bytes were not covered by the old fsync

    with open(log.path, "ab") as out:
        out.write(b'{"seq": 9, "type": "note", "text": "' + b"x" * 2000)  # torn, never ended
    fd = os.open(log.path, os.O_RDONLY)
    try:
        log._sync(fd, log.path.stat().st_size)  # another writer's fsync covered the torn bytes
    finally:
        os.close(fd)
    log.repair_torn_tail()
    calls.clear()
    log.append(Note(text="after the cut"))  # ends well below the old mark, yet is not covered
    assert str(log.path) in calls
