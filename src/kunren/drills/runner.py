"""Starting, resuming and dry-running drills: what ``kunren run``/``resume`` and the demo call.

It makes the drill folder, picks the clock, checks whether the drill would touch real systems
(so the CLI can ask first), runs the AWS guardrails before anything starts, and hands over to
the conductor.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kunren.drills.conductor import Conductor, ConductorOptions, Observer, Outcome
from kunren.drills.faults import make_injector
from kunren.drills.lock import DrillLock
from kunren.drills.recovery import plan_resume, resume_clock, revert_drill
from kunren.errors import KunrenError
from kunren.injectors.requests import request_for_fault
from kunren.record.eventlog import EventLog
from kunren.record.events import DrillEnded
from kunren.record.folders import create_drill
from kunren.record.recorder import Recorder
from kunren.runtime.clock import Clock, make_clock
from kunren.runtime.context import DrillContext
from kunren.scenarios.loader import LoadedScenario

LOOPBACK = ("http://127.", "https://127.", "http://localhost", "https://localhost", "http://[::1]")


@dataclass
class RunSettings:
    drills_root: Path = Path("drills")
    clock_kind: str = "real"  # real | virtual (a speed other than 1 makes it scaled)
    speed: float = 1.0
    profile: str | None = None
    seed: int = 0
    web: Any = None


def clock_for(settings: RunSettings) -> tuple[Clock, str]:
    if settings.clock_kind == "virtual":
        return make_clock("virtual"), "virtual"
    kind = "real" if settings.speed == 1.0 else "scaled"
    return make_clock(kind, settings.speed), kind


def real_systems(loaded: LoadedScenario) -> list[str]:
    """What in this scenario acts on systems kunren does not own (asks for confirmation)."""
    s = loaded.scenario
    touched = []
    for fault in s.faults:
        target = s.targets.get(fault.target) if fault.target else None
        if fault.kind.startswith("aws."):
            touched.append(f"fault {fault.id}: {fault.kind}")
        elif target is not None and target.process is not None and target.process.service is None:
            touched.append(f"fault {fault.id}: {fault.kind} on a process kunren did not start")
        elif target is not None and target.url and not target.url.startswith(LOOPBACK):
            touched.append(f"fault {fault.id}: {fault.kind} in front of {target.url}")
    return touched


async def _preflight_aws(ctx: DrillContext) -> None:
    """AWS guardrails, before the first service starts or the first fault fires."""
    if not any(f.kind.startswith("aws.") for f in ctx.scenario.faults):
        return
    try:
        from kunren.injectors.aws import preflight
    except ImportError:
        return
    requests = [
        request_for_fault(ctx.scenario, f) for f in ctx.scenario.faults if f.kind.startswith("aws.")
    ]
    await preflight(ctx, requests)


async def start_drill(
    loaded: LoadedScenario, settings: RunSettings, observer: Observer | None = None
) -> tuple[EventLog, Outcome]:
    clock, kind = clock_for(settings)
    probe_ctx = DrillContext(
        scenario=loaded.scenario,
        scenario_dir=loaded.dir,
        clock=clock,
        profile=settings.profile,
        seed=settings.seed,
    )
    await _preflight_aws(probe_ctx)
    log = create_drill(loaded, settings.drills_root, clock.wall())
    options = ConductorOptions(
        drill_id=log.drill_dir.name,
        clock_kind=kind,
        speed=settings.speed if kind != "virtual" else 0.0,
        profile=settings.profile,
        seed=settings.seed,
        web=settings.web,
    )
    conductor = Conductor(loaded, log, clock, options, observer)
    with DrillLock(log.drill_dir):  # one drill, one conductor, for the drill's whole life
        outcome = await conductor.run()
    return log, outcome


async def resume(
    drill_dir: Path, settings: RunSettings, observer: Observer | None = None
) -> tuple[EventLog, Outcome]:
    # The lock first: a second resume is refused here, before it writes anything.
    with DrillLock(drill_dir) as lock:
        return await _resume_locked(drill_dir, lock, settings, observer)


async def _resume_locked(
    drill_dir: Path, lock: DrillLock, settings: RunSettings, observer: Observer | None
) -> tuple[EventLog, Outcome]:
    report = await revert_drill(drill_dir, lock)
    plan = plan_resume(drill_dir)
    log = EventLog(drill_dir)
    clock = resume_clock(plan)
    if plan.finished:
        Recorder(log, clock).record(
            DrillEnded(reason="the duration passed while the conductor was down")
        )
        return log, Outcome("ended", "duration passed", report.failed)
    options = ConductorOptions(
        drill_id=plan.drill_id,
        clock_kind=plan.clock_kind,
        speed=plan.speed,
        profile=settings.profile,
        seed=settings.seed,
        resume_at=plan.resume_at,
        done_keys=plan.done_keys,
        web=settings.web,
    )
    conductor = Conductor(plan.loaded, log, clock, options, observer)
    return log, await conductor.run()


async def dry_run(
    loaded: LoadedScenario, settings: RunSettings
) -> list[tuple[str, str, list[str], str]]:
    """(fault id, kind, resolved targets, undo) for every fault; touches nothing."""
    clock, _ = clock_for(settings)
    ctx = DrillContext(
        scenario=loaded.scenario,
        scenario_dir=loaded.dir,
        clock=clock,
        profile=settings.profile,
        seed=settings.seed,
        dry_run=True,
    )
    rows = []
    for fault in loaded.scenario.faults:
        try:
            injector = make_injector(ctx, request_for_fault(loaded.scenario, fault))
            planned = await injector.plan()
            rows.append((fault.id, fault.kind, planned.targets, planned.undo))
        except KunrenError as exc:
            rows.append((fault.id, fault.kind, [f"(not resolved: {exc})"], ""))
    return rows
