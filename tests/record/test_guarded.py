"""The guarded recorder: the first failed write is kept, reported once, and nothing more is tried.

The failure here is a real one the log refuses on: a torn tail (a writer that died mid-line) in
a log that does not set torn tails aside. The full-disk failures (EFBIG, ENOSPC) are exercised
end to end in ``tests/drills/test_full_disk.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kunren.errors import RecordWriteError
from kunren.record.eventlog import EventLog
from kunren.record.events import Event, FaultReverted, Note
from kunren.record.guarded import GuardedRecorder
from kunren.runtime.clock import VirtualClock


def test_the_first_failed_write_is_reported_once_and_later_events_are_kept_aside(
    tmp_path: Path,
) -> None:
    log = EventLog.create(tmp_path / "drill", "version: 1\n")
    lost: list[RecordWriteError] = []
    shown: list[Event] = []
    recorder = GuardedRecorder(log, VirtualClock(start=30.0), shown.append, lost.append)
    recorder.record(Note(text="before"))
    with open(log.path, "ab") as out:
        out.write(b'{"seq": 2, "type": "no')  # a writer died mid-line

    with pytest.raises(RecordWriteError) as first:
        recorder.record(FaultReverted(fault="freeze", detail="sent SIGCONT"))
    log.repair_torn_tail()  # even once the log could take it again, nothing more is tried
    assert recorder.try_record(Note(text="after")) is False

    assert str(first.value).startswith(f"cannot write the record: {log.path}:2: torn last line")
    assert first.value.exit_code == 5
    assert lost == [first.value]  # the owner is told once
    assert recorder.unrecorded_lines() == ["fault.reverted freeze", "note after"]
    assert [e.at for e in recorder.unrecorded] == [30.0, 30.0]  # stamped when they happened
    assert [e.seq for e in log.read()] == [1]
    assert [type(e).__name__ for e in shown] == ["Note"]  # only what was written is shown
