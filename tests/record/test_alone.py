"""A writer alone: the append that needs no queue, and what it may take on trust.

A thread that finds no other thread of its log writing leads a write of its own
(``CommitQueue.run_one``) without queueing a batch, and a log whose file still ends where
its own last write ended takes the next seq from memory rather than from the page or the
file. These tests hold both to what the record promises: a thread arriving meanwhile queues
behind the writer and is written once it hands on; another writer's lines, or lines cut back,
or a log replaced while closed, never give a seq that does not follow the file's last.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.faultydisk import FaultyDisk

from kunren.errors import RecordWriteError
from kunren.record.commitqueue import Batch, CommitQueue
from kunren.record.eventlog import EVENTS_FILE, EventLog
from kunren.record.events import Event, Note
from kunren.record.lines import line_with_seq
from tests.record.logs import new_log
from tests.waiting import until


def test_a_thread_arriving_while_one_leads_alone_queues_and_is_written_once_it_hands_on() -> None:
    queue = CommitQueue()
    committed: list[list[str]] = []
    alone: list[str] = []
    release = threading.Event()

    def commit(batches: list[Batch]) -> None:
        committed.append([e.text for b in batches for e in b.events if isinstance(e, Note)])
        for batch in batches:
            batch.written = batch.events

    def write_alone(event: Event) -> Event:
        alone.append(event.text if isinstance(event, Note) else "")
        if len(alone) == 1:  # the first leader holds the lead until the test lets it go
            release.wait(timeout=30)
        return event

    first = threading.Thread(target=queue.run_one, args=(Note(text="a"), write_alone, commit))
    first.start()
    until(lambda: alone == ["a"])
    returned: list[Event] = []
    other = threading.Thread(
        target=lambda: returned.append(queue.run_one(Note(text="b"), write_alone, commit))
    )
    other.start()
    until(lambda: queue.queued() == 1)
    assert alone == ["a"]  # one leader at a time: the second does not write alone
    assert returned == [] and committed == []  # it waits for the lead, writing nothing

    release.set()  # the first returns and hands on
    first.join(timeout=30)
    other.join(timeout=30)
    assert committed == [["b"]]
    assert [e.text for e in returned if isinstance(e, Note)] == ["b"]
    queue.run_one(Note(text="c"), write_alone, commit)
    assert alone == ["a", "c"]  # free again once the queued batch was written
    assert queue.queued() == 0


def test_another_writers_line_between_two_appends_is_followed_not_overwritten(
    writers: tuple[EventLog, EventLog],
) -> None:
    mine, other = writers
    assert other.append(Note(text="b")).seq == 3
    assert mine.append(Note(text="c")).seq == 4
    assert [(e.seq, getattr(e, "text", None)) for e in mine.read()] == [
        (1, None),
        (2, "a"),
        (3, "b"),
        (4, "c"),
    ]


@pytest.fixture
def writers(tmp_path: Path) -> tuple[EventLog, EventLog]:
    """Two logs of one record (as two processes have), the first having just written seq 2."""
    return _two_writers(tmp_path)


@pytest.fixture
def writers_on_faulty_disk(faulty_disk: FaultyDisk) -> Iterator[tuple[EventLog, EventLog]]:
    """``writers``, on a disk whose next fsync fails with EIO once armed (closed before the
    disk is unmounted)."""
    mine, other = _two_writers(faulty_disk.mount)
    yield mine, other
    mine.close()
    other.close()


def _two_writers(folder: Path) -> tuple[EventLog, EventLog]:
    mine = new_log(folder)
    assert mine.append(Note(text="a")).seq == 2
    return mine, EventLog(mine.drill_dir)


def test_lines_cut_back_by_another_writer_leave_the_next_seq_after_the_last_line_kept(
    writers_on_faulty_disk: tuple[EventLog, EventLog], faulty_disk: FaultyDisk
) -> None:
    mine, other = writers_on_faulty_disk
    faulty_disk.arm_fsync("EIO")  # the other writer's: its line is cut
    with pytest.raises(RecordWriteError, match=r"\[Errno 5\] Input/output error"):
        other.append(Note(text="lost"))
    assert faulty_disk.armed() == []  # the kernel's fsync failed, not a wrapper of it
    assert b"lost" not in mine.path.read_bytes()

    assert mine.append(Note(text="c")).seq == 3
    assert other.append(Note(text="d")).seq == 4
    assert [e.seq for e in mine.read()] == [1, 2, 3, 4]


def test_a_log_replaced_while_closed_gives_the_seq_after_the_new_files_last_line(
    tmp_path: Path,
) -> None:
    log = new_log(tmp_path)
    log.append(Note(text="aa"))
    log.close()
    lines = log.path.read_bytes().splitlines(keepends=True)
    # The same bytes in all, in a new file (an editor's save), whose last seq is 7, not 2.
    replaced = lines[1].replace(b'"seq":2,', b'"seq":7,').replace(b'"aa"', b'"b"')
    assert len(replaced) + 1 == len(lines[1])
    fresh = log.drill_dir / "events.new"
    fresh.write_bytes(lines[0] + replaced[:-1] + b" \n")  # a space keeps the size
    os.replace(fresh, log.drill_dir / EVENTS_FILE)
    assert log.path.stat().st_size == sum(len(line) for line in lines)

    assert log.append(Note(text="after")).seq == 8
    assert [e.seq for e in log.read()] == [1, 7, 8]


def test_after_a_failed_fsync_cut_the_log_is_not_vouched_for_even_if_it_grows_back_to_that_size(
    writers_on_faulty_disk: tuple[EventLog, EventLog], faulty_disk: FaultyDisk
) -> None:
    mine, other = writers_on_faulty_disk
    assert other.append(Note(text="b")).seq == 3  # so mine is not alone: it syncs on the page

    def size(text: str, seq: int) -> int:
        return len(line_with_seq(Note(text=text), seq))

    # Mine's next line is exactly as long as the two lines the other writes after it is cut.
    long_text = "t" * (size("x", 4) + size("y", 5) - size("", 4))
    assert size(long_text, 4) == size("x", 4) + size("y", 5)
    faulty_disk.arm_fsync("EIO")
    with pytest.raises(RecordWriteError, match=r"\[Errno 5\] Input/output error"):
        mine.append(Note(text=long_text))  # written, its fsync failed, cut: never acknowledged
    assert faulty_disk.armed() == []
    assert [e.seq for e in other.append_many([Note(text="x"), Note(text="y")])] == [4, 5]

    assert mine.append(Note(text="after")).seq == 6
    assert [e.seq for e in mine.read()] == [1, 2, 3, 4, 5, 6]
