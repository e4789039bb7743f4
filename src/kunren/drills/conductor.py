"""The conductor: runs one drill on one clock, in one asyncio loop.

It starts the scenario's services, fires every scheduled step (faults, load stages, injects,
simulated people, the drill end) at its drill time, runs the probes, holds the stop
conditions, serves the participant page when asked, and at the end (or on abort) reverts every
fault still active, stops load and services, and records how the drill ended. Each concern
lives in its own module (faults, probing, service_set, web, schedule); this one only
orchestrates.

Whatever ends the run, the finish path (``kunren.drills.finish``) undoes what was brought up;
plugin code is called only through ``kunren.runtime.seam``; and the record is written through a
``GuardedRecorder``, so a disk that fills up stops the drill and everything is still reverted
from memory, with the user told what the record is missing (exit code 5).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, assert_never

from kunren.drills.abort_request import take_request
from kunren.drills.faults import FaultManager, note
from kunren.drills.finish import FinishPath, finish_error
from kunren.drills.identity import PID_FILE as PID_FILE
from kunren.drills.identity import (
    ConductorIdentity,
    mark_record_lost,
    remove_identity,
    this_process,
    write_identity,
)
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
from kunren.drills.service_set import ServiceSet
from kunren.drills.web import DrillWeb
from kunren.errors import KunrenError, RecordWriteError, reason
from kunren.record.eventlog import EventLog, write_error
from kunren.record.events import (
    DrillAborted,
    DrillEnded,
    DrillResumed,
    DrillStarted,
    Event,
    Inject,
    Milestone,
    Note,
    ParticipantJoined,
    Runbook,
    ServiceStarted,
)
from kunren.record.guarded import GuardedRecorder
from kunren.record.recorder import Recorder
from kunren.runtime.clock import Clock, ClockKind
from kunren.runtime.context import drill_context
from kunren.scenarios.loader import LoadedScenario
from kunren.scenarios.models import RunbookSpec

if TYPE_CHECKING:
    from kunren.drills.services import ManagedService
    from kunren.drills.serving import ServedDrill
    from kunren.notify import NoticeService
    from kunren.page import WebOptions
    from kunren.page.control import RunbookOutcome

# SIGHUP too: a closed terminal or ssh session must revert like Ctrl-C, not kill the drill.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
Observer = Callable[[Event, "Conductor"], None]


@dataclass
class ConductorOptions:
    drill_id: str
    clock_kind: ClockKind = "real"
    speed: float = 1.0
    profile: str | None = None
    seed: int = 0
    simulate: bool = True  # False: --no-simulate, recorded in drill.started for resume
    resume_at: float | None = None  # set by `kunren resume`
    done_keys: frozenset[str] = frozenset()  # steps the record shows done (resume)
    web: WebOptions | None = None  # serve the participant page, there


@dataclass
class Outcome:
    status: str  # ended | aborted
    reason: str
    revert_failures: list[str] = field(default_factory=list)
    finish_failures: list[str] = field(default_factory=list)  # undo steps that raised


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
        # goes through this recorder, so the console and the milestone list see it all. A
        # write that fails aborts the drill; the finish path then reverts from memory.
        log.set_aside_torn = True  # a torn tail another writer left must not stop the drill
        self.guard = GuardedRecorder(log, clock, self._observe, self._record_lost)
        self.recorder: Recorder = self.guard
        self.service_set = ServiceSet(
            self.scenario.services,
            loaded.dir,
            log.drill_dir,
            clock,
            self.record,
            lambda: self._recording,
        )
        self.services: dict[str, ManagedService] = self.service_set.running
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
        self.web = DrillWeb(options.web, self.served, clock)  # the page and the intake
        self._abort_reason: str | None = None
        self._aborted = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None  # set by run()
        self._observing = threading.Lock()  # the page records from its writer threads
        self._tasks: list[asyncio.Task[None]] = []
        self._recording = False  # drill.started (or resumed) is recorded

    # ------------------------------------------------------------------ recording

    def record(self, event: Event, at: float | None = None) -> Event:
        """Record ``event``; while a step fires, it carries the step's key (``step``)."""
        if isinstance(event, ParticipantJoined):
            self.web.joined = True
        step = current_step()
        if step is not None and event.step is None:
            event = event.model_copy(update={"step": step})
        return self.recorder.record(event, at)

    def _observe(self, written: Event) -> None:
        if self.observer is not None:
            with self._observing:  # one console line at a time, whichever thread wrote
                self.observer(written, self)

    def _record_lost(self, error: RecordWriteError) -> None:
        self.abort(f"the record cannot be written: {error.message}")

    # ------------------------------------------------------------------ control

    def abort(self, reason: str) -> None:
        """Stop the drill: revert, stop load and services, record drill.aborted."""
        if self._abort_reason is None:
            self._abort_reason = reason
        loop = self._loop
        if loop is not None and not _on(loop):  # a page writer thread met a full disk
            loop.call_soon_threadsafe(self._aborted.set)
        else:
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
        # Only a participant on the page runs a runbook: a drill without the page never
        # imports kunren.page (its options, tokens and server: ~5 ms of a tiny run).
        from kunren.page.control import perform_runbook

        return await perform_runbook(
            self.scenario, runbook_id, actor, role, self._runbook_action, self.record
        )

    async def _runbook_action(self, runbook: RunbookSpec) -> RunbookOutcome:
        from kunren.page.control import RunbookOutcome

        injector = self.faults.runbook_injector(runbook)
        injected = await self.faults.inject(injector.request.id, runbook=runbook.id)
        if injected is None:
            return RunbookOutcome("failed", "see fault.failed")
        return RunbookOutcome("ok", injected.detail or ", ".join(injected.targets))

    # ------------------------------------------------------------------ the run

    async def run(self) -> Outcome:
        """Run the drill to its end or abort.

        Raises ``RevertError`` when a revert failed and ``RecordWriteError`` when the record
        could not be written (after reverting from memory), each saying what to check.
        """
        try:
            identity = self._write_pid()
        except OSError as exc:  # a full disk before anything started: nothing to undo
            raise write_error(self.log.drill_dir / PID_FILE, exc) from exc
        loop = self._loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self._on_signal, sig)
        take_request(self.log.drill_dir)  # a leftover from an abort that found nobody
        try:
            outcome = await self._run()
        finally:
            await self.web.stop_page_after_the_end()
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)
            if self.guard.lost is None or not mark_record_lost(self.log.drill_dir, identity):
                remove_identity(self.log.drill_dir, identity)
        self._raise_for(outcome)
        return outcome

    def _raise_for(self, outcome: Outcome) -> None:
        error = finish_error(
            outcome.revert_failures,
            self.guard,
            self.faults.reverts,
            self.stopped_services,
            self.log.drill_dir,
        )
        if error is not None:
            raise error

    async def _run(self) -> Outcome:
        """Bring the drill up, run its steps, and leave through the finish path, always."""
        start = self.options.resume_at or 0.0
        self.faults.build()
        self.probes.build()
        could_not_start: str | None = None
        async with FinishPath() as finish:
            try:
                started = await self._bring_up(finish)
            except Exception as exc:  # startup failed: nothing was injected yet
                could_not_start = reason(exc)
            else:
                try:
                    due = await self._begin(finish, start, started)
                    await self._run_steps(due)
                except KunrenError as exc:
                    self.abort(f"error: {exc}")
                except asyncio.CancelledError:
                    self.abort("cancelled")
                except Exception as exc:  # our own bug must still leave through the finish
                    self.abort(f"error: {reason(exc)}")
            self.next_step = None
        return self._close_record(finish, could_not_start)

    async def _bring_up(self, finish: FinishPath) -> list[ServiceStarted]:
        """The intake, services and load, each undo pushed as soon as it is up."""
        finish.push("stopping the alert intake", self.web.stop_intake)
        await self.web.start_intake()  # monitoring may post while services start
        started = await self.service_set.start_all(finish.push, self._aborted)
        finish.push("stopping load", self.load.stop)
        await self.load.start(abort=self._aborted)
        return started

    async def _begin(
        self, finish: FinishPath, start: float, started: list[ServiceStarted]
    ) -> list[Step]:
        """Drill time 0 (or the resume time), then everything that runs beside the steps;
        returns the steps still due."""
        self.clock.rezero()  # drill time 0 (or the resume time) is when all is ready
        self._record_start()
        self.web.release_intake()
        for event in started:
            self.record(event)
        self.service_set.watch_all()
        due = pending_steps(self.schedule, self.options.done_keys, start)
        if not any(isinstance(step, LoadStep) and step.at <= start for step in due):
            # the stage in effect was fired before the crash: the new load starts from it
            await self.load.resume_stage(self.options.resume_at)
        finish.push("closing probes", self.probes.close)
        finish.push("closing injectors", self.faults.close_all)
        finish.push("reverting faults", self.faults.revert_all)
        await self.faults.setup_all()
        await self.web.start_page()  # stopped after the end is recorded (run), so pages see it
        finish.push("stopping background tasks", self._cancel_tasks)
        self._tasks = self.probes.tasks(start, self.scenario.duration)
        self._tasks += self.load.tasks(self.scenario.duration)
        return due

    def _close_record(self, finish: FinishPath, could_not_start: str | None) -> Outcome:
        """The last event: how the drill ended (kept aside if the record cannot be written)."""
        failures = [*self.faults.reverts.failed, *(f"service {n}" for n in self.unstopped)]
        if could_not_start is not None:
            # a stop signal during a ready wait is an abort, not a failure to start
            reason = self._abort_reason or f"could not start: {could_not_start}"
            if not self._recording:  # a drill that ended as it began, and why
                with contextlib.suppress(KunrenError):
                    self.clock.rezero()
                    self._record_start()
            note(self.record, DrillAborted(reason=reason))
            return Outcome("aborted", reason, failures, finish.failures)
        for failure in finish.failures:
            note(self.record, Note(text=f"finishing the drill: {failure}"))
        if self._abort_reason is not None:
            note(self.record, DrillAborted(reason=self._abort_reason))
            return Outcome("aborted", self._abort_reason, failures, finish.failures)
        note(self.record, DrillEnded())
        return Outcome("ended", "duration reached", failures, finish.failures)

    @property
    def stopped_services(self) -> list[str]:
        return self.service_set.stopped

    @property
    def unstopped(self) -> list[str]:
        """Services still running after SIGKILL."""
        return self.service_set.unstopped

    async def _cancel_tasks(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _record_start(self) -> None:
        self._recording = True
        if self.options.resume_at is None:
            self.record(
                DrillStarted(
                    drill=self.options.drill_id,
                    scenario_id=self.scenario.id,
                    title=self.scenario.title,
                    duration=self.scenario.duration,
                    clock=self.options.clock_kind,
                    speed=self.options.speed,
                    simulate=self.options.simulate,
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

    # ------------------------------------------------------------------ web

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

    # ------------------------------------------------------------------ pid file

    def _write_pid(self) -> ConductorIdentity:
        """pid, start time and drill id: see kunren.drills.identity for why all three."""
        identity = this_process(self.options.drill_id)
        write_identity(self.log.drill_dir, identity)
        return identity


def _on(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether this thread is running ``loop`` (an ``asyncio.Event`` is set only from it)."""
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False
