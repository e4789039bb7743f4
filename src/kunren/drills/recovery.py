"""After a crash: undo what the record shows injected (``kunren revert``) and carry the drill on
(``kunren resume``, planned in ``kunren.drills.resume``), from the event log alone, in a new
process.

A torn last line is set aside first and noted in the log. Services the dead conductor started
are stopped if they survived (their pids are in ``service.started``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from kunren.drills.conductor import PID_FILE
from kunren.drills.faults import make_injector, outstanding_faults, revert_with
from kunren.drills.services import stop_orphan
from kunren.errors import KunrenError, UsageError
from kunren.injectors.requests import request_for_key
from kunren.record.attach import recovery_clock
from kunren.record.eventlog import EventLog
from kunren.record.events import (
    Event,
    Note,
    ServiceStarted,
    ServiceStopped,
)
from kunren.record.folders import load_snapshot
from kunren.record.recorder import Recorder
from kunren.runtime.context import drill_context


@dataclass
class RevertReport:
    reverted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    services_stopped: list[str] = field(default_factory=list)
    torn_line: int | None = None


def conductor_alive(drill_dir: Path) -> int | None:
    """The pid of a conductor still running this drill, if any."""
    try:
        pid = int((drill_dir / PID_FILE).read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    return pid


async def revert_drill(drill_dir: Path) -> RevertReport:
    """Undo every fault the record shows active, and stop orphaned services."""
    pid = conductor_alive(drill_dir)
    if pid is not None:
        raise UsageError(
            f"the conductor (pid {pid}) is still running this drill; use `kunren abort`"
        )
    log = EventLog(drill_dir)
    report = RevertReport()
    torn = log.repair_torn_tail()
    events = log.read()
    clock = recovery_clock(events)
    recorder = Recorder(log, clock)
    if torn is not None:
        report.torn_line = torn.line
        recorder.record(
            Note(
                text=f"line {torn.line} was torn by a crash (never acknowledged); "
                "set aside in events.torn"
            )
        )
    loaded = load_snapshot(drill_dir)
    ctx = drill_context(loaded, clock=clock, drill_dir=drill_dir)
    for item in outstanding_faults(events):
        if item.handle is None:
            recorder.record(
                Note(
                    text=f"{item.key}: the conductor stopped while injecting it and recorded no "
                    "way to undo it; check its target by hand"
                )
            )
            report.failed.append(item.key)
            continue
        request = request_for_key(ctx, item.key)
        if request is None:
            report.failed.append(item.key)
            continue
        try:
            injector = make_injector(ctx, request)
        except KunrenError as exc:
            recorder.record(Note(text=f"{item.key}: cannot load its injector: {exc}"))
            report.failed.append(item.key)
            continue
        ok = await revert_with(injector, item.key, item.handle, recorder.record, ctx)
        (report.reverted if ok else report.failed).append(item.key)
    report.services_stopped = _stop_orphan_services(events, recorder)
    return report


def _stop_orphan_services(events: list[Event], recorder: Recorder) -> list[str]:
    running: dict[str, ServiceStarted] = {}
    for event in events:
        if isinstance(event, ServiceStarted):
            running[event.name] = event
        elif isinstance(event, ServiceStopped):
            running.pop(event.name, None)
    stopped = []
    for name, started in running.items():
        found = stop_orphan(started.pid, started.command)
        detail = "stopped after the conductor stopped" if found else "was no longer running"
        recorder.record(ServiceStopped(name=name, detail=detail))
        stopped.append(name)
    return stopped
