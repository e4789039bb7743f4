"""After a crash: undo what the record shows injected (``kunren revert``) and carry the drill on
(``kunren resume``), from the event log alone, in a new process.

A torn last line is set aside first and noted in the log. Services the dead conductor started
are stopped if they survived (their pids are in ``service.started``). Resume then continues at
the drill time the drill would have reached had the conductor not stopped (the last event's
time for a virtual-clock drill), re-injecting a reversible fault whose window is still open.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from kunren.drills.faults import make_injector, outstanding_faults, revert_with
from kunren.drills.identity import live_conductor
from kunren.drills.lock import DrillLock
from kunren.drills.schedule import StepKind, build_schedule
from kunren.drills.services import stop_orphan
from kunren.errors import KunrenError, UsageError
from kunren.injectors.requests import request_for_key
from kunren.record.attach import attached_clock
from kunren.record.eventlog import EventLog
from kunren.record.events import (
    DrillAborted,
    DrillEnded,
    DrillStarted,
    Event,
    FaultFailed,
    FaultInjected,
    FaultReverted,
    Inject,
    LoadStage,
    Milestone,
    Note,
    ServiceStarted,
    ServiceStopped,
)
from kunren.record.folders import load_snapshot
from kunren.record.recorder import Recorder
from kunren.runtime.clock import Clock, ScaledClock, VirtualClock
from kunren.runtime.context import DrillContext
from kunren.scenarios.loader import LoadedScenario


@dataclass
class RevertReport:
    reverted: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    services_stopped: list[str] = field(default_factory=list)
    torn_line: int | None = None


def conductor_alive(drill_dir: Path) -> int | None:
    """The pid of a conductor still running this drill, checked by pid, start time and drill
    id (kunren.drills.identity): a stale pid file naming a reused pid is not a conductor."""
    identity = live_conductor(drill_dir)
    return identity.pid if identity is not None else None


def recovery_clock(events: list[Event]) -> Clock:
    """A clock for recording recovery events: the drill's own time, or the last event's."""
    attached = attached_clock(events)
    if attached is not None:
        return attached
    last = events[-1].at if events else 0.0
    return VirtualClock(start=last)


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
    ctx = DrillContext(
        scenario=loaded.scenario, scenario_dir=loaded.dir, drill_dir=drill_dir, clock=clock
    )
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
        request = request_for_key(loaded.scenario, item.key)
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
    await _stop_orphan_services(loaded, events, recorder, report)
    return report


async def _stop_orphan_services(
    loaded: LoadedScenario, events: list[Event], recorder: Recorder, report: RevertReport
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
            recorder.record(Note(text=f"service {name}: {result.detail}; stop it by hand"))
            report.failed.append(f"service {name}")
            continue
        if result.signalled:
            detail = "stopped after the conductor stopped"
            detail += f" ({result.detail})" if result.detail else ""
            report.services_stopped.append(name)  # "stopped" only for one checked gone
        else:
            detail = "was no longer running"
        recorder.record(ServiceStopped(name=name, detail=detail))


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


@dataclass(frozen=True)
class ResumePlan:
    loaded: LoadedScenario
    resume_at: float
    done_keys: frozenset[str]
    clock_kind: str
    speed: float
    drill_id: str
    finished: bool  # the duration passed while the conductor was down


def plan_resume(drill_dir: Path) -> ResumePlan:
    """Where a stopped drill picks up: the drill time, and the steps the record shows done."""
    events = EventLog(drill_dir).read()
    started = next((e for e in events if isinstance(e, DrillStarted)), None)
    if started is None:
        raise UsageError(f"{drill_dir}: the drill never started; run it again instead")
    if any(isinstance(e, DrillEnded | DrillAborted) for e in events):
        raise UsageError(f"{drill_dir}: the drill has already ended")
    loaded = load_snapshot(drill_dir, check_plugins=True)
    attached = attached_clock(events)
    resume_at = attached.now() if attached is not None else events[-1].at
    return ResumePlan(
        loaded=loaded,
        resume_at=resume_at,
        done_keys=frozenset(_done_keys(loaded, events, resume_at)),
        clock_kind=started.clock,
        speed=started.speed,
        drill_id=started.drill,
        finished=resume_at >= loaded.scenario.duration,
    )


def _done_keys(loaded: LoadedScenario, events: list[Event], now: float) -> set[str]:
    done: set[str] = set()
    injected = {e.fault for e in events if isinstance(e, FaultInjected | FaultFailed)}
    reverted = {e.fault for e in events if isinstance(e, FaultReverted)}
    marks = Counter(
        (e.actor, e.name) for e in events if isinstance(e, Milestone) and e.source == "simulated"
    )
    inject_count = sum(isinstance(e, Inject) for e in events)
    stage_count = sum(isinstance(e, LoadStage) for e in events)
    seen_injects = seen_stages = 0
    for step in build_schedule(loaded.scenario):
        if step.kind is StepKind.FAULT and step.fault is not None:
            fault = step.fault
            window_open = fault.for_ is not None and fault.at + fault.for_ > now
            if fault.id in injected and not (window_open and fault.id in reverted):
                done.add(step.key)
        elif step.kind is StepKind.REVERT and step.fault is not None:
            if step.fault.id in reverted and step.at <= now:
                done.add(step.key)
        elif step.kind is StepKind.INJECT:
            seen_injects += 1
            if seen_injects <= inject_count:
                done.add(step.key)
        elif step.kind is StepKind.LOAD:
            seen_stages += 1
            if seen_stages <= stage_count:
                done.add(step.key)
        elif (
            step.kind is StepKind.SIMULATED
            and step.mark is not None
            and marks[(step.mark.person, step.mark.milestone)]
        ):
            done.add(step.key)
    return done


def resume_clock(plan: ResumePlan) -> Clock:
    if plan.clock_kind == "virtual":
        return VirtualClock(start=plan.resume_at)
    return ScaledClock(speed=plan.speed, start=plan.resume_at)
