"""The event log under the conditions it exists for: two writers at once, and crashes.

The writers are real processes appending to one file through ``EventLog`` (the conductor and a
``kunren mark`` in another terminal do exactly this), and the crash is a real SIGKILL halfway
through a line.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kunren.errors import EventLogError
from kunren.record.eventlog import EVENTS_FILE, TORN_FILE, EventLog
from kunren.record.events import Event, Note
from kunren.record.stream import read_readable, read_record
from tests.record.logs import new_log

PER_WRITER = 1500

WRITER = """
import sys
from kunren.record.eventlog import EventLog
from kunren.record.events import Note

drill, name, count, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
log = EventLog(drill)
print("ready", flush=True)
sys.stdin.readline()  # both writers start together, when the test says go
i = 0
while i < count:
    n = min(batch, count - i)
    log.append_many([Note(text=f"{name} {i + k}", actor=name) for k in range(n)])
    i += n
print("done", flush=True)
"""


def test_two_processes_appending_at_once_lose_nothing_and_never_interleave(
    tmp_path: Path,
) -> None:
    log = new_log(tmp_path)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(log.drill_dir), name, str(PER_WRITER), batch],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name, batch in (("alpha", "1"), ("beta", "7"))
    ]
    try:
        for writer in writers:
            assert writer.stdout is not None
            assert writer.stdout.readline() == "ready\n"
        for writer in writers:
            assert writer.stdin is not None
            writer.stdin.write("go\n")
            writer.stdin.flush()
        for writer in writers:
            assert writer.wait(timeout=120) == 0
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
                writer.wait(timeout=10)

    raw = log.path.read_bytes()
    lines = raw.split(b"\n")
    assert lines[-1] == b""  # every line complete
    assert all(json.loads(line)["type"] for line in lines[:-1])  # none interleaved
    events = log.read()
    assert [e.seq for e in events] == list(range(1, 2 * PER_WRITER + 2))
    notes = [e for e in events if isinstance(e, Note)]
    for name in ("alpha", "beta"):
        mine = [n.text for n in notes if n.actor == name]
        assert mine == [f"{name} {i}" for i in range(PER_WRITER)]  # none lost, in order
    switches = sum(1 for a, b in itertools.pairwise(notes) if a.actor != b.actor)
    assert switches >= 2, "the writers did not overlap, so the test proved nothing"


CRASHER = """
import os, signal, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
os.write(fd, b'{"seq": 4, "type": "note", "text": "half a li')
os.kill(os.getpid(), signal.SIGKILL)
"""


def _crash_mid_line(log: EventLog) -> None:
    crashed = subprocess.run([sys.executable, "-c", CRASHER, str(log.path)], timeout=60)
    assert crashed.returncode == -signal.SIGKILL


def test_a_torn_last_line_is_reported_with_its_line_and_blocks_appends(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    log.append(Note(text="one"))
    log.append(Note(text="two"))
    _crash_mid_line(log)

    record = log.read_record()
    assert [e.seq for e in record.events] == [1, 2, 3]
    assert record.torn is not None
    assert record.torn.line == 4
    assert record.torn.data == b'{"seq": 4, "type": "note", "text": "half a li'

    with pytest.raises(EventLogError) as reading:
        log.read()
    assert str(reading.value) == (f"{log.path}:4: torn last line (a crash interrupted a write)")
    with pytest.raises(EventLogError) as appending:
        log.append(Note(text="after the crash"))
    assert str(appending.value).startswith(f"{log.path}:4: torn last line")
    assert log.path.read_bytes().endswith(b"half a li")  # nothing was merged into it


def test_repair_sets_the_torn_line_aside_and_appends_continue(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    log.append(Note(text="one"))
    _crash_mid_line(log)

    torn = log.repair_torn_tail()
    assert torn is not None
    assert torn.line == 3
    aside = (log.drill_dir / TORN_FILE).read_bytes()
    assert aside == b'{"seq": 4, "type": "note", "text": "half a li\n'
    assert log.repair_torn_tail() is None  # nothing left to repair

    written = log.append(Note(text="after the repair"))
    assert written.seq == 3
    assert [e.seq for e in log.read()] == [1, 2, 3]


def test_every_append_is_fsynced_before_it_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = new_log(tmp_path)
    synced: list[str] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:  # records which file, then really syncs it
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    log.append(Note(text="one"))
    assert synced == [str(log.path)]
    log.append_many([Note(text="two"), Note(text="three")])
    assert synced == [str(log.path)] * 2  # one fsync for the batch

    synced.clear()
    EventLog.create(tmp_path / "second", "version: 1\n")
    # the snapshot's bytes, then the new folder's entries, are durable
    assert synced == [str(tmp_path / "second" / "scenario.yaml"), str(tmp_path / "second")]


def test_a_corrupt_line_in_the_middle_is_reported_with_its_line(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    log.append(Note(text="one"))
    log.append(Note(text="two"))
    lines = log.path.read_bytes().split(b"\n")
    lines[1] = b'{"seq": 2, "type": "note"'  # cut short, then more lines follow it
    log.path.write_bytes(b"\n".join(lines))

    with pytest.raises(EventLogError) as caught:
        log.read()
    assert str(caught.value).startswith(f"{log.path}:2: not a valid event: ")


def test_a_seq_that_goes_backwards_is_reported_with_its_line(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    log.append(Note(text="one"))
    first = log.path.read_bytes().split(b"\n")[0]
    with open(log.path, "ab") as out:
        out.write(first + b"\n")

    with pytest.raises(EventLogError) as caught:
        read_record(log.path)
    assert str(caught.value) == f"{log.path}:3: seq 1 does not follow 2"


def test_the_drill_folder_keeps_the_scenario_it_ran(tmp_path: Path) -> None:
    log = EventLog.create(tmp_path / "drill", "version: 1\nid: snap\n")
    assert log.scenario_path.read_text(encoding="utf-8") == "version: 1\nid: snap\n"
    assert (tmp_path / "drill" / EVENTS_FILE).read_bytes() == b""
    with pytest.raises(EventLogError) as caught:
        EventLog.create(tmp_path / "drill", "again")
    assert str(caught.value) == f"{tmp_path / 'drill'}: drill folder exists already"


def test_events_read_back_as_the_typed_events_that_were_written(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    written: Event = log.append(Note(text="typed", actor="alice", at=12.5))
    (read_back,) = [e for e in log.read() if e.seq == written.seq]
    assert read_back == written
    assert isinstance(read_back, Note)


def test_a_log_that_sets_aside_torn_tails_notes_it_and_appends_under_the_same_lock(
    tmp_path: Path,
) -> None:
    log = new_log(tmp_path)
    _crash_mid_line(log)
    live = EventLog(log.drill_dir, set_aside_torn=True)  # the live conductor's log

    written = live.append(Note(text="the drill goes on", at=5.0, wall="w"))

    assert written.seq == 3 and isinstance(written, Note)
    assert written.text == "the drill goes on"
    events = log.read()
    assert [e.seq for e in events] == [1, 2, 3]
    note = events[1]
    assert isinstance(note, Note)
    assert note.text == (
        "line 2 was torn by a writer that stopped mid-write (never acknowledged); "
        "set aside in events.torn"
    )
    assert (note.at, note.wall) == (5.0, "w")
    assert (
        log.drill_dir / TORN_FILE
    ).read_bytes() == b'{"seq": 4, "type": "note", "text": "half a li\n'
    assert [t.line for t in live.set_aside] == [2]


def test_a_bad_last_complete_line_is_named_by_its_number_when_appending(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    log.append(Note(text="one"))
    with open(log.path, "ab") as out:
        out.write(b'{"seq": oops}\n')

    with pytest.raises(EventLogError) as caught:
        EventLog(log.drill_dir).append(Note(text="two"))

    assert str(caught.value) == (
        f"{log.path}:3: the last complete line is not a valid event; nothing can be appended "
        "after it (`kunren revert` still reads the rest)"
    )


def test_read_readable_keeps_every_good_line_and_names_each_bad_one(tmp_path: Path) -> None:
    log = new_log(tmp_path)
    for text in ("one", "two", "three"):
        log.append(Note(text=text))
    lines = log.path.read_bytes().split(b"\n")
    lines[1] = b"garbage"
    lines[3] = lines[0]  # seq 1 again, after seq 3
    log.path.write_bytes(b"\n".join(lines) + b'{"seq": 9')

    readable = read_readable(log.path)

    assert [e.seq for e in readable.events] == [1, 3]
    assert [(b.line, b.problem.split(":")[0]) for b in readable.bad] == [
        (2, "not a valid event"),
        (4, "seq 1 does not follow 3"),
    ]
    assert readable.torn is not None and readable.torn.line == 5
