"""The crash campaign: SIGKILL the conductor at random moments, then ``revert`` and ``resume``.

The record's promise is that nothing acknowledged is ever lost and nothing injected is left
behind, whatever moment the conductor dies at. Each drill here runs real ``kunren run`` and
``kunren resume`` processes with local faults: ``testing.marker`` (a file that must be gone
after revert) and ``process.stop`` (SIGSTOP) on a sleeper process this campaign owns (it must
not be left frozen), plus a drill-owned service (it must not outlive a revert). A second writer
in this process appends notes to the same log meanwhile, as ``kunren mark`` would.

A kill moment is drawn from a seeded generator: after the k-th acknowledged console line, plus
a random fraction of a second, so kills land both on and between events. After every kill
``kunren revert`` must succeed and leave no marker, no frozen sleeper and no service (half of
the time the first ``kunren revert`` is itself SIGKILLed at a random moment, and the next one
must finish its work); the drill then resumes (and may be killed again). At the end every
acknowledged event (console line or second-writer append) must be in the record exactly once,
unchanged, every injected fault reverted, and no step repeated. Used by
``tests/hardening/test_crash_campaign.py`` and by the benchmark (``python -m bench --only
campaign``), which runs more kills. The full-disk and buggy-plugin trials are in
``bench.trials``.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import Row, scratch
from kunren.drills.console import line as console_line
from kunren.drills.faults import outstanding_faults
from kunren.errors import EventLogError
from kunren.record.attach import attached_clock
from kunren.record.eventlog import EventLog
from kunren.record.events import (
    DrillEnded,
    DrillStarted,
    Event,
    FaultInjected,
    FaultReverted,
    Inject,
    Milestone,
    Note,
    ServiceStarted,
)
from kunren.record.recorder import Recorder
from kunren.runtime import procfs
from kunren.runtime.clock import VirtualClock
from kunren.testing import KUNREN, KunrenProcess

MARKERS = ("m1", "m2", "m3")
SLEEPER = "import time\nwhile True: time.sleep(1)"
SCENARIO = """\
version: 1
id: campaign
title: Crash campaign
duration: 10m
roles:
  sre: {}
  support: {}
services:
  helper: {command: [python, -c, "import time; time.sleep(600)"]}
targets:
  sleeper: {process: {pid_file: sleeper.pid}}
faults:
  - {id: m1, at: 1m, kind: testing.marker, path: m1.marker, for: 4m}
  - {id: freeze, at: 2m, kind: process.stop, target: sleeper, for: 3m}
  - {id: m2, at: 3m, kind: testing.marker, path: m2.marker}
  - {id: m3, at: 6m, kind: testing.marker, path: m3.marker, for: 3m}
  - {id: freeze2, at: 7m, kind: process.stop, target: sleeper}
injects:
  - {at: 2m, kind: announcement, text: "Search is failing"}
  - {at: 4m, kind: inquiry, text: "A customer writes", to: support}
  - {at: 8m, kind: announcement, text: "Still failing"}
simulate:
  seed: 3
  people:
    - {role: sre, person: bob, detected: 1m-3m, triaged: 3m-5m, mitigated: 5m-7m, resolved: 8m-9m}
    - {role: support, person: ann, detected: 2m-4m, customer_notified: 4m-6m}
"""


@dataclass
class Outcome:
    """What a campaign did and every broken promise it found (empty: none)."""

    kills: int = 0
    drills: int = 0
    acknowledged: int = 0
    revert_kills: int = 0  # `kunren revert` processes SIGKILLed while they ran
    left_injected: int = 0  # a marker left, or the sleeper left frozen, when none may be
    lost: int = 0  # acknowledged events missing from the record
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


class Console(KunrenProcess):
    """A running kunren command whose console lines are collected as they arrive."""

    def wait_acks(self, count: int, timeout: float) -> bool:
        """True once ``count`` lines are acknowledged; False if the command ended first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.acks()) >= count:
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.005)
        raise RuntimeError("no progress: " + " | ".join(self.lines[-5:]))


class SecondWriter:
    """Appends notes to the log from this process while a conductor writes it too."""

    def __init__(self, drill: Path, name: str) -> None:
        log = EventLog(drill)
        clock = attached_clock(log.read())  # the drill's own time, as `kunren mark` derives it
        self.recorder = Recorder(log, clock or VirtualClock())
        self.name = name
        self.acked: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._write, daemon=True)
        self._thread.start()

    def _write(self) -> None:
        for n in range(100_000):
            if self._stop.wait(0.05):
                return
            text = f"{self.name} note {n}"
            try:
                self.recorder.record(Note(text=text, actor="second-writer"))
            except EventLogError:
                continue  # a torn tail: refused, so not acknowledged
            self.acked.append(text)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


@dataclass
class Drill:
    """One drill of the campaign: its folder, its sleeper, what was acknowledged."""

    folder: Path
    rng: random.Random
    acked: dict[int, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    kills: int = 0
    revert_kills: int = 0
    left_injected: int = 0
    lost: int = 0

    def fail(self, message: str) -> None:
        self.problems.append(f"{self.folder.name}: {message}")


def signal_at_random_ack(
    console: Console, rng: random.Random, upto: int, sig: signal.Signals
) -> bool:
    """Send ``sig`` to a run once it has acknowledged 1 to ``upto`` events (seeded), right on
    an event or up to 0.3 s after it: the moment itself is what is tested. True if sent."""
    if not console.wait_acks(rng.randint(1, upto), 60):
        return False
    time.sleep(0.0 if rng.random() < 0.25 else rng.uniform(0.0, 0.3))
    if console.proc.poll() is not None:
        return False
    console.proc.send_signal(sig)
    return True


def run_campaign(
    root: Path, kills: int, seed: int, per_drill: int = 2, speed: float = 120, parallel: int = 2
) -> Outcome:
    """SIGKILL conductors at ``kills`` random moments (spread over drills); check every promise."""
    start = time.monotonic()
    outcome = Outcome()
    rng = random.Random(seed)
    lock = threading.Lock()
    seeds = iter(range(1000))

    def worker() -> None:
        for _ in range(100):
            with lock:
                if outcome.kills >= kills:
                    return
                n = next(seeds)
                outcome.drills += 1
                drill_seed = rng.randrange(1 << 30)
            folder = root / f"drill-{n:02d}"
            drill = _run_drill(folder, random.Random(drill_seed), per_drill, speed)
            with lock:
                outcome.kills += drill.kills
                outcome.acknowledged += len(drill.acked) + len(drill.notes)
                outcome.revert_kills += drill.revert_kills
                outcome.left_injected += drill.left_injected
                outcome.lost += drill.lost
                outcome.problems += drill.problems

    with ThreadPoolExecutor(parallel) as pool:
        for future in [pool.submit(worker) for _ in range(parallel)]:
            future.result()
    outcome.seconds = time.monotonic() - start
    return outcome


def _run_drill(folder: Path, rng: random.Random, per_drill: int, speed: float) -> Drill:
    folder.mkdir(parents=True)
    (folder / "scenario.yaml").write_text(SCENARIO, encoding="utf-8")
    sleeper = subprocess.Popen([sys.executable, "-c", SLEEPER])
    (folder / "sleeper.pid").write_text(f"{sleeper.pid}\n", encoding="utf-8")
    drill = Drill(folder, rng)
    try:
        args = ["run", "scenario.yaml", "--speed", f"{speed:g}", "--no-web", "--no-report"]
        _phase(drill, [*args, "--yes"], kill=per_drill > 0, sleeper=sleeper.pid)
        for n in range(1, per_drill + 1):
            if _ended(drill):
                break
            resume = ["resume", str(_drill_dir(folder)), "--no-web"]
            _phase(drill, resume, kill=n < per_drill, sleeper=sleeper.pid)
        if not _ended(drill):
            drill.fail("the drill never reached drill.ended")
        _final_checks(drill, sleeper.pid)
    finally:
        os.kill(sleeper.pid, signal.SIGCONT)
        sleeper.kill()
        sleeper.wait()
    return drill


def _drill_dir(folder: Path) -> Path:
    (drill,) = list((folder / "drills").iterdir())
    return drill


def _ended(drill: Drill) -> bool:
    try:
        events = EventLog(_drill_dir(drill.folder)).read()
    except (ValueError, EventLogError):
        return False
    return any(isinstance(e, DrillEnded) for e in events)  # notes may follow it


def _phase(drill: Drill, args: list[str], kill: bool, sleeper: int) -> None:
    """One conductor process: run (or resume) it, maybe SIGKILL it, then revert."""
    console = Console(args, drill.folder)
    writer: SecondWriter | None = None
    try:
        if not console.wait_acks(1, 60):
            # a resume after the drill's time ran out records drill.ended and prints nothing
            code = console.finish(60)
            if code != 0 or not _ended(drill):
                drill.fail(
                    f"`{' '.join(args)}` exited {code} before its first event: {console.lines[-3:]}"
                )
            return
        writer = SecondWriter(_drill_dir(drill.folder), f"{drill.folder.name}/{len(drill.acked)}")
        # the first run prints ~35 events; a resume fewer (part of the drill is over)
        upto = 25 if args[0] == "run" else 10
        killed = kill and signal_at_random_ack(console, drill.rng, upto, signal.SIGKILL)
        code = console.finish(60)
    finally:
        if writer is not None:
            writer.stop()
            drill.notes += writer.acked
        if console.proc.poll() is None:
            console.proc.kill()
    drill.acked.update(console.acks())
    if killed:
        drill.kills += 1
        _revert_and_check(drill, sleeper)
    elif code != 0:
        drill.fail(f"`{' '.join(args)}` exited {code}: {console.lines[-3:]}")


def _revert_and_check(drill: Drill, sleeper: int) -> None:
    folder = _drill_dir(drill.folder)
    if drill.rng.random() < 0.5:
        _kill_a_revert(drill, folder)
    done = subprocess.run(
        [*KUNREN, "revert", str(folder)],
        cwd=drill.folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode != 0:
        drill.fail(f"kunren revert exited {done.returncode}: {done.stdout} {done.stderr}")
    check_environment(drill, sleeper, folder, "after revert")
    check_acknowledged(drill, EventLog(folder).read(), "after revert")


def _kill_a_revert(drill: Drill, folder: Path) -> None:
    """Start ``kunren revert`` and SIGKILL it at a random moment (start-up to mid-revert)."""
    proc = subprocess.Popen(
        [*KUNREN, "revert", str(folder)],
        cwd=drill.folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        proc.wait(drill.rng.uniform(0.2, 1.2))
    except subprocess.TimeoutExpired:
        proc.kill()
        drill.revert_kills += 1
    proc.wait(10)


def check_environment(drill: Drill, sleeper: int, folder: Path, when: str) -> None:
    for marker in MARKERS:
        if (drill.folder / f"{marker}.marker").exists():
            drill.fail(f"{when}: {marker}.marker is still there")
            drill.left_injected += 1
    info = procfs.read(sleeper)
    if info is None or info.state == "T":
        drill.fail(f"{when}: the sleeper is {'gone' if info is None else 'still frozen'}")
        drill.left_injected += 1
    for event in EventLog(folder).read():
        if isinstance(event, ServiceStarted) and _still_running(event):
            drill.fail(f"{when}: service {event.name} (pid {event.pid}) still runs")


def _still_running(event: ServiceStarted) -> bool:
    """The service's process still runs (not merely a reused pid), allowing it a second to exit
    after the SIGTERM its dead conductor's kernel sent it."""
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        info = procfs.alive(event.pid)
        if info is None or "time.sleep(600)" not in info.command:
            return False
        time.sleep(0.02)
    return True


def check_acknowledged(drill: Drill, events: list[Event], when: str) -> None:
    by_seq = {event.seq: event for event in events}
    for seq, shown in drill.acked.items():
        event = by_seq.get(seq)
        if event is None:
            drill.fail(f"{when}: acknowledged event #{seq} is missing ({shown})")
            drill.lost += 1
        elif not shown.startswith(console_line(event)):
            drill.fail(f"{when}: #{seq} changed: acknowledged {shown!r}, recorded {event!r}")
    notes = Counter(e.text for e in events if isinstance(e, Note))
    for text in drill.notes:
        if notes[text] != 1:
            drill.fail(f"{when}: second writer's {text!r} recorded {notes[text]} times")


def _final_checks(drill: Drill, sleeper: int) -> None:
    folder = _drill_dir(drill.folder)
    events = EventLog(folder).read()
    check_acknowledged(drill, events, "at the end")
    check_environment(drill, sleeper, folder, "at the end")
    counts = Counter(type(e).__name__ for e in events if isinstance(e, DrillStarted | DrillEnded))
    if counts["DrillStarted"] != 1 or counts["DrillEnded"] != 1:
        drill.fail(f"drill.started/ended recorded {dict(counts)} times")
    if outstanding_faults(events):
        drill.fail(f"faults left unreverted: {[o.key for o in outstanding_faults(events)]}")
    injected = Counter(e.fault for e in events if isinstance(e, FaultInjected))
    reverted = Counter(e.fault for e in events if isinstance(e, FaultReverted))
    for fault, times in injected.items():
        if reverted[fault] < times:
            drill.fail(f"{fault} injected {times}×, reverted {reverted[fault]}×")
    repeated = [
        key
        for key, n in Counter(
            [("inject", e.text) for e in events if isinstance(e, Inject)]
            + [("milestone", f"{e.actor}:{e.name}") for e in events if isinstance(e, Milestone)]
        ).items()
        if n > 1
    ]
    if repeated:
        drill.fail(f"steps recorded more than once: {repeated}")


def run(quick: bool) -> list[Row]:
    """The benchmark's view: more kills than the test, same promises; then the other trials."""
    from bench.trials import trial_rows

    kills = 6 if quick else 40
    with scratch("campaign-") as folder:
        outcome = run_campaign(folder, kills=kills, seed=20261128, parallel=3)
    clean = not outcome.problems
    summary = (
        f"{outcome.kills} kills over {outcome.drills} drills in {outcome.seconds:.0f} s "
        f"({outcome.revert_kills} of the `kunren revert`s after them SIGKILLed too); "
        f"{outcome.acknowledged} acknowledged events checked; faults left injected: "
        f"{outcome.left_injected}; acknowledged events lost: {outcome.lost}"
    )
    return [
        Row(
            "crash campaign: conductor SIGKILLed",
            f"{outcome.kills} kills, {len(outcome.problems)} broken",
            "-",
            None,
            "-",
            None,
            [summary, *outcome.problems[:10]],
            holds=clean,
            expect="none lost, none left injected",
        ),
        *trial_rows(quick),
    ]
