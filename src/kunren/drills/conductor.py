"""The conductor: runs one drill on one clock, in one asyncio loop.

It starts the scenario's services, fires every scheduled step (faults, load stages, injects,
simulated people, the drill end) at its drill time, runs the probes, holds the stop
conditions, serves the participant page when asked, and at the end (or on abort) reverts every
fault still active, stops load and services, and records how the drill ended. Each concern
lives in its own module (faults, probing, services, schedule); this one only orchestrates.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kunren.drills.abort_request import take_request
from kunren.drills.faults import FaultManager
from kunren.drills.identity import PID_FILE as PID_FILE
from kunren.drills.identity import (
    ConductorIdentity,
    remove_identity,
    this_process,
    write_identity,
)
from kunren.drills.loading import LoadRun
from kunren.drills.probing import ProbeRunner
from kunren.drills.schedule import Step, StepKind, build_schedule
from kunren.drills.services import ManagedService
from kunren.errors import KunrenError, RevertError
from kunren.page.control import RunbookOutcome, perform_runbook
from kunren.record.eventlog import EventLog
from kunren.record.events import (
    DrillAborted,
    DrillEnded,
    DrillResumed,
    DrillStarted,
    Event,
    Inject,
    Milestone,
    Note,
    Runbook,
    ServiceExited,
    ServiceStarted,
    ServiceStopped,
)
from kunren.record.recorder import Recorder
from kunren.runtime.clock import Clock
from kunren.runtime.context import DrillContext
from kunren.scenarios.loader import LoadedScenario
from kunren.scenarios.models import RunbookSpec

# SIGHUP too: a closed terminal or ssh session must revert like Ctrl-C, not kill the drill.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
Observer = Callable[[Event, "Conductor"], None]


@dataclass
class ConductorOptions:
    drill_id: str
    clock_kind: str = "real"  # real | scaled | virtual
    speed: float = 1.0
    profile: str | None = None
    seed: int = 0
    resume_at: float | None = None  # set by `kunren resume`
    done_keys: frozenset[str] = frozenset()  # steps the record shows done (resume)
    web: Any = None  # kunren.page options, when the participant page is served


@dataclass
class Outcome:
    status: str  # ended | aborted
    reason: str
    revert_failures: list[str] = field(default_factory=list)


class Conductor:
    def __init__(
        self,
        loaded: LoadedScenario,
        log: EventLog,
        clock: Clock,
        options: ConductorOptions,
        observer: Observer | None = None,
    ) -> None:
        self.loaded = loaded
        self.scenario = loaded.scenario
        self.log = log
        self.clock = clock
        self.options = options
        self.observer = observer
        # Everything recorded during the drill, whoever records it (participant page, notices),
        # goes through this recorder, so the console and the milestone list see it all.
        self.recorder = Recorder(log, clock, self._observe)
        self.ctx = DrillContext(
            scenario=self.scenario,
            scenario_dir=loaded.dir,
            drill_dir=log.drill_dir,
            clock=clock,
            profile=options.profile,
            seed=options.seed,
        )
        self.faults = FaultManager(self.ctx, self.record)
        self.probes = ProbeRunner(self.ctx, self.record, self.abort)
        self.services: dict[str, ManagedService] = {}
        self.schedule: list[Step] = build_schedule(self.scenario)
        self.next_step: Step | None = None
        self.load = LoadRun(self.ctx, self.scenario.load, self.record)
        self.web: Any = None
        self._abort_reason: str | None = None
        self._aborted = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # ------------------------------------------------------------------ recording

    def record(self, event: Event, at: float | None = None) -> Event:
        return self.recorder.record(event, at)

    def _observe(self, written: Event) -> None:
        if self.observer is not None:
            self.observer(written, self)

    # ------------------------------------------------------------------ control

    def abort(self, reason: str) -> None:
        """Stop the drill: revert, stop load and services, record drill.aborted."""
        if self._abort_reason is None:
            self._abort_reason = reason
        self._aborted.set()

    def _on_signal(self, signum: int) -> None:
        """A stop signal: with the reason and name `kunren abort` left, else the signal."""
        request = take_request(self.log.drill_dir)
        name = signal.Signals(signum).name
        self.abort(request.describe() if request is not None else f"{name} received")

    @property
    def aborting(self) -> bool:
        return self._abort_reason is not None

    async def run_runbook(self, runbook_id: str, actor: str, role: str) -> Runbook:
        """A participant's runbook, on the one runbook path (kunren.page.control), acting
        through the fault manager: write-ahead, and reverted with the faults at the end."""
        return await perform_runbook(
            self.scenario, runbook_id, actor, role, self._runbook_action, self.record
        )

    async def _runbook_action(self, runbook: RunbookSpec) -> RunbookOutcome:
        injector = self.faults.runbook_injector(runbook)
        injected = await self.faults.inject(injector.request.id, runbook=runbook.id)
        if injected is None:
            return RunbookOutcome("failed", "see fault.failed")
        return RunbookOutcome("ok", injected.detail or ", ".join(injected.targets))

    # ------------------------------------------------------------------ the run

    async def run(self) -> Outcome:
        """Run the drill to its end or abort; raises RevertError when a revert failed."""
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self._on_signal, sig)
        identity = self._write_pid()
        take_request(self.log.drill_dir)  # a leftover from an abort that found nobody
        try:
            outcome = await self._run()
        finally:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)
            remove_identity(self.log.drill_dir, identity)
        if outcome.revert_failures:
            raise RevertError(
                "revert failed for "
                + ", ".join(outcome.revert_failures)
                + f": the environment may be left broken; see {self.log.path}"
            )
        return outcome

    async def _run(self) -> Outcome:
        start = self.options.resume_at or 0.0
        self.faults.build()
        self.probes.build()
        try:
            started = await self._start_services()
            await self.load.start(abort=self._aborted)
        except KunrenError as exc:
            # Nothing was injected yet: record a drill that ended as it began, and why
            # (a stop signal during a ready wait is an abort, not a failure to start).
            await self.load.stop()
            await self._stop_services(record=False)
            self.clock.rezero()
            self._record_start()
            reason = self._abort_reason or f"could not start: {exc}"
            self.record(DrillAborted(reason=reason))
            return Outcome("aborted", reason)
        try:
            self.clock.rezero()  # drill time 0 (or the resume time) is when all is ready
            self._record_start()
            for event in started:
                self.record(event)
            for service in self.services.values():
                service.watch(self._service_exited)
            await self.load.resume_stage(self.options.resume_at)
            await self.faults.setup_all()
            await self._start_web()
            self._tasks = self.probes.tasks(start, self.scenario.duration)
            self._tasks += self.load.tasks(self.scenario.duration)
            await self._run_steps(start)
        except KunrenError as exc:
            self.abort(f"error: {exc}")
        except asyncio.CancelledError:
            self.abort("cancelled")
        return await self._finish()

    def _record_start(self) -> None:
        if self.options.resume_at is None:
            self.record(
                DrillStarted(
                    drill=self.options.drill_id,
                    scenario_id=self.scenario.id,
                    title=self.scenario.title,
                    duration=self.scenario.duration,
                    clock=self.options.clock_kind,
                    speed=self.options.speed,
                ),
                at=0.0,
            )
        else:
            self.record(DrillResumed())

    async def _run_steps(self, start: float) -> None:
        due = [
            step
            for step in self.schedule
            if step.key not in self.options.done_keys
            and (step.at >= start or self._still_due(step, start))
        ]
        for index, step in enumerate(due):
            self.next_step = step
            if await self._wait_until(step.at):
                return  # aborted
            if step.kind is StepKind.END:
                return
            self.next_step = due[index + 1] if index + 1 < len(due) else None
            await self._fire(step)
        self.next_step = None

    def _still_due(self, step: Step, now: float) -> bool:
        """On resume, a step whose time passed while the conductor was down."""
        if step.kind is StepKind.FAULT and step.fault is not None and step.fault.for_:
            return step.fault.at + step.fault.for_ > now
        return step.kind in (StepKind.FAULT, StepKind.INJECT, StepKind.LOAD, StepKind.REVERT)

    async def _wait_until(self, at: float) -> bool:
        """Sleep on the drill clock until ``at``; True if an abort came first."""
        if self._aborted.is_set():
            return True
        sleeper = asyncio.create_task(self.clock.sleep_until(at))
        aborted = asyncio.create_task(self._aborted.wait())
        done, pending = await asyncio.wait({sleeper, aborted}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        return aborted in done

    async def _fire(self, step: Step) -> None:
        if step.kind is StepKind.FAULT and step.fault is not None:
            until = step.fault.at + step.fault.for_ if step.fault.for_ else None
            await self.faults.inject(step.fault.id, until=until)
        elif step.kind is StepKind.REVERT and step.fault is not None:
            if not await self.faults.revert(step.fault.id):
                self.record(Note(text=f"revert of {step.fault.id} failed; will retry at the end"))
        elif step.kind is StepKind.INJECT and step.inject is not None:
            inject = step.inject
            until = inject.at + inject.for_ if inject.for_ is not None else None
            self.record(
                Inject(
                    kind=inject.kind,
                    text=inject.text,
                    who=inject.who,
                    to=list(inject.to),
                    until=until,
                )
            )
        elif step.kind is StepKind.LOAD and step.stage is not None:
            await self.load.set_stage(step.stage.users, step.stage.spawn_rate)
        elif step.kind is StepKind.SIMULATED and step.mark is not None:
            mark = step.mark
            self.record(
                Milestone(
                    name=mark.milestone, actor=mark.person, role=mark.role, source="simulated"
                )
            )

    # ------------------------------------------------------------------ services

    async def _start_services(self) -> list[ServiceStarted]:
        """Start every service and wait until ready; recorded once the drill has started."""
        started = []
        for name, spec in self.scenario.services.items():
            service = ManagedService(name, spec, self.loaded.dir, self.log.drill_dir / "services")
            self.services[name] = service
            self.ctx.services[name] = service
            with self.clock.busy():
                pid = await service.start(abort=self._aborted)
            started.append(ServiceStarted(name=name, pid=pid, command=service.command))
        return started

    def _service_exited(self, name: str, code: int) -> None:
        self.record(ServiceExited(name=name, code=code))

    async def _stop_services(self, record: bool = True) -> None:
        for name, service in reversed(list(self.services.items())):
            with self.clock.busy():
                result = await service.stop()
            if not record or not result.signalled:
                continue
            if result.ok:
                self.record(ServiceStopped(name=name, detail=result.detail))
            else:
                self.record(Note(text=f"service {name}: {result.detail}; stop it by hand"))

    # ------------------------------------------------------------------ web

    async def _start_web(self) -> None:
        if self.options.web is None:
            return
        from kunren.drills.serving import start_web

        self.web = await start_web(self, self.options.web)

    async def _stop_web(self) -> None:
        if self.web is not None:
            web, self.web = self.web, None
            await web.stop()

    # ------------------------------------------------------------------ the end

    async def _finish(self) -> Outcome:
        self.next_step = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, KunrenError):
                await task
        failures = await self.faults.revert_all()
        await self.load.stop()
        await self._stop_web()
        await self.probes.close()
        await self.faults.close_all()
        await self._stop_services()
        if self._abort_reason is not None:
            self.record(DrillAborted(reason=self._abort_reason))
            return Outcome("aborted", self._abort_reason, failures)
        self.record(DrillEnded())
        return Outcome("ended", "duration reached", failures)

    # ------------------------------------------------------------------ pid file

    def _write_pid(self) -> ConductorIdentity:
        """pid, start time and drill id: see kunren.drills.identity for why all three."""
        identity = this_process(self.options.drill_id)
        write_identity(self.log.drill_dir, identity)
        return identity
