"""After a crash: undo what the record shows injected (``kunren revert``) and carry the drill on
(``kunren resume``, planned in ``kunren.drills.resume``), from the event log alone, in a new
process.

A torn last line is set aside first and noted in the log. Services the dead conductor started
are stopped if they survived (their pids are in ``service.started``). Revert undoes before it
records and reads what it can: on a damaged record it reverts every fault whose lines it can
read and names the lines it could not; on a full disk it still reverts, and reports what it
could not record.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from kunren.drills.faults import Outstanding, make_injector, outstanding_faults, revert_with
from kunren.drills.identity import RECORD_LOST_FILE, live_conductor, record_was_lost
from kunren.drills.lock import DrillLock
from kunren.drills.services import stop_orphan
from kunren.errors import EventLogError, KunrenError, RecordWriteError, RevertError, UsageError
from kunren.injectors.requests import request_for_key
from kunren.record.attach import first_start, recovery_clock
from kunren.record.eventlog import EventLog
from kunren.record.events import (
    DrillAborted,
    DrillEnded,
    Event,
    Note,
    ServiceStarted,
    ServiceStopped,
)
from kunren.record.folders import load_snapshot
from kunren.record.guarded import GuardedRecorder
from kunren.record.recorder import Recorder
from kunren.record.stream import BadLine, read_readable
from kunren.runtime.context import DrillContext, drill_context
from kunren.scenarios.loader import LoadedScenario

RECORD_LOST_REASON = (
    "the record could not be written (a full disk or an I/O error): the conductor stopped the "
    "drill and reverted its faults from memory (this end recorded afterwards by kunren revert)"
)


@dataclass
class RevertReport:
    reverted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    services_stopped: list[str] = field(default_factory=list)
    torn_line: int | None = None
    torn_kept: bool = False  # the torn line could not be set aside (a full disk)
    unreadable: list[BadLine] = field(default_factory=list)
    record_error: RecordWriteError | None = None  # why the reverts could not all be recorded
    unrecorded: list[str] = field(default_factory=list)
    log_path: Path | None = None

    def problem(self) -> KunrenError | None:
        """The error to exit with: 4 if anything may be left broken, 5 if only unrecorded."""
        parts = []
        if self.failed:
            parts.append("revert failed for " + ", ".join(self.failed) + ": check them by hand")
        if self.unreadable:
            lines = ", ".join(str(bad.line) for bad in self.unreadable)
            parts.append(
                f"{self.log_path}: line{'s' if len(self.unreadable) > 1 else ''} {lines} could "
                f"not be read ({self.unreadable[0].problem}): a fault recorded only there was "
                "not reverted; check by hand"
            )
        lost = self.record_error
        unrecorded = ""
        if lost is not None:
            unrecorded = (
                f"{lost.message}; not recorded ({len(self.unrecorded)} events): "
                + "; ".join(self.unrecorded)
            )
        if parts:
            return RevertError("\n".join([*parts, unrecorded] if unrecorded else parts))
        if lost is not None:
            when = lost.when_writable
            return RecordWriteError(
                f"{unrecorded}\nEverything was reverted; {when[0].lower()}{when[1:]}, run "
                "`kunren revert` again to record it",
                lost.errno,
            )
        return None


def conductor_alive(drill_dir: Path) -> int | None:
    """The pid of a conductor still running this drill, checked by pid, start time and drill
    id (kunren.drills.identity): a stale pid file naming a reused pid is not a conductor."""
    identity = live_conductor(drill_dir)
    return identity.pid if identity is not None else None


async def revert_drill(drill_dir: Path, lock: DrillLock | None = None) -> RevertReport:
    """Undo every fault the record shows active, and stop orphaned services.

    Holds the drill's lock while it works (``lock``, when the caller already holds it:
    ``kunren resume`` keeps it for the rest of the drill)."""
    pid = conductor_alive(drill_dir)
    if pid is not None:
        raise UsageError(
            f"the conductor (pid {pid}) is still running this drill; use `kunren abort`"
        )
    if lock is None:
        with DrillLock(drill_dir):
            return await _revert_locked(drill_dir)
    return await _revert_locked(drill_dir)


async def _revert_locked(drill_dir: Path) -> RevertReport:
    log = EventLog(drill_dir)
    readable = read_readable(log.path)
    report = RevertReport(unreadable=readable.bad, log_path=log.path)
    torn = readable.torn
    if torn is not None:
        report.torn_line = torn.line
        try:
            log.repair_torn_tail()
        except (OSError, EventLogError):  # a full disk, or a bad line before the torn one
            report.torn_kept = True  # appends will fail and be reported; reverts go on
    events = readable.events
    recorder = GuardedRecorder(log, recovery_clock(events))
    if torn is not None and not report.torn_kept:
        recorder.try_record(
            Note(
                text=f"line {torn.line} was torn by a crash (never acknowledged); "
                "set aside in events.torn"
            )
        )
    if readable.bad:
        recorder.try_record(Note(text=_unreadable_note(readable.bad)))
    loaded = load_snapshot(drill_dir)
    ctx = drill_context(loaded, clock=recorder.clock, drill_dir=drill_dir)
    for item in outstanding_faults(events):
        if await _revert_outstanding(item, loaded, ctx, recorder):
            report.reverted.append(item.key)
        else:
            report.failed.append(item.key)
    await _stop_orphan_services(loaded, events, recorder, report)
    _record_the_lost_end(drill_dir, events, recorder)
    if recorder.lost is not None:
        report.record_error = recorder.lost
        report.unrecorded = recorder.unrecorded_lines()
    return report


async def _revert_outstanding(
    item: Outstanding, loaded: LoadedScenario, ctx: DrillContext, recorder: GuardedRecorder
) -> bool:
    if item.handle is None:
        recorder.try_record(
            Note(
                text=f"{item.key}: the conductor stopped while injecting it and recorded no "
                "way to undo it; check its target by hand"
            )
        )
        return False
    request = request_for_key(ctx, item.key)
    if request is None:
        return False
    try:
        injector = make_injector(ctx, request)
    except KunrenError as exc:
        recorder.try_record(Note(text=f"{item.key}: cannot load its injector: {exc}"))
        return False
    return await revert_with(injector, item.key, item.handle, recorder.record, ctx)


def _record_the_lost_end(drill_dir: Path, events: list[Event], recorder: GuardedRecorder) -> None:
    """A drill its conductor stopped on a refused write ends in the record now, once there is
    room: ``drill.aborted``, so no later ``kunren resume`` carries it on. A record that never
    got its ``drill.started`` stays empty: an end with no start would be no drill at all."""
    if not record_was_lost(drill_dir) or any(
        isinstance(e, DrillEnded | DrillAborted) for e in events
    ):
        return
    if first_start(events) is None:
        return
    if recorder.try_record(DrillAborted(reason=RECORD_LOST_REASON)):
        with contextlib.suppress(OSError):
            (drill_dir / RECORD_LOST_FILE).unlink()


def _unreadable_note(bad: list[BadLine]) -> str:
    lines = ", ".join(str(b.line) for b in bad)
    return (
        f"revert could not read line(s) {lines} ({bad[0].problem}); "
        "faults recorded only there were not reverted"
    )


async def _stop_orphan_services(
    loaded: LoadedScenario, events: list[Event], recorder: GuardedRecorder, report: RevertReport
) -> None:
    """Stop the services the record shows started and not stopped; say "stopped" only for
    one checked gone, and count one still running as a failed revert."""
    running: dict[str, ServiceStarted] = {}
    for event in events:
        if isinstance(event, ServiceStarted):
            running[event.name] = event
        elif isinstance(event, ServiceStopped):
            running.pop(event.name, None)
    for name, started in running.items():
        spec = loaded.scenario.services.get(name)
        grace = spec.stop_timeout if spec is not None else 5.0
        result = await stop_orphan(name, started.pid, started.command, grace)
        if not result.ok:
            recorder.try_record(Note(text=f"service {name}: {result.detail}; stop it by hand"))
            report.failed.append(f"service {name}")
            continue
        if result.signalled:
            detail = "stopped after the conductor stopped"
            detail += f" ({result.detail})" if result.detail else ""
            report.services_stopped.append(name)  # "stopped" only for one checked gone
        else:
            detail = "was no longer running"
        recorder.try_record(ServiceStopped(name=name, detail=detail))


async def abort_from_record(drill_dir: Path, reason: str) -> RevertReport:
    """``kunren abort`` when no conductor runs: revert from the record, then end the drill
    there with ``drill.aborted`` (reason and who), so a later resume does not restart it."""
    with DrillLock(drill_dir) as lock:
        report = await revert_drill(drill_dir, lock)
        log = EventLog(drill_dir)
        events = log.read()
        if not any(isinstance(e, DrillEnded | DrillAborted) for e in events):
            Recorder(log, recovery_clock(events)).record(
                DrillAborted(reason=f"{reason}; no conductor was running: reverted from the record")
            )
    return report
