"""Crash-campaign trials beyond SIGKILL: a disk that fills up or fails mid-drill, and buggy
plugins.

Full-disk trials run the campaign's drill with every file the conductor writes capped at a
seeded random size (``RLIMIT_FSIZE``, SIGXFSZ ignored: writes past it fail with EFBIG, as on a
full disk), so the record stops at a random event: before the first fault, between a fault's
intent and its act, during the reverts. Right after the conductor exits, before anything else
runs, no fault may be left (markers gone, the sleeper not frozen, the service stopped: it was
all undone from memory), it must have exited 0 or 5 without a traceback, and every event it
acknowledged must be in the record. Then ``kunren revert``, with room again, must leave nothing
outstanding in the record.

Failing-disk trials run the same drill with its drills folder on ``bench.faultydisk`` (a FUSE
filesystem), armed so that the record's first fsync once it is at least a seeded random size
long fails with the kernel's EIO (from its very first line, ``drill.started``, to the reverts):
the line it was for must never be acknowledged, and the same checks hold. Where FUSE cannot be
mounted, the row says why instead.

Buggy-plugin trials add faults whose plugin raises ``ValueError`` from ``inject`` or
``KeyError`` from ``setup``, at seeded random times, and a probe whose ``check`` raises
``RuntimeError``, from a third-party distribution on PYTHONPATH (``bench.buggy``): the drill
must end normally, each buggy step recorded as a failure naming the plugin, nothing left.
"""

from __future__ import annotations

import os
import random
import re
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from bench import buggy
from bench.campaign import SCENARIO, SLEEPER, Drill, check_acknowledged, check_environment
from bench.common import Row, error_row, scratch
from bench.faultydisk import FaultyDisk, unusable
from kunren.drills.faults import outstanding_faults
from kunren.errors import EventLogError
from kunren.record.eventlog import EVENTS_FILE, EventLog
from kunren.record.events import DrillEnded, FaultFailed, ProbeFailed
from kunren.record.stream import read_record
from kunren.testing import ACK, KUNREN

UNRECORDED = re.compile(r"not recorded \((\d+) events\)")
RUN = ["run", "scenario.yaml", "--clock", "virtual", "--yes", "--no-web", "--no-report"]


@dataclass
class Trials:
    """What a batch of trials did, and every broken promise found (empty: none)."""

    trials: int = 0
    record_lost: int = 0  # trials where the conductor exited 5: the record could not be written
    acknowledged: int = 0
    unrecorded: int = 0  # events the conductor said it could not record (declared, not lost)
    left_injected: int = 0
    lost: int = 0
    problems: list[str] = field(default_factory=list)

    def add(self, drill: Drill) -> None:
        self.trials += 1
        self.acknowledged += len(drill.acked)
        self.left_injected += drill.left_injected
        self.lost += drill.lost
        self.problems += drill.problems


# CPython 3.11 writes a module's .pyc without checking that the write was whole, then renames
# it into place (python/cpython#126606; fixed on the 3.12 and later branches, 3.11 takes only
# security fixes). A child whose files are capped, importing a module not yet cached, so leaves
# a truncated .pyc behind, and every later import of that module, in any process, fails with
# "EOFError: marshal data too short". A capped child must not write bytecode.
NO_BYTECODE = {"PYTHONDONTWRITEBYTECODE": "1"}


class Capped(TypedDict, total=False):
    """``subprocess`` keywords for a child: its environment, and the cap set before it runs."""

    preexec_fn: Callable[[], None]
    env: dict[str, str]


def capped(limit: int, env: dict[str, str] | None = None) -> Capped:
    """Keywords for a child whose files cannot grow beyond ``limit`` bytes (SIGXFSZ ignored, so
    a write past it fails with EFBIG, as on a full disk), with this environment plus ``env``,
    writing no bytecode (``NO_BYTECODE``)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return Capped(preexec_fn=apply, env={**os.environ, **(env or {}), **NO_BYTECODE})


def run_kunren(
    args: list[str], cwd: Path, limit: int | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``kunren ARGS`` to its end; with ``limit``, as a ``capped`` child."""
    child = capped(limit, env) if limit is not None else Capped(env={**os.environ, **(env or {})})
    return subprocess.run(
        [*KUNREN, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **child,
    )


def _acks(stdout: str) -> dict[int, str]:
    return {int(m.group(1)): line for line in stdout.splitlines() if (m := ACK.match(line))}


def _with_sleeper(folder: Path, scenario: str, trial: Callable[[Drill, int], None]) -> None:
    folder.mkdir(parents=True)
    (folder / "scenario.yaml").write_text(scenario, encoding="utf-8")
    sleeper = subprocess.Popen([sys.executable, "-c", SLEEPER])
    (folder / "sleeper.pid").write_text(f"{sleeper.pid}\n", encoding="utf-8")
    try:
        trial(Drill(folder, random.Random(0)), sleeper.pid)
    finally:
        os.kill(sleeper.pid, signal.SIGCONT)
        sleeper.kill()
        sleeper.wait()


def _drill_dir(folder: Path, drills: Path | None = None) -> Path | None:
    """The one drill folder in ``drills`` (default: ``folder/drills``), or None."""
    drills = drills if drills is not None else folder / "drills"
    found = list(drills.iterdir()) if drills.is_dir() else []
    return found[0] if found else None


def run_disk_trials(root: Path, trials: int, seed: int) -> Trials:
    """``trials`` drills, each on a disk that fills up at a seeded random size."""
    outcome = Trials()
    rng = random.Random(seed)
    for n in range(trials):
        limit = rng.randint(len(SCENARIO.encode()) + 1, 9000)
        folder = root / f"disk-{n:02d}"

        def trial(drill: Drill, sleeper: int, limit: int = limit) -> None:
            _disk_trial(drill, sleeper, limit, outcome)

        _with_sleeper(folder, SCENARIO, trial)
    return outcome


def run_failing_disk_trials(root: Path, trials: int, seed: int) -> Trials:
    """``trials`` drills, each on a disk that fails the record's first fsync past a seeded
    random size."""
    outcome = Trials()
    rng = random.Random(seed)
    disk = FaultyDisk(root / "faulty")
    try:
        for n in range(trials):
            at_least = rng.randint(1, 9000)
            drills = disk.mount / f"failing-{n:02d}"

            def trial(
                drill: Drill, sleeper: int, at_least: int = at_least, drills: Path = drills
            ) -> None:
                disk.arm_fsync("EIO", at_least=at_least, file=EVENTS_FILE)
                where = f"fsync EIO once the record reaches {at_least} bytes"
                _disk_trial(drill, sleeper, None, outcome, drills=drills, where=where)
                disk.disarm()  # a drill whose files never grew that far left it armed

            _with_sleeper(root / f"failing-{n:02d}", SCENARIO, trial)
    finally:
        disk.close()
    return outcome


def _disk_trial(
    drill: Drill,
    sleeper: int,
    limit: int | None,
    outcome: Trials,
    drills: Path | None = None,
    where: str = "",
) -> None:
    """One drill on a disk that refuses writes (``limit``) or fsyncs (on ``drills``)."""
    args = RUN if drills is None else [*RUN, "--drills", str(drills)]
    done = run_kunren(args, drill.folder, limit)
    where = where or f"capped at {limit} bytes"
    if done.returncode not in (0, 5) or "Traceback" in done.stderr:
        drill.fail(f"{where}: exited {done.returncode}: {done.stderr.strip()[-300:]}")
    drill.acked = _acks(done.stdout)
    folder = _drill_dir(drill.folder, drills)
    if done.returncode == 5:
        outcome.record_lost += 1
        found = UNRECORDED.search(done.stderr)
        outcome.unrecorded += int(found.group(1)) if found else 0
    if folder is None:  # the folder itself could not be made: nothing may have run
        check_environment(drill, sleeper, drill.folder, f"{where}, no folder")
        outcome.add(drill)
        return
    check_environment(drill, sleeper, folder, f"{where}, before any revert")
    try:
        check_acknowledged(drill, read_record(folder / "events.jsonl").events, where)
    except EventLogError as exc:
        drill.fail(f"{where}: the record is unreadable: {exc}")
    reverted = run_kunren(["revert", str(folder)], drill.folder)
    if reverted.returncode != 0:
        drill.fail(f"{where}: kunren revert exited {reverted.returncode}: {reverted.stderr}")
    elif outstanding_faults(EventLog(folder).read()):
        drill.fail(f"{where}: faults outstanding in the record after kunren revert")
    outcome.add(drill)


def _buggy_scenario(rng: random.Random) -> str:
    bugs = (
        f"  - {{id: bug-inject, at: {rng.randint(1, 9)}m, kind: buggy.valueerror}}\n"
        f"  - {{id: bug-setup, at: {rng.randint(1, 9)}m, kind: buggy.setupbug}}\n"
    )
    probe = "probes:\n  - {id: bug-probe, every: 1m, buggy.runtimeerror: {}}\n"
    return SCENARIO.replace("injects:\n", bugs + "injects:\n", 1) + probe


def run_plugin_trials(root: Path, trials: int, seed: int) -> Trials:
    """``trials`` drills with buggy plugins from a third-party distribution on PYTHONPATH."""
    outcome = Trials()
    rng = random.Random(seed)
    site = buggy.install(root / "site")
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)

    def trial(drill: Drill, sleeper: int) -> None:
        try:
            _plugin_trial(drill, sleeper, path)
        finally:
            outcome.add(drill)

    for n in range(trials):
        _with_sleeper(root / f"plugins-{n:02d}", _buggy_scenario(rng), trial)
    return outcome


def _plugin_trial(drill: Drill, sleeper: int, path: str) -> None:
    done = run_kunren(RUN, drill.folder, env={"PYTHONPATH": path})
    if done.returncode != 0 or "Traceback" in done.stdout + done.stderr:
        drill.fail(f"buggy plugins: exited {done.returncode}: {done.stderr.strip()[-300:]}")
    drill.acked = _acks(done.stdout)
    folder = _drill_dir(drill.folder)
    if folder is None:
        drill.fail("buggy plugins: no drill folder")
        return
    check_environment(drill, sleeper, folder, "buggy plugins, at the end")
    events = EventLog(folder).read()
    check_acknowledged(drill, events, "buggy plugins")
    failed = {e.fault: e.error for e in events if isinstance(e, FaultFailed)}
    for key in ("bug-inject", "bug-setup"):
        if buggy.DIST not in failed.get(key, ""):
            drill.fail(f"buggy plugins: {key} not recorded as failed by {buggy.DIST}: {failed}")
    if not any(isinstance(e, ProbeFailed) and buggy.DIST in e.detail for e in events):
        drill.fail("buggy plugins: the probe's RuntimeError is not a failed check")
    if not isinstance(events[-1], DrillEnded) or outstanding_faults(events):
        drill.fail("buggy plugins: the drill did not end cleanly")


def trial_rows(quick: bool) -> list[Row]:
    """The benchmark rows: full-disk and buggy-plugin trials (more of them when not quick)."""
    disk_n, failing_n, plugin_n = (4, 2, 2) if quick else (20, 8, 6)
    why = unusable()
    with scratch("trials-") as folder:
        disk = run_disk_trials(folder / "disk", disk_n, seed=20261201)
        failing = None if why else run_failing_disk_trials(folder / "failing", failing_n, 20261204)
        plugins = run_plugin_trials(folder / "plugins", plugin_n, seed=20261201)
    failing_row = (
        error_row("crash campaign: fsync fails mid-drill (EIO)", why or "")
        if failing is None
        else _row(
            "crash campaign: fsync fails mid-drill (EIO)",
            failing,
            f"{failing.trials} drills on a FUSE disk that fails the record's first fsync past a "
            f"random size with EIO, {failing.record_lost} of them hit it (exit 5); "
            f"{failing.unrecorded} events declared not recorded on stderr; "
            f"{failing.acknowledged} acknowledged events checked",
        )
    )
    return [
        _row(
            "crash campaign: disk full mid-drill",
            disk,
            f"{disk.trials} drills with files capped at a random size, {disk.record_lost} of "
            f"them hit it (exit 5); {disk.unrecorded} events declared not recorded on stderr; "
            f"{disk.acknowledged} acknowledged events checked",
        ),
        failing_row,
        _row(
            "crash campaign: buggy plugins",
            plugins,
            f"{plugins.trials} drills with a fault raising ValueError, one raising KeyError in "
            f"setup and a probe raising RuntimeError; {plugins.acknowledged} acknowledged "
            "events checked",
        ),
    ]


def _row(name: str, trials: Trials, summary: str) -> Row:
    return Row(
        name,
        f"{trials.trials} trials, {trials.left_injected} left injected, {trials.lost} lost",
        "-",
        None,
        "-",
        None,
        [summary, *trials.problems[:10]],
        holds=not trials.problems,
        expect="none lost, none left injected",
    )
