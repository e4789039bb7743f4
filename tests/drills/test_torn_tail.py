"""A torn tail left by another writer while the conductor runs: set aside, noted, drill goes on.

The other writer is a real process that does what ``kunren mark`` does (takes the log's lock,
appends a milestone line) but is SIGKILLed half-way through its line, which is the state a
``kunren mark`` killed mid-write leaves: the lock released by its death, half a line on disk.
(A real ``kunren mark`` writes its ~300 bytes in one ``write()``, too short to be killed in
the middle on purpose, so the writer here writes the line in two parts and is killed between.)
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from kunren.record.eventlog import TORN_FILE, EventLog
from kunren.record.events import DrillEnded, Milestone, Note

from .proc import Child

SCENARIO = """
version: 1
id: torn
title: Another writer dies mid-write
duration: 10m
roles:
  sre: {}
faults:
  - {id: flag, at: 1m, kind: testing.marker, path: flag.marker}
injects:
  - {at: 4m, kind: announcement, text: "after the torn write"}
  - {at: 6m, kind: announcement, text: "still going"}
"""

HALF_WRITER = """
import fcntl, json, os, sys
drill = sys.argv[1]
lock = os.open(os.path.join(drill, ".events.lock"), os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(lock, fcntl.LOCK_EX)
line = json.dumps({"seq": 10**6, "type": "milestone", "name": "detected", "actor": "ann",
                   "role": "sre", "source": "participant", "at": 1.0, "wall": "x"}) + "\\n"
log = os.open(os.path.join(drill, "events.jsonl"), os.O_WRONLY | os.O_APPEND)
os.write(log, line[: len(line) // 2].encode())
os.fsync(log)
print("half written", flush=True)
sys.stdin.read()  # held here, the lock held, until killed
"""


@pytest.mark.integration
def test_the_live_conductor_sets_aside_a_torn_tail_from_a_killed_writer_and_goes_on(
    tmp_path: Path, write_scenario: Callable[[str], Path]
) -> None:
    scenario = write_scenario(SCENARIO)
    child = Child(["run", str(scenario), "--speed", "60", "--no-web", "--no-report"], tmp_path)
    try:
        child.wait_for_line("injected flag")
        (drill,) = list((tmp_path / "drills").iterdir())
        writer = subprocess.Popen(
            [sys.executable, "-c", HALF_WRITER, str(drill)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout is not None
        assert writer.stdout.readline() == "half written\n"
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        code = child.finish(60)
    finally:
        if child.proc.poll() is None:
            child.proc.kill()

    assert code == 0, "\n".join(child.lines)
    events = EventLog(drill).read()  # whole again: no torn line left in the record
    assert isinstance(events[-1], DrillEnded)
    notes = [e.text for e in events if isinstance(e, Note)]
    assert any(n.startswith("line ") and "set aside in events.torn" in n for n in notes)
    assert (drill / TORN_FILE).read_bytes().startswith(b'{"seq": 1000000, "type": "milestone"')
    assert not any(isinstance(e, Milestone) for e in events)  # never acknowledged, never merged
    assert [e.type for e in events].count("inject") == 2  # the drill went on
    assert not (tmp_path / "flag.marker").exists()
