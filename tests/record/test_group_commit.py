"""Group commit: appends that wait share an fsync, and none is acknowledged before it is on disk.

The writers are real threads and real processes (each with several threads sharing one
``EventLog``) appending to one record. A SIGKILL at seeded random moments, mid-write included,
must lose no acknowledged append (printed after ``append`` returned): each is in the record,
once, with its seq. A SIGKILL keeps what the kernel already holds, so this proves the ordering
(nothing is acknowledged before it is written and covered by an fsync some writer completed)
and the record's invariants, not the disk's behaviour on power loss. A full disk (RLIMIT_FSIZE
in a child with several threads appending) must leave every thread either acknowledged with
its line whole in the record, or refused with ``RecordWriteError`` and its line absent.
"""

from __future__ import annotations

import mmap
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.faultydisk import FaultyDisk
from bench.trials import capped

from kunren.errors import RecordWriteError
from kunren.record import futex, syncpage
from kunren.record.eventlog import EVENTS_FILE, SYNC_FILE, EventLog
from kunren.record.events import (
    Event,
    FaultInjected,
    Milestone,
    Note,
    ProbeFailed,
)
from kunren.runtime.clock import monotonic
from tests.drills.disk import can_mount_tmpfs, fill, tmpfs
from tests.record.logs import new_log
from tests.waiting import until

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


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every fsync made in this process, by the path of the file (each still really syncs)."""
    real_fsync = os.fsync
    calls: list[str] = []

    def fsync(fd: int) -> None:
        calls.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    yield calls


def _kill_after_acks(
    proc: subprocess.Popen[str], acks: int, acked: dict[str, int], deadline: float
) -> None:
    """Read the writer's acknowledgements until ``acks`` of them, then SIGKILL it at once."""
    assert proc.stdout is not None
    seen = 0
    while seen < acks and monotonic() < deadline:
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


def _writers(
    drill: Path, names: list[str], threads: int, script: str = WRITER
) -> list[subprocess.Popen[str]]:
    """One writer process running ``script`` per name, each with ``threads`` threads."""
    return [
        subprocess.Popen(
            [sys.executable, "-c", script, str(drill), name, str(threads)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]


def _stop(procs: list[subprocess.Popen[str]]) -> None:
    """Kill what still runs, reap it and close its pipe: every process a test starts, it stops."""
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()


def _kill_rounds(
    log: EventLog, rng: random.Random, rounds: int, writers: int, threads: int, acks: range
) -> dict[str, int]:
    """``rounds`` times: ``writers`` processes append, each SIGKILLed after a random number of
    acknowledgements (from ``acks``), then the torn tail a kill mid-line left is set aside.
    What was acknowledged, text -> seq."""
    acked: dict[str, int] = {}
    deadline = monotonic() + 90
    for round_ in range(rounds):
        procs = _writers(log.drill_dir, [f"r{round_}w{n}" for n in range(writers)], threads)
        try:
            for proc in procs:
                _kill_after_acks(proc, rng.choice(acks), acked, deadline)
        finally:
            _stop(procs)
        log.repair_torn_tail()  # a kill mid-line leaves a torn tail: set aside, never merged
    return acked


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_at_any_moment_loses_no_acknowledged_append(tmp_path: Path, seed: int) -> None:
    log = new_log(tmp_path)
    acked = _kill_rounds(log, random.Random(seed), 3, writers=6, threads=3, acks=range(1, 81))

    events = log.read()  # also checks that seq strictly increases
    notes = {e.text: e.seq for e in events if isinstance(e, Note)}
    assert len(notes) == sum(1 for e in events if isinstance(e, Note))  # none twice
    missing = {text: seq for text, seq in acked.items() if notes.get(text) != seq}
    assert not missing, f"acknowledged but not in the record with its seq: {missing}"
    assert len(acked) >= 18  # every writer acknowledged at least one append
    assert log.append(Note(text="after")).seq == events[-1].seq + 1


def test_threads_waiting_on_the_writer_share_the_next_fsync(faulty_disk: FaultyDisk) -> None:
    log = new_log(faulty_disk.mount)
    before = len(faulty_disk.fsynced())
    faulty_disk.hold_next_fsync()  # the kernel holds the first fsync while seven threads queue
    results: dict[int, int] = {}

    def append(n: int) -> None:
        results[n] = log.append(Note(text=f"t{n}")).seq

    first = threading.Thread(target=append, args=(0,))
    first.start()
    until(lambda: faulty_disk.holding("fsync"), what="the first fsync to be held")
    others = [threading.Thread(target=append, args=(n,)) for n in range(1, 8)]
    for thread in others:
        thread.start()
    until(lambda: log._queue.queued() == 7)
    assert results == {}  # the first is not acknowledged while its fsync is held
    faulty_disk.release()
    for thread in [first, *others]:
        thread.join(timeout=30)

    # One fsync for the first append, one shared by the seven queued behind it.
    assert faulty_disk.fsynced()[before:] == [EVENTS_FILE] * 2
    assert sorted(results.values()) == list(range(2, 10))
    events = log.read()
    assert {e.text: e.seq for e in events if isinstance(e, Note)} == {
        f"t{n}": seq for n, seq in results.items()
    }
    log.close()


def test_threads_and_processes_at_once_keep_each_writers_order_and_one_seq_sequence(
    tmp_path: Path,
) -> None:
    log = new_log(tmp_path)
    script = WRITER.replace("range(100_000)", "range(150)")
    procs = _writers(log.drill_dir, ["p0", "p1"], 4, script)
    mine = [threading.Thread(target=_append_notes, args=(log, f"t{n}", 150)) for n in range(4)]
    try:
        for thread in mine:
            thread.start()
        for proc in procs:
            assert proc.stdout is not None
            acks = [proc.stdout.readline() for _ in range(4 * 150)]  # then it idles
            assert all(line.startswith("ack ") for line in acks)
    finally:
        _stop(procs)
        for thread in mine:
            thread.join(timeout=60)

    events = log.read()
    assert [e.seq for e in events] == list(range(1, 1 + 1 + 8 * 150 + 4 * 150))
    texts = [e.text for e in events if isinstance(e, Note)]
    writers = {text.rsplit(".", 1)[0] for text in texts}
    assert len(writers) == 12
    for writer in writers:  # every thread's appends in the order it made them, none lost
        assert [t for t in texts if t.rsplit(".", 1)[0] == writer] == [
            f"{writer}.{i}" for i in range(150)
        ]


def _append_notes(log: EventLog, name: str, count: int) -> None:
    for i in range(count):
        log.append(Note(text=f"{name}.x.{i}", actor=name))


FULL_DISK = """
import sys, threading
from kunren.errors import RecordWriteError
from kunren.record.eventlog import EventLog
from kunren.record.events import Note

log = EventLog(sys.argv[1])
say = threading.Lock()
go = threading.Barrier(8)

def write(thread):
    go.wait(timeout=30)
    for i in range(40):
        text = f"t{thread}.{i}." + "x" * 200
        try:
            event = log.append(Note(text=text))
        except RecordWriteError as exc:
            with say:
                print(f"refused {text} {exc}", flush=True)
        else:
            with say:
                print(f"ack {event.seq} {text}", flush=True)

threads = [threading.Thread(target=write, args=(t,)) for t in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(timeout=60)
"""


def test_a_full_disk_under_concurrent_threads_acknowledges_only_what_is_whole_in_the_record(
    tmp_path: Path,
) -> None:
    log = new_log(tmp_path)
    size = log.path.stat().st_size
    limit = size + 40 * 270  # room for about 40 of the 320 lines, then EFBIG
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(log.drill_dir)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **capped(limit),
    )
    assert done.returncode == 0, done.stderr
    _assert_only_the_acknowledged_are_whole_in_the_record(
        log, done.stdout, f"{log.path}: cannot write the record: [Errno 27] File too large"
    )
    events = log.read()
    assert log.append(Note(text="after")).seq == events[-1].seq + 1  # the log goes on


def test_a_tmpfs_out_of_space_under_concurrent_threads_acknowledges_only_what_is_whole(
    tmp_path: Path,
) -> None:
    if not can_mount_tmpfs(tmp_path / "probe"):
        pytest.skip("mounting a tmpfs needs root")
    with tmpfs(tmp_path / "small", "256k") as small:
        log = new_log(small)
        fill(small)  # ENOSPC from now on; then room for about 60 of the 320 lines
        filler = small / "filler"
        os.truncate(filler, filler.stat().st_size - 4 * 4096)
        done = subprocess.run(
            [sys.executable, "-c", FULL_DISK, str(log.drill_dir)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        _assert_only_the_acknowledged_are_whole_in_the_record(
            log,
            done.stdout,
            f"{log.path}: cannot write the record: [Errno 28] No space left on device",
        )
        filler.unlink()
        events = log.read()
        assert log.append(Note(text="after")).seq == events[-1].seq + 1  # room again: goes on
        log.close()


def _assert_only_the_acknowledged_are_whole_in_the_record(
    log: EventLog, output: str, refusal: str
) -> None:
    """Every thread's append either acknowledged, its line whole with its seq, or refused."""
    acked: dict[str, int] = {}
    refused: set[str] = set()
    for line in output.splitlines():
        word, *rest = line.split(" ")
        if word == "ack":
            acked[rest[1]] = int(rest[0])
        else:
            assert word == "refused"
            refused.add(rest[0])
            assert " ".join(rest[1:]) == refusal
    assert len(acked) + len(refused) == 8 * 40
    assert acked and refused, "the disk did not fill up mid-run, so the test proved nothing"
    assert log.path.read_bytes().endswith(b"\n")  # no partial line was left behind
    events = log.read()  # every line whole, seq strictly increasing
    notes = {e.text: e.seq for e in events if isinstance(e, Note)}
    assert notes == acked  # every acknowledged line, with its seq, and no refused one
    assert not refused & set(notes)


def test_every_line_is_the_stamped_events_json_as_the_model_writes_it(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    events: list[Event] = [
        Note(text="日本語のメモ", at=1.5, wall="w", step="inject:1"),
        Milestone(name="detected", actor="ann", role="sre", source="participant", seq=41),
        FaultInjected(fault="f", targets=["a", "b"], revert={"pid": 3, "nested": [1, None]}),
        ProbeFailed(probe="p", detail='quote " and \\ backslash'),
    ]
    written = log.append_many(events)

    lines = log.path.read_bytes().split(b"\n")[1:-1]
    assert lines == [event.model_dump_json().encode() for event in written]
    assert [e.seq for e in written] == [2, 3, 4, 5]
    assert [type(e) for e in written] == [type(e) for e in events]
    assert events[1].seq == 41  # the caller's event is not changed
    for mine, theirs in zip(events, written, strict=True):  # what model_copy would have made
        copied = mine.model_copy(update={"seq": theirs.seq})
        assert theirs == copied
        assert theirs.model_fields_set == copied.model_fields_set
        assert theirs.model_dump() == copied.model_dump()


def test_bytes_another_writer_fsynced_need_no_second_fsync(
    tmp_path: Path, fsyncs: list[str]
) -> None:
    log = new_log(tmp_path)
    other = EventLog(log.drill_dir)  # a second writer: its own files, its own lock
    fsyncs.clear()
    other.append(Note(text="covered"))
    assert fsyncs == [str(log.path)]
    page = syncpage.SyncPage(log.drill_dir / SYNC_FILE)
    fd = os.open(log.path, os.O_RDONLY)
    try:
        stat = os.fstat(fd)
        page.make_durable(fd, stat.st_ino, stat.st_size)  # covered by the other's fsync
        assert fsyncs == [str(log.path)]
        log.append(Note(text="beyond"))  # ends beyond the mark: fsyncs
        assert fsyncs == [str(log.path)] * 2
    finally:
        os.close(fd)
        page.close()


def test_a_copied_or_cut_log_is_not_taken_as_covered(tmp_path: Path, fsyncs: list[str]) -> None:
    log = new_log(tmp_path)
    log.append(Note(text="one"))
    copy = tmp_path / "copy"
    shutil.copytree(log.drill_dir, copy)  # the page comes along, naming the old log's inode
    assert (copy / SYNC_FILE).is_file()
    fsyncs.clear()
    copied = EventLog(copy)
    copied.append(Note(text="in the copy"))
    assert fsyncs == [str(copied.path)]  # the copy's bytes were not covered by the old fsync
    assert [e.seq for e in copied.read()] == [1, 2, 3]

    with open(log.path, "ab") as out:
        out.write(b'{"seq": 9, "type": "note", "text": "' + b"x" * 2000)  # torn, never ended
    other = EventLog(log.drill_dir)
    page = syncpage.SyncPage(log.drill_dir / SYNC_FILE)
    fd = os.open(log.path, os.O_RDONLY)
    try:
        stat = os.fstat(fd)
        page.make_durable(fd, stat.st_ino, stat.st_size)  # an fsync covered the torn bytes
        assert page.covered(stat.st_ino) == stat.st_size
    finally:
        os.close(fd)
        page.close()
    other.repair_torn_tail()
    fsyncs.clear()
    log.append(Note(text="after the cut"))  # ends well below the old mark, yet is not covered
    assert fsyncs == [str(log.path)]
    assert [e.seq for e in log.read()] == [1, 2, 3]


def test_without_a_futex_writers_queue_on_the_lock_and_lose_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(futex, "word", lambda page, offset: None)
    log = new_log(tmp_path)
    logs = [log, EventLog(log.drill_dir), EventLog(log.drill_dir)]  # three writers' own files
    threads = [
        threading.Thread(target=_append_notes, args=(logs[n % 3], f"w{n}", 60)) for n in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    events = log.read()
    assert [e.seq for e in events] == list(range(1, 2 + 6 * 60))
    assert logs[1]._files is not None and logs[1]._files.page._words == []


def test_a_write_the_disk_refuses_reaches_every_thread_whose_events_were_in_it(
    faulty_disk: FaultyDisk,
) -> None:
    log = new_log(faulty_disk.mount)
    before = log.path.read_bytes()
    faulty_disk.hold_next_write()  # the first writer stalls in the kernel while the others queue
    outcomes: dict[int, str] = {}

    def append(n: int) -> None:
        try:
            outcomes[n] = f"seq {log.append(Note(text=f't{n}')).seq}"
        except RecordWriteError as exc:
            outcomes[n] = str(exc)

    threads = [threading.Thread(target=append, args=(n,)) for n in range(6)]
    threads[0].start()
    until(faulty_disk.holding, what="the first write to be held")
    for thread in threads[1:]:
        thread.start()
    until(lambda: log._queue.queued() == 5)
    # The next write stores 10 bytes (half a line reaches the disk), the one after is refused.
    faulty_disk.arm_short_write(10, "ENOSPC")
    faulty_disk.release()
    for thread in threads:
        thread.join(timeout=30)

    # One refused write reached all five: each queued alone, the four after it would be on disk.
    refused = f"{log.path}: cannot write the record: [Errno 28] No space left on device"
    assert outcomes == {0: "seq 2", **{n: refused for n in range(1, 6)}}
    assert faulty_disk.armed() == []
    assert log.path.read_bytes().startswith(before)
    assert [e.seq for e in log.read()] == [1, 2]  # the half line was cut off
    assert log.append(Note(text="after")).seq == 3
    log.close()


@pytest.mark.skipif(futex.SYSCALL is None, reason="no futex here")
def test_a_writer_asleep_on_the_futex_is_woken_by_the_fsyncer_not_by_its_timeout(
    tmp_path: Path,
) -> None:
    fd = os.open(tmp_path / "page", os.O_RDWR | os.O_CREAT, 0o644)
    os.ftruncate(fd, mmap.PAGESIZE)
    page = mmap.mmap(fd, mmap.PAGESIZE)
    word = futex.word(page, 0)
    assert word is not None
    word._timeout = futex._Timespec(120, 0)  # only a wake can end this sleep within the test
    word.wait(7)  # the word holds 0, not 7: returns at once
    thread = threading.Thread(target=word.wait, args=(0,))
    thread.start()
    assert thread.native_id is not None
    syscall = Path(f"/proc/self/task/{thread.native_id}/syscall")
    until(lambda: syscall.read_text().split()[0] == str(futex.SYSCALL))  # asleep in futex()
    page[0:4] = (1).to_bytes(4, "little")
    word.wake_all()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the wake did not reach the sleeper"
    del word
    page.close()
    os.close(fd)
