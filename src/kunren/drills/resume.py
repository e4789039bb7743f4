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
one given (``--speed``), which ``drill.resumed`` records so later readers keep the clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import assert_never

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
    FaultReverted,
)
from kunren.record.folders import load_snapshot
from kunren.runtime.clock import Clock, ScaledClock, VirtualClock
from kunren.scenarios.loader import LoadedScenario


@dataclass(frozen=True)
class ResumePlan:
    loaded: LoadedScenario
    resume_at: float
    done_keys: frozenset[str]
    clock_kind: str
    speed: float  # the speed the rest of the drill runs at
    drill_id: str
    finished: bool  # the duration passed while the conductor was down


def plan_resume(drill_dir: Path, speed: float | None = None) -> ResumePlan:
    """Where a stopped drill picks up: the drill time, and the steps the record shows done.
    ``speed``: run the rest this many times faster than real time (None: as it ran)."""
    events = EventLog(drill_dir).read()
    started = next((e for e in events if isinstance(e, DrillStarted)), None)
    if started is None:
        raise UsageError(f"{drill_dir}: the drill never started; run it again instead")
    if any(isinstance(e, DrillEnded | DrillAborted) for e in events):
        raise UsageError(f"{drill_dir}: the drill has already ended")
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
        clock_kind=started.clock,
        speed=speed if speed is not None else attached.speed if attached else started.speed,
        drill_id=started.drill,
        finished=resume_at >= loaded.scenario.duration,
    )


def done_keys(schedule: Sequence[Step], events: Sequence[Event], now: float) -> frozenset[str]:
    """The keys of the steps the record shows done, for a resume at drill time ``now``.

    Call it once the faults the dead conductor left injected are reverted (``kunren
    resume`` does): a fault whose effect that revert undid is not done while its window
    is open.
    """
    produced = {event.step for event in events if event.step is not None}
    return frozenset(
        step.key
        for step in schedule
        if step.key in produced and not _undone_by_recovery(step, events, now)
    )


def _undone_by_recovery(step: Step, events: Sequence[Event], now: float) -> bool:
    match step:
        case FaultStep():
            last = _last_attempt(step.key, events)
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


def _last_attempt(key: str, events: Sequence[Event]) -> FaultInjected | FaultFailed | None:
    attempts = [e for e in events if isinstance(e, FaultInjected | FaultFailed) and e.step == key]
    return attempts[-1] if attempts else None


def _reverted_after(injected: FaultInjected, events: Sequence[Event]) -> bool:
    return any(
        isinstance(e, FaultReverted) and e.fault == injected.fault and e.seq > injected.seq
        for e in events
    )


def resume_clock(plan: ResumePlan) -> Clock:
    if plan.clock_kind == "virtual":
        return VirtualClock(start=plan.resume_at)
    return ScaledClock(speed=plan.speed, start=plan.resume_at)
