"""Where a stopped drill picks up (``kunren resume``), read from the record by step key.

Every event a scheduled step produced carries the step's key (``step``), so what is done is
what the record says, however many times the conductor stopped: a load stage is done once a
``load.stage`` with its key is on disk (re-applying the stage in effect after a restart
carries no key, so it can never stand in for a stage that did not fire), an inject or a
simulated mark once its event is. A fault is the one step that can be undone behind the
schedule's back: ``kunren resume`` first reverts, from the record, everything the dead
conductor left injected, so a reversible fault whose window is still open (its ``for`` has
not run out, or it has no ``for`` at all) is injected again, as the README promises.

Resume continues at the drill time the drill would have reached had the conductor not
stopped (the last event's time for a virtual-clock drill), at the drill's speed or at the
one given (``--speed``), which ``drill.resumed`` records so later readers keep the clock. A
drill run with ``--no-simulate`` (``simulate: false`` in ``drill.started``) resumes without its
simulated people too. A drill its conductor stopped because the record refused a write
(``record.lost``, see ``kunren.drills.identity``) is not resumed at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import assert_never

from kunren.drills.identity import record_was_lost
from kunren.drills.schedule import (
    EndStep,
    FaultStep,
    InjectStep,
    LoadStep,
    RevertStep,
    SimulatedStep,
    Step,
    build_schedule,
)
from kunren.errors import UsageError
from kunren.record.attach import attached_clock
from kunren.record.eventlog import EventLog
from kunren.record.events import (
    DrillAborted,
    DrillEnded,
    DrillStarted,
    Event,
    FaultFailed,
    FaultInjected,
    FaultInjecting,
    FaultReverted,
    Inject,
    LoadStage,
    Milestone,
)
from kunren.record.folders import load_snapshot
from kunren.runtime.clock import Clock, ClockKind, clock_kind, make_clock
from kunren.scenarios.loader import LoadedScenario

RECORD_LOST_REFUSAL = (
    "{drill}: cannot resume: the conductor stopped this drill because its record could not be "
    "written (a full disk or an I/O error), and reverted its faults from memory; a stopped drill "
    "is not carried on. Once the record can be written again, `kunren revert {drill}` records "
    "the reverts and the drill's end"
)


@dataclass(frozen=True)
class ResumePlan:
    loaded: LoadedScenario
    resume_at: float
    done_keys: frozenset[str]
    clock_kind: ClockKind
    speed: float  # the speed the rest of the drill runs at
    drill_id: str
    finished: bool  # the duration passed while the conductor was down
    simulate: bool = True  # False: it ran with --no-simulate (drill.started says so)


def plan_resume(drill_dir: Path, speed: float | None = None) -> ResumePlan:
    """Where a stopped drill picks up: the drill time, and the steps the record shows done.
    ``speed``: run the rest this many times faster than real time (None: as it ran)."""
    events = EventLog(drill_dir).read()
    started = next((e for e in events if isinstance(e, DrillStarted)), None)
    if started is None:
        raise UsageError(f"{drill_dir}: the drill never started; run it again instead")
    end = next((e for e in events if isinstance(e, DrillEnded | DrillAborted)), None)
    if isinstance(end, DrillAborted):
        raise UsageError(f"{drill_dir}: the drill has already ended (aborted: {end.reason})")
    if end is not None:
        raise UsageError(f"{drill_dir}: the drill has already ended")
    if record_was_lost(drill_dir):
        raise UsageError(RECORD_LOST_REFUSAL.format(drill=drill_dir))
    if speed is not None and started.clock == "virtual":
        raise UsageError("--speed: this drill runs on the virtual clock, which has no speed")
    if speed is not None and not speed > 0:
        raise UsageError("--speed must be positive")
    loaded = load_snapshot(drill_dir, check_plugins=True)
    attached = attached_clock(events)
    resume_at = attached.now() if attached is not None else events[-1].at
    return ResumePlan(
        loaded=loaded,
        resume_at=resume_at,
        done_keys=done_keys(build_schedule(loaded.scenario), events, resume_at),
        clock_kind=clock_kind(started.clock),
        speed=speed if speed is not None else attached.speed if attached else started.speed,
        drill_id=started.drill,
        finished=resume_at >= loaded.scenario.duration,
        simulate=started.simulate,
    )


def done_keys(schedule: Sequence[Step], events: Sequence[Event], now: float) -> frozenset[str]:
    """The keys of the steps the record shows done, for a resume at drill time ``now``.

    Call it once the faults the dead conductor left injected are reverted (``kunren
    resume`` does): a fault whose effect that revert undid is not done while its window
    is open, nor is one whose injection the crash interrupted (``fault.injecting`` with no
    ``fault.injected`` or ``fault.failed`` after it).
    """
    produced = {event.step for event in events if event.step is not None}
    if _before_step_keys(events):
        produced |= _legacy_keys(schedule, events)
    return frozenset(
        step.key
        for step in schedule
        if step.key in produced and not _to_fire_again(step, events, now)
    )


def _to_fire_again(step: Step, events: Sequence[Event], now: float) -> bool:
    match step:
        case FaultStep():
            last = _last_attempt(step.key, events)
            if last is None:
                return True  # the crash came mid-injection: recovery undid what it could
            reverted_by_schedule = any(
                isinstance(e, FaultReverted) and e.step == f"revert:{step.fault.id}" for e in events
            )
            return (
                isinstance(last, FaultInjected)
                and last.revert is not None  # there was an effect to undo, and it was undone
                and _reverted_after(last, events)
                and not reverted_by_schedule
                and step.window_open(now)
            )
        case RevertStep() | LoadStep() | InjectStep() | SimulatedStep() | EndStep():
            return False
        case _:
            assert_never(step)


def _before_step_keys(events: Sequence[Event]) -> bool:
    """A record written before events carried step keys: a scheduled fault, an inject or a
    simulated mark with no key can only come from an earlier version of the conductor."""
    return any(
        e.step is None
        and (
            (isinstance(e, FaultInjecting) and e.runbook is None)
            or isinstance(e, Inject)
            or (isinstance(e, Milestone) and e.source == "simulated")
        )
        for e in events
    )


def _legacy_keys(schedule: Sequence[Step], events: Sequence[Event]) -> set[str]:
    """The steps such a record shows done, inferred from what each step records."""
    faults = {e.fault for e in events if isinstance(e, FaultInjected | FaultFailed)}
    injects = sum(isinstance(e, Inject) for e in events)  # an inject is never recorded again
    marks = {(e.actor, e.name) for e in events if isinstance(e, Milestone)}
    last_stage = max((e.at for e in events if isinstance(e, LoadStage)), default=None)
    done: set[str] = set()
    for step in schedule:
        match step:
            case FaultStep():
                fired = step.fault.id in faults
            case RevertStep():  # not a revert after a crash while the window was open
                fired = any(
                    isinstance(e, FaultReverted) and e.fault == step.fault.id and e.at >= step.at
                    for e in events
                )
            case InjectStep():
                fired = step.number <= injects
            case LoadStep():
                # a stage re-applied after a restart is the one in effect then: a stage is
                # done once some stage was recorded at or after its time
                fired = last_stage is not None and last_stage >= step.at
            case SimulatedStep():
                fired = (step.mark.person, step.mark.milestone) in marks
            case EndStep():
                fired = False
            case _:
                assert_never(step)
        if fired:
            done.add(step.key)
    return done


def _last_attempt(key: str, events: Sequence[Event]) -> FaultInjected | FaultFailed | None:
    attempts = [
        e
        for e in events
        if isinstance(e, FaultInjected | FaultFailed) and (e.step or f"fault:{e.fault}") == key
    ]
    return attempts[-1] if attempts else None


def _reverted_after(injected: FaultInjected, events: Sequence[Event]) -> bool:
    return any(
        isinstance(e, FaultReverted) and e.fault == injected.fault and e.seq > injected.seq
        for e in events
    )


def resume_clock(plan: ResumePlan) -> Clock:
    if plan.clock_kind == "virtual":
        return make_clock("virtual", start=plan.resume_at)
    return make_clock("scaled", speed=plan.speed, start=plan.resume_at)
