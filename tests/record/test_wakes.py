"""Who an fsync wakes, and who fsyncs alone.

The sleepers are real processes asleep in ``futex()`` on the record's shared page, with a
futex timeout of two minutes: only a wake can end their sleep within the test, so a sleeper
that returns was woken, and the number of times each woke is exactly what the wake rule says.
The fsync under way is the test's own: it holds the sync lock and moves the page as an fsyncer
does, in two steps, so a sleeper woken before its bytes are covered would show it.
"""

from __future__ import annotations

import fcntl
import os
import random
import select
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from kunren.record import futex, syncpage
from kunren.record.eventlog import EVENTS_FILE, SYNC_FILE, EventLog
from kunren.record.events import DrillStarted, Note
from tests.record.test_group_commit import _kill_rounds, _stop
from tests.waiting import until

pytestmark = pytest.mark.skipif(futex.SYSCALL is None, reason="no futex here")

# One writer whose bytes end at argv[2], making them durable through the page. It counts how
# often it went to sleep (woken for nothing, it would sleep again) and how often its futex
# sleep ended, and the fsyncs it made, and says so when it returns.
SLEEPER = """
import os, sys
from kunren.record import futex, syncpage
page = syncpage.SyncPage(__import__("pathlib").Path(sys.argv[1]))
woke = sleeps = 0
real_sleep = page._sleep
def sleep(inode, end):
    global sleeps
    sleeps += 1
    real_sleep(inode, end)
page._sleep = sleep
for word in page._words:
    word._timeout = futex._Timespec(120, 0)  # only a wake ends a sleep within the test
    real_wait = word.wait
    def wait(expected, real_wait=real_wait):
        global woke
        real_wait(expected)
        woke += 1
    word.wait = wait
log = os.open(sys.argv[3], os.O_RDONLY)
page.make_durable(log, os.fstat(log).st_ino, int(sys.argv[2]))
print(f"slept {sleeps} woke {woke} fsyncs {page.fsyncs}", flush=True)
"""


def _asleep(proc: subprocess.Popen[str]) -> bool:
    """The process's main thread is inside ``futex()`` (the first field is the syscall)."""
    fields = Path(f"/proc/{proc.pid}/syscall").read_text().split()
    return bool(fields) and fields[0] == str(futex.SYSCALL)


def _said(proc: subprocess.Popen[str]) -> bool:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 0)
    return bool(ready)


def test_an_fsync_wakes_the_sleepers_it_covered_and_one_to_make_the_next(
    tmp_path: Path,
) -> None:
    log = EventLog.create(tmp_path / "drill", "version: 1\n")
    log.append(DrillStarted(drill="d1", scenario_id="s", duration=60.0))
    path = log.drill_dir / EVENTS_FILE
    page = syncpage.SyncPage(log.drill_dir / SYNC_FILE)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    procs: list[subprocess.Popen[str]] = []
    try:
        inode = os.fstat(fd).st_ino
        os.write(fd, b'{"seq":2,"type":"note","text":"first"}\n')  # written before "our" fsync
        first = os.fstat(fd).st_size
        fcntl.flock(page.fd, fcntl.LOCK_EX)  # the test is the fsyncer now
        number, size = page._begin(inode, first)
        assert size == first
        os.write(fd, b'{"seq":3,"type":"note","text":"second"}\n')  # written during it
        second = os.fstat(fd).st_size
        for end in (first, second):
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", SLEEPER, str(page_path(log)), str(end), str(path)],
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        until(lambda: all(_asleep(proc) for proc in procs))

        page._fsync(fd, inode, size, number)  # covers the first line only
        slot = number % syncpage.SLOTS
        at = syncpage._SLOTS_AT + 4 * slot
        page._set(at, page._get(at) + 1)
        page._words[slot].wake_all()  # what covered the first line wakes its sleeper
        covered, rest = procs
        assert covered.stdout is not None
        assert covered.stdout.readline().split() == ["slept", "1", "woke", "1", "fsyncs", "0"]
        assert covered.wait(timeout=30) == 0
        assert not _said(rest) and rest.poll() is None  # not covered: still asleep

        fcntl.flock(page.fd, fcntl.LOCK_UN)
        page._words[(number + 1) % syncpage.SLOTS].wake_one()  # one of the rest fsyncs next
        assert rest.stdout is not None
        assert rest.stdout.readline().split() == ["slept", "1", "woke", "1", "fsyncs", "1"]
        assert rest.wait(timeout=30) == 0
        assert page.covered(inode) == second
    finally:
        _stop(procs)
        os.close(fd)
        page.close()


def page_path(log: EventLog) -> Path:
    return log.drill_dir / SYNC_FILE


def test_a_writer_on_its_way_to_sleep_for_the_next_fsync_does_not_sleep_through_its_wake(
    tmp_path: Path,
) -> None:
    """The fsync under way ends between the sleeper reading its word and its futex call.

    The fsyncer's one ``wake_one`` for the next fsync then finds nobody asleep. Unless the
    word moved, the sleeper would sleep out its whole timeout (two minutes here) with nobody
    fsyncing its bytes: a mark acknowledged a timeout late, on a record with few writers.
    """
    log = EventLog.create(tmp_path / "drill", "version: 1\n")
    log.append(DrillStarted(drill="d1", scenario_id="s", duration=60.0))
    fsyncer = syncpage.SyncPage(page_path(log))
    sleeper = syncpage.SyncPage(page_path(log))
    for word in sleeper._words:
        word._timeout = futex._Timespec(120, 0)  # only a wake ends a sleep within the test
    fd = os.open(log.drill_dir / EVENTS_FILE, os.O_WRONLY | os.O_APPEND)
    try:
        inode = os.fstat(fd).st_ino
        os.write(fd, b'{"seq":2,"type":"note","text":"first"}\n')
        fcntl.flock(fsyncer.fd, fcntl.LOCK_EX)  # the fsync under way covers the first line
        number, size = fsyncer._begin(inode, os.fstat(fd).st_size)
        os.write(fd, b'{"seq":3,"type":"note","text":"second"}\n')  # the sleeper's, after
        second = os.fstat(fd).st_size
        looks = 0
        real_covered = sleeper.covered

        def covered(ino: int) -> int:
            """The sleeper's second look is in ``_sleep``, after it read its word's value."""
            nonlocal looks
            looks += 1
            if looks == 2:  # the fsync under way ends now, as ``make_durable`` ends it
                fsyncer._fsync(fd, inode, size, number)
                fcntl.flock(fsyncer.fd, fcntl.LOCK_UN)
                fsyncer._wake(number)
            return real_covered(ino)

        sleeper.covered = covered  # type: ignore[method-assign,assignment]
        done = threading.Thread(target=sleeper.make_durable, args=(fd, inode, second))
        done.start()
        try:
            until(lambda: not done.is_alive(), timeout=30, what="the sleeper to fsync")
        finally:
            for word in sleeper._words:  # a sleeper that missed its wake: let it go
                word.wake_all()
            done.join(timeout=30)
        assert looks >= 2
        assert sleeper.fsyncs == 1  # it took the sync lock itself and fsynced its bytes
        assert fsyncer.covered(inode) == second
    finally:
        os.close(fd)
        sleeper.close()
        fsyncer.close()
        log.close()


def test_a_writer_alone_fsyncs_under_the_write_lock_and_moves_the_mark(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = EventLog.create(tmp_path / "drill", "version: 1\n")
    log.append(Note(text="first"))  # nothing known of who wrote before: the group path
    real_flock = fcntl.flock
    locked: list[str] = []

    def flock(fd: int, operation: int) -> None:
        locked.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_flock(fd, operation)

    monkeypatch.setattr(fcntl, "flock", flock)
    for n in range(3):
        log.append(Note(text=f"alone {n}"))
    assert locked == [str(tmp_path / "drill" / ".events.lock")] * 6  # no sync lock taken
    assert log.fsyncs == 4
    assert log._files is not None
    size = log.path.stat().st_size
    assert log._files.page.covered(log.path.stat().st_ino) == size

    other = EventLog(log.drill_dir)  # another writer: now neither finds its own line last
    other.append(Note(text="other"))
    locked.clear()
    log.append(Note(text="after the other"))
    assert str(tmp_path / "drill" / SYNC_FILE) in locked  # the group path again
    assert [e.seq for e in log.read()] == [1, 2, 3, 4, 5, 6]
    other.close()
    log.close()


def test_once_a_writer_has_slept_nobody_fsyncs_alone(tmp_path: Path) -> None:
    log = EventLog.create(tmp_path / "drill", "version: 1\n")
    log.append(Note(text="first"))
    log.append(Note(text="alone"))
    assert log._files is not None
    page = log._files.page
    page._set(syncpage._SLEEPERS, 1)  # as a sleeper leaves it: a wake may be owed
    fd = os.open(log.path, os.O_RDONLY)
    try:
        assert not page.fsync_alone(fd, os.fstat(fd).st_ino, os.fstat(fd).st_size)
    finally:
        os.close(fd)
    before, number = page.fsyncs, page._get(syncpage._DONE)
    log.append(Note(text="with sleepers about"))
    assert page.fsyncs == before + 1
    assert page._get(syncpage._DONE) == number + 1  # the group path numbers it for sleepers
    log.close()


def test_a_lone_writer_killed_at_any_moment_loses_no_acknowledged_append(
    tmp_path: Path,
) -> None:
    """One writer process, one thread: every append after its first fsyncs alone."""
    log = EventLog.create(tmp_path / "drill", "version: 1\n")
    log.append(DrillStarted(drill="d1", scenario_id="s", duration=60.0))
    acked = _kill_rounds(log, random.Random(3), 4, writers=1, threads=1, acks=range(5, 121))
    notes = {e.text: e.seq for e in log.read() if isinstance(e, Note)}
    assert len(acked) >= 4 * 5
    assert {text: notes.get(text) for text in acked} == acked
    page = syncpage.SyncPage(log.drill_dir / SYNC_FILE)
    try:  # numbered fsyncs: the first append and each process's first; the rest were alone
        assert page._get(syncpage._DONE) <= 1 + 4
    finally:
        page.close()
