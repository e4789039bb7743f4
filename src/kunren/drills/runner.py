"""Starting, resuming and dry-running drills: what ``kunren run``/``resume`` and the demo call.

It makes the drill folder, picks the clock, checks whether the drill would touch real systems
(so the CLI can ask first), asks every fault's ``preflight`` (the AWS guardrails) before
anything starts, and hands over to the conductor. Both questions are hooks on the injector
classes (``real_systems``, ``preflight``): nothing here knows which kinds are AWS kinds.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from kunren import plugins
from kunren.drills.conductor import Conductor, ConductorOptions, Observer, Outcome
from kunren.drills.faults import limit as fault_limit
from kunren.drills.faults import make_injector, ref_of
from kunren.drills.lock import DrillLock
from kunren.errors import KunrenError
from kunren.injectors.base import INJECTORS
from kunren.injectors.requests import request_for_fault
from kunren.record.eventlog import EventLog
from kunren.record.events import DrillEnded
from kunren.record.folders import create_drill
from kunren.record.recorder import Recorder
from kunren.runtime.clock import Clock, ClockKind, kind_for_speed, make_clock
from kunren.runtime.context import DrillContext, drill_context
from kunren.runtime.seam import call
from kunren.scenarios.loader import LoadedScenario

if TYPE_CHECKING:
    from kunren.page import WebOptions


@dataclass
class RunSettings:
    drills_root: Path = Path("drills")
    clock_kind: ClockKind = "real"  # real or virtual; real at a speed other than 1 is scaled
    speed: float = 1.0
    profile: str | None = None
    seed: int = 0
    web: WebOptions | None = None  # serve the participant page while the drill runs
    simulate: bool = True  # False (--no-simulate): the scenario's simulated people stay home

    @property
    def kind(self) -> ClockKind:
        """The clock the drill runs on: virtual as asked, else real or scaled by the speed."""
        return "virtual" if self.clock_kind == "virtual" else kind_for_speed(self.speed)

    def clock(self) -> Clock:
        return make_clock(self.kind, speed=self.speed)


def without_simulation(loaded: LoadedScenario) -> LoadedScenario:
    """The scenario with no simulated people: only real participants mark milestones."""
    return replace(loaded, scenario=loaded.scenario.model_copy(update={"simulate": None}))


def real_systems(loaded: LoadedScenario) -> list[str]:
    """What in this scenario acts on systems kunren does not own (asks for confirmation).

    Each fault's kind says it (``real_systems`` on its class); a kind that cannot be loaded
    is left to validation, which refuses it before any drill runs.
    """
    s = loaded.scenario
    touched = []
    for fault in s.faults:
        try:
            cls = plugins.load(INJECTORS, fault.kind)
        except KunrenError:
            continue
        reach = cls.real_systems(s.targets.get(fault.target) if fault.target else None)
        if reach is not None:
            touched.append(f"fault {fault.id}: {fault.kind} {reach}")
    return touched


async def preflight(ctx: DrillContext) -> None:
    """Every fault's own checks (the AWS guardrails), before the first service starts or the
    first fault fires; the first refusal raises and nothing is created."""
    for fault in ctx.scenario.faults:
        injector = make_injector(ctx, request_for_fault(ctx, fault))
        limit = fault_limit(ctx, fault.id, "preflight")
        await call(ref_of(injector), "preflight", injector.preflight, limit=limit)


async def start_drill(
    loaded: LoadedScenario, settings: RunSettings, observer: Observer | None = None
) -> tuple[EventLog, Outcome]:
    if not settings.simulate:
        loaded = without_simulation(loaded)
    clock, kind = settings.clock(), settings.kind
    await preflight(
        drill_context(loaded, clock=clock, profile=settings.profile, seed=settings.seed)
    )
    log = create_drill(loaded, settings.drills_root, clock.wall())
    options = ConductorOptions(
        drill_id=log.drill_dir.name,
        clock_kind=kind,
        speed=settings.speed if kind != "virtual" else 0.0,
        profile=settings.profile,
        seed=settings.seed,
        simulate=settings.simulate,
        web=settings.web,
    )
    conductor = Conductor(loaded, log, clock, options, observer)
    with DrillLock(log.drill_dir):  # one drill, one conductor, for the drill's whole life
        outcome = await conductor.run()
    return log, outcome


async def resume(
    drill_dir: Path,
    settings: RunSettings,
    observer: Observer | None = None,
    speed: float | None = None,
) -> tuple[EventLog, Outcome]:
    """Carry a stopped drill on; ``speed``: run the rest this many times faster than real
    time (None: at the speed it ran)."""
    # Only ``kunren resume`` reverts and re-plans a stopped drill: ``kunren run`` does not
    # import the recovery and resume modules (~2 ms of a tiny run).
    from kunren.drills.resume import plan_resume

    plan_resume(drill_dir, speed)  # refuse bad input before anything is reverted
    # The lock first: a second resume is refused here, before it writes anything.
    with DrillLock(drill_dir) as lock:
        return await _resume_locked(drill_dir, lock, settings, observer, speed)


async def _resume_locked(
    drill_dir: Path,
    lock: DrillLock,
    settings: RunSettings,
    observer: Observer | None,
    speed: float | None,
) -> tuple[EventLog, Outcome]:
    from kunren.drills.recovery import revert_drill
    from kunren.drills.resume import plan_resume, resume_clock

    report = await revert_drill(drill_dir, lock)
    plan = plan_resume(drill_dir, speed)
    log = EventLog(drill_dir)
    clock = resume_clock(plan)
    if plan.finished:
        Recorder(log, clock).record(  # at the drill's end, not at a time it never had
            DrillEnded(reason="the duration passed while the conductor was down"),
            at=plan.loaded.scenario.duration,
        )
        return log, Outcome("ended", "duration passed", report.failed)
    options = ConductorOptions(
        drill_id=plan.drill_id,
        clock_kind=plan.clock_kind,
        speed=plan.speed,
        profile=settings.profile,
        seed=settings.seed,
        simulate=plan.simulate,
        resume_at=plan.resume_at,
        done_keys=plan.done_keys,
        web=settings.web,
    )
    # as it started: a drill run with --no-simulate keeps its simulated people home
    loaded = plan.loaded if plan.simulate else without_simulation(plan.loaded)
    conductor = Conductor(loaded, log, clock, options, observer)
    return log, await conductor.run()


@dataclass(frozen=True)
class DryRunRow:
    """One fault as ``--dry-run`` shows it: when, what it does, to what, and its undo."""

    fault: str
    kind: str
    at: float
    does: str  # the kind's summary, or the fault's own description
    targets: list[str]
    undo: str  # in words; empty: this fault cannot be undone
    error: str = ""  # why its targets could not be resolved now


async def dry_run(loaded: LoadedScenario, settings: RunSettings) -> list[DryRunRow]:
    """What every fault would do and to what; touches nothing."""
    ctx = drill_context(
        loaded,
        clock=settings.clock(),
        profile=settings.profile,
        seed=settings.seed,
        dry_run=True,
    )
    rows = []
    for fault in loaded.scenario.faults:
        does = fault.description or plugins.load(INJECTORS, fault.kind).one_line()
        try:
            injector = make_injector(ctx, request_for_fault(ctx, fault))
            limit = fault_limit(ctx, fault.id, "plan")
            planned = await call(ref_of(injector), "plan", injector.plan, limit=limit)
        except KunrenError as exc:
            rows.append(DryRunRow(fault.id, fault.kind, fault.at, does, [], "", str(exc)))
            continue
        rows.append(DryRunRow(fault.id, fault.kind, fault.at, does, planned.targets, planned.undo))
    return rows
