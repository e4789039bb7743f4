"""The hang-up campaign: SIGHUP the conductor at random moments, as a closed terminal would.

The SIGKILL campaign (``bench.campaign``) tests what ``kunren revert`` can undo after a crash;
this one tests what the conductor must do itself when its terminal or ssh session goes away:
revert every fault, stop its services, record ``drill.aborted`` ("SIGHUP received") and remove
its pid file, with no ``kunren revert`` afterwards. Same scenario, same sleeper, same second
writer, same seeded moments (on an event or between two). (A hang-up whose terminal is gone,
so that the console cannot be written, is tested in ``tests/drills/test_signals.py``.)
Used by ``tests/hardening/test_hangup_campaign.py`` and by the benchmark
(``python -m bench --only hangup``).
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.campaign import (
    SCENARIO,
    SLEEPER,
    Console,
    Drill,
    SecondWriter,
    check_acknowledged,
    check_environment,
    signal_at_random_ack,
)
from bench.common import Row, scratch
from kunren.drills.faults import outstanding_faults
from kunren.drills.identity import PID_FILE
from kunren.record.eventlog import EventLog
from kunren.record.events import DrillAborted, DrillEnded, Note


@dataclass
class HangupOutcome:
    trials: int = 0
    hangups: int = 0  # trials where SIGHUP reached a running drill (not one already ended)
    acknowledged: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


def run_hangups(root: Path, trials: int, seed: int, speed: float = 120) -> HangupOutcome:
    start = time.monotonic()
    outcome = HangupOutcome()
    rng = random.Random(seed)
    for n in range(trials):
        folder = root / f"hangup-{n:02d}"
        drill, hung_up = _trial(folder, random.Random(rng.randrange(1 << 30)), speed)
        outcome.trials += 1
        outcome.hangups += hung_up
        outcome.acknowledged += len(drill.acked) + len(drill.notes)
        outcome.problems += drill.problems
    outcome.seconds = time.monotonic() - start
    return outcome


def _trial(folder: Path, rng: random.Random, speed: float) -> tuple[Drill, bool]:
    folder.mkdir(parents=True)
    (folder / "scenario.yaml").write_text(SCENARIO, encoding="utf-8")
    sleeper = subprocess.Popen([sys.executable, "-c", SLEEPER])
    (folder / "sleeper.pid").write_text(f"{sleeper.pid}\n", encoding="utf-8")
    drill = Drill(folder, rng)
    args = ["run", "scenario.yaml", "--speed", f"{speed:g}", "--no-web", "--no-report", "--yes"]
    console = Console(args, folder)
    writer: SecondWriter | None = None
    hung_up = False
    try:
        if not console.wait_acks(1, 60):
            drill.fail(f"`kunren run` ended before its first event: {console.lines[-3:]}")
            return drill, False
        (drill_dir,) = list((folder / "drills").iterdir())
        writer = SecondWriter(drill_dir, f"{folder.name}")
        hung_up = signal_at_random_ack(console, rng, 25, signal.SIGHUP)
        code = console.finish(60)
    finally:
        if writer is not None:
            writer.stop()
            drill.notes += writer.acked
        if console.proc.poll() is None:
            console.proc.kill()
        drill.acked.update(console.acks())
    try:
        _check(drill, drill_dir, sleeper.pid, hung_up, code)
    finally:
        sleeper.kill()
        sleeper.wait()
    return drill, hung_up


def _check(drill: Drill, drill_dir: Path, sleeper: int, hung_up: bool, code: int) -> None:
    """What must hold after a hang-up, with no `kunren revert` to help."""
    events = EventLog(drill_dir).read()
    check_acknowledged(drill, events, "after SIGHUP")
    check_environment(drill, sleeper, drill_dir, "after SIGHUP")
    if outstanding_faults(events):
        drill.fail(f"faults left unreverted: {[o.key for o in outstanding_faults(events)]}")
    if (drill_dir / PID_FILE).exists():
        drill.fail("conductor.pid left behind")
    ends = [e for e in events if not isinstance(e, Note)]
    last = ends[-1] if ends else None
    if hung_up and isinstance(last, DrillAborted):
        if last.reason != "SIGHUP received" or code != 1:
            drill.fail(f"aborted with {last.reason!r}, exit {code}")
    elif not isinstance(last, DrillEnded | DrillAborted):
        drill.fail(f"the record does not end the drill: last {last!r}, exit {code}")


def run(quick: bool) -> list[Row]:
    """The benchmark's view of the hang-up campaign."""
    trials = 4 if quick else 20
    with scratch("hangup-") as folder:
        outcome = run_hangups(folder, trials=trials, seed=20261201)
    summary = (
        f"{outcome.hangups} hang-ups in {outcome.trials} drills in {outcome.seconds:.0f} s; "
        f"{outcome.acknowledged} acknowledged events checked"
    )
    return [
        Row(
            "crash campaign: conductor SIGHUPed",
            f"{outcome.hangups} hang-ups, {len(outcome.problems)} broken",
            "-",
            None,
            "-",
            None,
            [summary, *outcome.problems[:10]],
            holds=not outcome.problems,
            expect="none lost, none left injected",
        )
    ]
