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
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, assert_never

from kunren.drills.faults import FaultManager
from kunren.drills.loading import LoadRun
from kunren.drills.probing import ProbeRunner
from kunren.drills.schedule import (
    EndStep,
    FaultStep,
    InjectStep,
    LoadStep,
    RevertStep,
    SimulatedStep,
    Step,
    build_schedule,
    current_step,
    pending_steps,
    producing,
)
from kunren.drills.services import ManagedService
from kunren.errors import KunrenError, RevertError
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
    ServiceStarted,
    ServiceStopped,
)
from kunren.record.recorder import Recorder
from kunren.runtime.clock import Clock, ClockKind
from kunren.runtime.context import drill_context
from kunren.scenarios.loader import LoadedScenario

if TYPE_CHECKING:
    from kunren.drills.serving import RunningIntake, ServedDrill
    from kunren.notify import NoticeService
    from kunren.page import RunningServer, WebOptions

PID_FILE = "conductor.pid"
RunbookResult = Literal["ok", "failed", "refused"]
Observer = Callable[[Event, "Conductor"], None]


@dataclass
class ConductorOptions:
    drill_id: str
    clock_kind: ClockKind = "real"
    speed: float = 1.0
    profile: str | None = None
    seed: int = 0
    resume_at: float | None = None  # set by `kunren resume`
    done_keys: frozenset[str] = frozenset()  # steps the record shows done (resume)
    web: WebOptions | None = None  # serve the participant page, there


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
        self.services: dict[str, ManagedService] = {}
        self.ctx = drill_context(
            loaded,
            clock=clock,
            drill_dir=log.drill_dir,
            profile=options.profile,
            seed=options.seed,
            services=self.services,
        )
        self.faults = FaultManager(self.ctx, self.record)
        self.probes = ProbeRunner(self.ctx, self.record, self.abort)
        self.schedule: list[Step] = build_schedule(self.scenario)
        self.next_step: Step | None = None
        self.load = LoadRun(self.ctx, self.scenario.load, self.record)
        self.web: RunningServer | None = None
        self.intake: RunningIntake | None = None  # the alert intake on its own port (``intake``)
        self._abort_reason: str | None = None
        self._aborted = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # ------------------------------------------------------------------ recording

    def record(self, event: Event, at: float | None = None) -> Event:
        """Record ``event``; while a step fires, it carries the step's key (``step``)."""
        step = current_step()
        if step is not None and event.step is None:
            event = event.model_copy(update={"step": step})
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

    @property
    def aborting(self) -> bool:
        return self._abort_reason is not None

    async def run_runbook(self, runbook_id: str, actor: str, role: str) -> Runbook:
        """A participant's runbook: act through its injector, record the result."""
        runbook = self.scenario.runbook(runbook_id)
        if runbook is None:
            return self._runbook_event(runbook_id, actor, role, "refused", "unknown runbook")
        if runbook.roles and role not in runbook.roles:
            return self._runbook_event(
                runbook_id, actor, role, "refused", f"role {role} may not run it"
            )
        try:
            injector = self.faults.runbook_injector(runbook)
            injected = await self.faults.inject(injector.request.id, runbook=runbook_id)
        except KunrenError as exc:
            return self._runbook_event(runbook_id, actor, role, "failed", str(exc))
        if injected is None:
            return self._runbook_event(runbook_id, actor, role, "failed", "see fault.failed")
        detail = injected.detail or ", ".join(injected.targets)
        return self._runbook_event(runbook_id, actor, role, "ok", detail)

    def _runbook_event(
        self, runbook_id: str, actor: str, role: str, result: RunbookResult, detail: str
    ) -> Runbook:
        event = Runbook(runbook=runbook_id, actor=actor, role=role, result=result, detail=detail)
        written = self.record(event)
        assert isinstance(written, Runbook)
        return written

    # ------------------------------------------------------------------ the run

    async def run(self) -> Outcome:
        """Run the drill to its end or abort; raises RevertError when a revert failed."""
        self._write_pid()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.abort, f"{signal.Signals(sig).name} received")
        try:
            outcome = await self._run()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            self._remove_pid()
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
            await self._start_intake()  # monitoring may post while services start
            started = await self._start_services()
            await self.load.start()
        except KunrenError as exc:
            # Nothing was injected yet: record a drill that ended as it began, and why.
            await self.load.stop()
            await self._stop_services(record=False)
            self.clock.rezero()
            self._record_start()
            self.record(DrillAborted(reason=f"could not start: {exc}"))
            await self._stop_intake()
            return Outcome("aborted", f"could not start: {exc}")
        try:
            self.clock.rezero()  # drill time 0 (or the resume time) is when all is ready
            self._record_start()
            if self.intake is not None:
                self.intake.release()  # alerts held until now, at their arrival times
            for event in started:
                self.record(event)
            due = pending_steps(self.schedule, self.options.done_keys, start)
            if not any(isinstance(step, LoadStep) and step.at <= start for step in due):
                # the stage in effect was fired before the crash: the new load starts from it
                await self.load.resume_stage(self.options.resume_at)
            await self.faults.setup_all()
            await self._start_web()
            self._tasks = self.probes.tasks(start, self.scenario.duration)
            self._tasks += self.load.tasks(self.scenario.duration)
            await self._run_steps(due)
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
            self.record(DrillResumed(speed=self.options.speed if self.options.speed else None))

    async def _run_steps(self, due: list[Step]) -> None:
        """Fire ``due`` in order, each at its drill time (late ones at once), until the end."""
        for index, step in enumerate(due):
            self.next_step = step
            if await self._wait_until(step.at):
                return  # aborted
            if isinstance(step, EndStep):
                return
            self.next_step = due[index + 1] if index + 1 < len(due) else None
            with producing(step):
                await self._fire(step)
        self.next_step = None

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
        match step:
            case FaultStep(fault=fault):
                await self.faults.inject(fault.id, until=step.until)
            case RevertStep(fault=fault):
                if not await self.faults.revert(fault.id):
                    self.record(Note(text=f"revert of {fault.id} failed; will retry at the end"))
            case InjectStep(inject=inject):
                self.record(
                    Inject(
                        kind=inject.kind,
                        text=inject.text,
                        who=inject.who,
                        to=list(inject.to),
                        until=step.until,
                    )
                )
            case LoadStep(stage=stage):
                await self.load.set_stage(stage.users, stage.spawn_rate)
            case SimulatedStep(mark=mark):
                self.record(
                    Milestone(
                        name=mark.milestone, actor=mark.person, role=mark.role, source="simulated"
                    )
                )
            case EndStep():
                pass  # the run loop stops before it: the finish path ends the drill
            case _:
                assert_never(step)

    # ------------------------------------------------------------------ services

    async def _start_services(self) -> list[ServiceStarted]:
        """Start every service and wait until ready; recorded once the drill has started."""
        started = []
        for name, spec in self.scenario.services.items():
            service = ManagedService(name, spec, self.loaded.dir, self.log.drill_dir / "services")
            self.services[name] = service  # plugins see it through ctx.services
            with self.clock.busy():
                pid = await service.start()
            started.append(ServiceStarted(name=name, pid=pid, command=service.command))
        return started

    async def _stop_services(self, record: bool = True) -> None:
        for name, service in reversed(list(self.services.items())):
            if service.pid is None:
                continue
            with self.clock.busy():
                await service.stop()
            if record:
                self.record(ServiceStopped(name=name))

    # ------------------------------------------------------------------ web

    async def _start_web(self) -> None:
        if self.options.web is None:
            return
        from kunren.drills.serving import start_web

        self.web = await start_web(self.served(self.options.web.live_notices), self.options.web)

    def served(self, live_notices: bool = False) -> ServedDrill:
        """What the participant page may use of this drill: no more than it needs."""
        from kunren.drills.serving import ServedDrill

        return ServedDrill(
            scenario=self.scenario,
            drill_id=self.options.drill_id,
            drill_dir=self.log.drill_dir,
            scenario_dir=self.ctx.scenario_dir,
            clock=self.clock,
            record=self.record,
            run_runbook=self.run_runbook,
            abort=self.abort,
            notices=self._notices(live_notices),
        )

    def _notices(self, live: bool) -> NoticeService | None:
        if self.scenario.notifications is None:
            return None
        from kunren.notify import NoticeService  # templates, audiences: only when used

        return NoticeService(self.ctx, self.recorder, live=live)

    async def _stop_web(self) -> None:
        if self.web is not None:
            web, self.web = self.web, None
            await web.stop()

    async def _start_intake(self) -> None:
        if self.options.web is None:
            return
        from kunren.drills.serving import start_intake

        self.intake = await start_intake(self.served(), self.options.web)

    async def _stop_intake(self) -> None:
        if self.intake is not None:
            intake, self.intake = self.intake, None
            await intake.stop()

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
        await self._stop_intake()
        await self.probes.close()
        await self.faults.close_all()
        await self._stop_services()
        if self._abort_reason is not None:
            self.record(DrillAborted(reason=self._abort_reason))
            return Outcome("aborted", self._abort_reason, failures)
        self.record(DrillEnded())
        return Outcome("ended", "duration reached", failures)

    # ------------------------------------------------------------------ pid file

    def _write_pid(self) -> None:
        (self.log.drill_dir / PID_FILE).write_text(f"{os.getpid()}\n", encoding="utf-8")

    def _remove_pid(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.log.drill_dir / PID_FILE).unlink()
